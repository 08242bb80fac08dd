"""The depth-boundary errors of iBims-1: how close the predicted depth edges lie to the true ones, in pixels.

iBims-1: Koch et al., "Evaluation of CNN-based Single-Image Depth Estimation Methods", ECCV Workshops 2018. The
definition and every constant follow the official iBims-1 evaluation code (Tobias Koch,
``evaluate_ibims_error_metrics.py``, ``compute_depth_boundary_error``; the release that also computes the
distance-related errors). Per image:

1. **Normalisation.** The depth map is shifted and scaled to [0, 1] over its valid pixels (``d - min``, then
   ``/ max``, in float32, as the official ``pred_normalized``).
2. **Edges.** Canny edge detection (``skimage.feature.canny``) with ``sigma = sqrt(2)`` pixels, hysteresis
   thresholds **0.15** (low) and **0.3** (high) on the Sobel gradient magnitude of the normalised map. Earlier
   copies of the script (v0.9) used 0.1 and 0.2. :func:`canny_edges` is an implementation of that detector
   (Gaussian smoothing with the mask's bleed-over compensation, Sobel gradients, bilinear non-maximum
   suppression, hysteresis with 8-connected components), checked against scikit-image in the tests.
3. **Distances.** ``D_gt`` and ``D_pred`` are the Euclidean distance transforms (pixels) to the nearest
   ground-truth and predicted edge pixel.
4. **Accuracy** ``dbe_acc``: the mean of ``D_gt`` over the predicted edge pixels closer than **10 pixels**
   (``max_dist_thr = 10``, strict ``<``) to a ground-truth edge: the directed chamfer distance of the prediction's
   edges to the true ones, truncated to a local neighbourhood.
5. **Completeness** ``dbe_comp``: ``(sum over predicted edges of min(D_gt, 10) + sum over true edges of
   min(D_pred, 10)) / (number of predicted + number of true edge pixels)``: both directed chamfer distances, each
   truncated at 10 pixels, pooled. (The ECCV-W paper and the v0.9 script use only the second term, untruncated:
   the distance from the true edges to the predicted ones. The two agree on a shifted edge, which scores its
   shift either way.)
6. **Degenerate cases** (official): an image whose ground truth has no edge gets no value (it is skipped, as
   ``np.nanmean`` skips its NaN); a prediction with no edge within 10 pixels of a true edge gets the maximum,
   10, for both errors.

iBims-1 annotates its ground-truth edges by hand; datasets without such annotations (NYU, the synthetic rooms)
take the edges of the ground-truth depth, found exactly as those of the prediction (steps 1-2). Pixels without
valid ground truth take no part: both maps are smoothed with the same validity mask (scikit-image's masked
Canny) and their edges are looked for only inside it. That needs dense ground truth: an image with less than
:data:`MIN_VALID_FRACTION` valid pixels (KITTI's projected LiDAR has about 15-30 %) raises an error.

Distances are in pixels of the ground truth given to the metric (iBims-1: 480x640).

A wall 2 m away with a step to 4 m along column 20, and a prediction that puts the step 3 pixels to the right:

>>> import numpy as np
>>> columns = np.arange(40)
>>> target = np.tile(np.interp(columns, [19, 21], [2.0, 4.0]), (30, 1))
>>> pred = np.tile(np.interp(columns, [22, 24], [2.0, 4.0]), (30, 1))
>>> boundary_errors(pred, target)
(3.0, 3.0)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

# Constants of the official iBims-1 evaluation code (compute_depth_boundary_error).
CANNY_SIGMA = math.sqrt(2.0)
"""Standard deviation (pixels) of Canny's Gaussian smoothing: ``sigma=np.sqrt(2)``."""
CANNY_LOW = 0.15
"""Canny's low hysteresis threshold on the gradient magnitude of the [0, 1]-normalised depth (v0.9: 0.1)."""
CANNY_HIGH = 0.3
"""Canny's high hysteresis threshold (v0.9: 0.2)."""
MAX_DISTANCE = 10.0
"""``max_dist_thr``: the local neighbourhood (pixels) of the accuracy and the truncation of the completeness."""

# depthzoo's own constants (iBims-1 has dense, hand-annotated edges and no such tests).
MIN_VALID_FRACTION = 0.5
"""Least fraction of valid ground-truth pixels for an image to count as dense enough for depth edges."""
FLAT_RANGE = 1e-5
"""A depth map whose range is below this fraction of its magnitude (10 micrometres at 1 m) is flat: no edges."""

_TRUNCATE = 4.0  # scipy's (and scikit-image's) Gaussian kernel radius, in standard deviations


