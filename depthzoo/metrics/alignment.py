"""Per-image least-squares alignment of predictions to ground truth, for models known only up to scale (and shift).

Each function works on a batch of images (B, H, W) with a validity mask and returns one solution per image, solved
in float64 in closed form:

- :func:`fit_scale`: ``s = sum(p g) / sum(p^2)`` minimises ``sum((s p - g)^2)``;
- :func:`fit_scale_shift`: ``s = cov(p, g) / var(p)``, ``t = mean(g) - s mean(p)`` minimises
  ``sum((s p + t - g)^2)`` (the normal equations of MiDaS' ``compute_scale_and_shift``, solved centred, which keeps
  their precision when depths share a large offset).

Robust (least absolute deviation) fits of one image's pixels, as MoGe evaluates relative depth (weights ``1 / g``):

- :func:`fit_scale_l1`: the ``s`` minimising ``sum(w |s p - g|)``: the weighted median of ``g / p`` with weights
  ``w |p|``;
- :func:`fit_scale_shift_l1`: the ``(s, t)`` minimising ``sum(w |s p + t - g|)``. An optimum passes through two
  pixels, so it is found exactly: with each pixel in turn as the anchor, the best slope through it is a weighted
  median, and the anchor of least total deviation wins;
- :func:`masked_nearest_subset`: the pixels such fits use, one valid pixel per cell of a coarse grid (MoGe: 64x64).

Degenerate images get the least-squares solution of smallest scale: a constant prediction (or a single valid pixel)
gets ``s = 0, t = mean(g)``, an all-zero one ``s = 0``; images without a valid pixel get ``s = 1, t = 0``.

>>> p = torch.tensor([[[1.0, 2.0, 3.0]]], dtype=torch.float64)
>>> s, t = fit_scale_shift(p, 2 * p + 1, torch.ones(1, 1, 3, dtype=torch.bool))
>>> float(s[0]), float(t[0])
(2.0, 1.0)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

ALIGNMENTS: tuple[str, ...] = ("none", "median", "scale", "scale_shift", "scale_shift_disparity")
"""How :class:`~depthzoo.metrics.DepthMetrics` aligns each prediction to its ground truth before the metrics."""


_RELATIVE_SPREAD = 1e-9


def _masked_sums(values: Tensor, mask: Tensor) -> Tensor:
    return torch.where(mask, values, 0.0).sum(dim=(-2, -1))


def fit_scale(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per image, the scale ``s`` (B,) float64 minimising ``sum over mask of (s p - g)^2``."""
    p, g = pred.to(torch.float64), target.to(torch.float64)
    numerator, denominator = _masked_sums(p * g, mask), _masked_sums(p * p, mask)
    empty = mask.sum(dim=(-2, -1)) == 0
    scale = torch.where(denominator > 0, numerator / torch.where(denominator > 0, denominator, 1.0), 0.0)
    return torch.where(empty, 1.0, scale)