def normalize_depth(depth: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``depth`` shifted and scaled to [0, 1] over the pixels of ``mask`` (float32, as iBims-1).

    A constant map becomes all zeros (iBims-1 would divide 0 by 0 and find no edge in the NaNs; the result, no edge,
    is the same). So does a map whose range is below :data:`FLAT_RANGE` of its largest magnitude: such differences
    are float rounding (a constant resized bilinearly is no longer exactly constant), which scaling to [0, 1] would
    blow up into edges.

    Args:
        depth: (H, W) depth map.
        mask: (H, W) bool, the pixels whose minimum and maximum define the range; default all.
    """
    values = np.asarray(depth, dtype=np.float32)
    selected = values if mask is None else values[mask]
    if selected.size == 0:
        return np.zeros_like(values)
    low, top = selected.min(), selected.max()
    high = top - low
    if not high > FLAT_RANGE * max(abs(float(low)), abs(float(top))):
        return np.zeros_like(values)
    return (values - low) / high


def canny_edges(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    sigma: float = CANNY_SIGMA,
    low_threshold: float = CANNY_LOW,
    high_threshold: float = CANNY_HIGH,
) -> np.ndarray:
    """Canny edges of a float image, as ``skimage.feature.canny(image, sigma, low, high, mask)`` finds them.

    1. Gaussian smoothing (``truncate=4``, zero beyond the border and outside ``mask``), divided by the smoothed
       mask, so neither the border nor masked pixels pull the values down;
    2. Sobel gradients along rows and columns, and their magnitude;
    3. non-maximum suppression: a pixel is kept if its magnitude is at least ``low_threshold`` and at least the
       magnitudes bilinearly interpolated one step forward and one step back along its gradient; the image border
       and pixels next to masked ones never count (the mask eroded by a 3x3 square, with zero outside);
    4. hysteresis: kept pixels form 8-connected components, and a component is an edge if one of its pixels
       reaches ``high_threshold``.

    Args:
        image: (H, W) float image (computed in float32).
        mask: (H, W) bool, the pixels to use; default all.
        sigma: Gaussian standard deviation in pixels.
        low_threshold: hysteresis low threshold on the gradient magnitude.
        high_threshold: hysteresis high threshold.

    Returns:
        (H, W) bool edge map.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"expected a (H, W) image, got shape {image.shape}")
    if not low_threshold <= high_threshold:
        raise ValueError(f"low_threshold {low_threshold} must not exceed high_threshold {high_threshold}")
    valid = np.ones(image.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    full = bool(valid.all())
    smoothed = _masked_gaussian(image, valid, sigma, full)
    isobel = ndimage.sobel(smoothed, axis=0)  # derivative along rows
    jsobel = ndimage.sobel(smoothed, axis=1)  # along columns
    magnitude = np.sqrt(isobel * isobel + jsobel * jsobel)
    if full:  # the border, which a 3x3 erosion with zero outside removes
        eroded = np.zeros(valid.shape, dtype=bool)
        eroded[1:-1, 1:-1] = True
    else:
        eroded = ndimage.binary_erosion(valid, np.ones((3, 3), dtype=bool), border_value=0)
    candidates = _local_maxima(isobel, jsobel, magnitude, eroded & (magnitude >= low_threshold))
    labels, count = ndimage.label(candidates, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return candidates
    strong = np.zeros(count + 1, dtype=bool)
    strong[np.unique(labels[candidates & (magnitude >= high_threshold)])] = True
    strong[0] = False
    return strong[labels]


def _masked_gaussian(image: np.ndarray, mask: np.ndarray, sigma: float, full: bool) -> np.ndarray:
    """Gaussian smoothing of ``image`` over ``mask`` only, normalised by the smoothed mask (float32).

    A ``full`` mask smooths to the outer product of two smoothed lines of ones: the same values, one 2-D filter less.
    """
    options = {"mode": "constant", "truncate": _TRUNCATE}
    if full:
        smoothed = ndimage.gaussian_filter(image, sigma, **options)
        rows = ndimage.gaussian_filter1d(np.ones(image.shape[0], dtype=np.float32), sigma, **options)
        cols = ndimage.gaussian_filter1d(np.ones(image.shape[1], dtype=np.float32), sigma, **options)
        coverage = rows[:, None] * cols[None, :]
    else:
        smoothed = ndimage.gaussian_filter(np.where(mask, image, np.float32(0)), sigma, **options)
        coverage = ndimage.gaussian_filter(mask.astype(np.float32), sigma, **options)
    return smoothed / (coverage + np.finfo(np.float32).eps)


def _local_maxima(isobel: np.ndarray, jsobel: np.ndarray, magnitude: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``candidates`` whose magnitude is >= both bilinear interpolations one step along +- the gradient direction.

    With |gi| > |gj| the step is one row (to row x +- 1) and a fraction w = |gj| / |gi| of a column, toward the
    column on the gradient's side; otherwise one column and a fraction |gi| / |gj| of a row. Only the candidate
    pixels are looked at (the others are rarely more than a few percent); the border reads zero padding.
    """
    rows, cols = np.nonzero(candidates)
    padded = np.pad(magnitude.astype(np.float64), 1)
    rows, cols = rows + 1, cols + 1  # in the padded map
    gi, gj = isobel[candidates].astype(np.float64), jsobel[candidates].astype(np.float64)
    centre = padded[rows, cols]
    abs_i, abs_j = np.abs(gi), np.abs(gj)
    # +1 where the row and column components share a sign (a zero component shares either sign).
    side = np.where(((gi >= 0) & (gj >= 0)) | ((gi <= 0) & (gj <= 0)), 1, -1)
    rows_major = abs_i > abs_j
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.nan_to_num(np.where(rows_major, abs_j / abs_i, abs_i / abs_j))
    # rows_major: forward (x+1, y) and (x+1, y+side), backward (x-1, y) and (x-1, y-side);
    # otherwise:  forward (x, y+1) and (x+side, y+1), backward (x, y-1) and (x-side, y-1).
    step_r = np.where(rows_major, 1, 0)
    step_c = 1 - step_r
    diag_r = np.where(rows_major, 1, side)
    diag_c = np.where(rows_major, side, 1)
    local = np.zeros(magnitude.shape, dtype=bool)
    keep = np.ones(rows.shape, dtype=bool)
    for sign in (1, -1):
        straight = padded[rows + sign * step_r, cols + sign * step_c]
        diagonal = padded[rows + sign * diag_r, cols + sign * diag_c]
        keep &= diagonal * weight + straight * (1 - weight) <= centre
    local[rows[keep] - 1, cols[keep] - 1] = True
    return local


def depth_edges(depth: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The iBims-1 depth edges of a depth map: Canny (sigma sqrt(2), thresholds 0.15 / 0.3) on its normalised form.

    Args:
        depth: (H, W) depth map in metres.
        mask: (H, W) bool, its valid pixels; default all.
    """
    return canny_edges(normalize_depth(depth, mask), mask)


def chamfer_errors(pred_edges: np.ndarray, target_edges: np.ndarray) -> tuple[float, float]:
    """(accuracy, completeness) of predicted edges against true edges, both bool (H, W) maps with true edges.

    See the module docstring (steps 3-6); the maximum, 10 pixels, for both when no predicted edge lies within 10
    pixels of a true one.
    """
    if not target_edges.any():
        raise ValueError("the ground truth has no edge pixel: the depth-boundary errors are undefined")
    to_target = ndimage.distance_transform_edt(~target_edges)
    near = pred_edges & (to_target < MAX_DISTANCE)
    if not near.any():
        return MAX_DISTANCE, MAX_DISTANCE
    accuracy = float(to_target[near].mean())
    to_pred = ndimage.distance_transform_edt(~pred_edges)
    truncated = np.minimum(to_target[pred_edges], MAX_DISTANCE), np.minimum(to_pred[target_edges], MAX_DISTANCE)
    total = truncated[0].sum() + truncated[1].sum()
    completeness = float(total / (pred_edges.sum() + target_edges.sum()))
    return accuracy, completeness


def boundary_errors(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float]:
    """iBims-1's (dbe_acc, dbe_comp) of one predicted depth map against its ground truth, in pixels.

    ``(nan, nan)`` when the ground truth has no depth edge (iBims-1 skips such images).

    Args:
        pred: (H, W) predicted depth.
        target: (H, W) ground-truth depth, dense.
        mask: (H, W) bool, the valid ground-truth pixels; default all.
    """
    target_edges = depth_edges(target, mask)
    if not target_edges.any():
        return math.nan, math.nan
    return chamfer_errors(depth_edges(pred, mask), target_edges)


__all__ = [
    "CANNY_HIGH",
    "CANNY_LOW",
    "CANNY_SIGMA",
    "MAX_DISTANCE",
    "FLAT_RANGE",
    "MIN_VALID_FRACTION",
    "boundary_errors",
    "canny_edges",
    "chamfer_errors",
    "depth_edges",
    "normalize_depth",
]