def fit_scale_shift(pred: Tensor, target: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Per image, ``(s, t)`` (B,) float64 minimising ``sum over mask of (s p + t - g)^2``."""
    p, g = pred.to(torch.float64), target.to(torch.float64)
    count = mask.sum(dim=(-2, -1)).to(torch.float64)
    safe_count = count.clamp(min=1.0)
    p_mean = _masked_sums(p, mask) / safe_count
    g_mean = _masked_sums(g, mask) / safe_count
    p_centred = p - p_mean[:, None, None]
    variance = _masked_sums(p_centred * p_centred, mask)
    covariance = _masked_sums(p_centred * (g - g_mean[:, None, None]), mask)
    # A spread below 1e-9 of the values' size is rounding of a constant (its mean is inexact), not signal.
    spread = variance > _RELATIVE_SPREAD**2 * _masked_sums(p * p, mask)
    scale = torch.where(spread, covariance / torch.where(spread, variance, 1.0), 0.0)
    shift = g_mean - scale * p_mean
    empty = count == 0
    return torch.where(empty, 1.0, scale), torch.where(empty, 0.0, shift)


def _weighted_median_ratio(x: Tensor, y: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """Per row, ``a`` minimising ``sum(w |a x - y|)`` (the lower weighted median of ``y / x``) and that minimum.

    Rows of (K, N) float64 tensors; ``w >= 0``. Pixels with ``x == 0`` do not depend on ``a`` and get no weight.
    """
    sign = torch.sign(x)
    x, y = x * sign, y * sign  # |a x - y| = |a |x| - y sign(x)|
    weight = w * x
    ratio = torch.where(x > 0, y / torch.where(x > 0, x, 1.0), 0.0)
    ratio, order = ratio.sort(dim=-1)
    cumulative = torch.gather(weight, -1, order).cumsum(dim=-1)
    half = cumulative[..., -1:] / 2
    position = torch.searchsorted(cumulative, half, side="left").clamp(max=x.shape[-1] - 1)
    a = ratio.gather(-1, position).squeeze(-1)
    loss = (w * (a[..., None] * x - y).abs()).sum(dim=-1)
    return a, loss


def fit_scale_l1(pred: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """The scale ``s`` (0-d float64) minimising ``sum(weight |s pred - target|)`` over 1-D pixel vectors."""
    x, y, w = (v.to(torch.float64).reshape(1, -1) for v in (pred, target, weight))
    if x.shape[-1] == 0:
        return torch.tensor(1.0, dtype=torch.float64)
    return _weighted_median_ratio(x, y, w)[0][0]


_L1_MAX_STEPS = 200


def fit_scale_shift_l1(pred: Tensor, target: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    """``(s, t)`` (0-d float64) minimising ``sum(weight |s pred + t - target|)`` over 1-D pixel vectors, exactly.

    A least-absolute-deviation line passes through two of the points. Wesolowsky's direct descent (1981) finds it: the
    best line through an anchor pixel ``j`` has the slope of the weighted median of ``(g_i - g_j) / (p_i - p_j)``
    (weights ``w_i |p_i - p_j|``) and passes through a second pixel ``k``; ``k`` becomes the anchor, until the total
    deviation stops falling. Each step costs one sort, O(N log N). The tests check it against trying every anchor.
    """
    x, y, w = (v.to(torch.float64).reshape(-1) for v in (pred, target, weight))
    candidates = torch.nonzero(w > 0).reshape(-1)
    if candidates.numel() == 0:
        return torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    anchor = int(candidates[torch.argmax(w[candidates])])
    best_loss, slope = math.inf, 1.0
    for _ in range(_L1_MAX_STEPS):
        dx, dy = x - x[anchor], y - y[anchor]
        step_slope, loss = _weighted_median_ratio(dx[None], dy[None], w[None])
        if not float(loss[0]) < best_loss:
            break
        best_loss, slope = float(loss[0]), float(step_slope[0])
        # The pixel the line also passes through: the median's own ratio (its residual is 0).
        residual = (slope * dx - dy).abs() + torch.where((dx != 0) & (w > 0), 0.0, math.inf)
        anchor_next = int(torch.argmin(residual))
        if anchor_next == anchor:
            break
        anchor = anchor_next
    shift = float(y[anchor]) - slope * float(x[anchor])
    return torch.tensor(slope, dtype=torch.float64), torch.tensor(shift, dtype=torch.float64)


def masked_nearest_subset(mask: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor, Tensor]:
    """One valid pixel per cell of a ``size`` grid over ``mask`` (H, W): the valid pixel nearest the cell's centre.

    Cell ``(I, J)`` spans ``H / h`` rows and ``W / w`` columns; its centre and the pixel centres ``(j + 0.5, i + 0.5)``
    are compared in float32, a pixel belongs to the cell when its offset from the centre lies in
    ``(-size / 2 + e, size / 2 + e]`` per axis (``e`` = float32 epsilon times max(H, W)), and among the candidates of
    the ``ceil(H / h)`` x ``ceil(W / w)`` window starting at the rounded corner the first nearest wins (row-major).
    This is the sampling MoGe's evaluation fits its robust alignments on (utils3d's ``masked_nearest_resize``).

    Returns:
        (rows, cols, found): (h, w) int64 pixel indices and the (h, w) bool of cells that hold a valid pixel.
    """
    height, width = mask.shape[-2:]
    cells_h, cells_w = size
    step_h, step_w = height / cells_h, width / cells_w
    window_h, window_w = math.ceil(step_h), math.ceil(step_w)
    f32 = torch.float32
    centre_x = torch.linspace(0.5 / cells_w, 1 - 0.5 / cells_w, cells_w, dtype=f32) * width
    centre_y = torch.linspace(0.5 / cells_h, 1 - 0.5 / cells_h, cells_h, dtype=f32) * height
    top = torch.round(centre_y - step_h / 2).to(torch.int64)
    left = torch.round(centre_x - step_w / 2).to(torch.int64)
    rows = top[:, None] + torch.arange(window_h)[None, :]  # (h, window_h)
    cols = left[:, None] + torch.arange(window_w)[None, :]  # (w, window_w)
    eps = torch.finfo(f32).eps * max(height, width)
    dy = (rows.to(f32) + 0.5) - centre_y[:, None]
    dx = (cols.to(f32) + 0.5) - centre_x[:, None]
    in_y = (rows >= 0) & (rows < height) & (-step_h / 2 + eps < dy) & (dy <= step_h / 2 + eps)
    in_x = (cols >= 0) & (cols < width) & (-step_w / 2 + eps < dx) & (dx <= step_w / 2 + eps)
    safe_rows, safe_cols = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
    # (h, w, window_h, window_w): each cell's window.
    valid = mask.to(torch.bool)[safe_rows[:, None, :, None], safe_cols[None, :, None, :]]
    valid &= in_y[:, None, :, None] & in_x[None, :, None, :]
    distance = torch.where(valid, dy[:, None, :, None] ** 2 + dx[None, :, None, :] ** 2, torch.inf)
    nearest = distance.reshape(cells_h, cells_w, -1).argmin(dim=-1)
    row_offset, col_offset = nearest // window_w, nearest % window_w
    chosen_rows = torch.gather(safe_rows, 1, row_offset)  # (h, w): row index per cell
    chosen_cols = torch.gather(safe_cols.T.contiguous(), 0, col_offset)  # (h, w)
    found = valid.reshape(cells_h, cells_w, -1).any(dim=-1)
    return chosen_rows, chosen_cols, found


__all__ = [
    "ALIGNMENTS",
    "fit_scale",
    "fit_scale_l1",
    "fit_scale_shift",
    "fit_scale_shift_l1",
    "masked_nearest_subset",
]
