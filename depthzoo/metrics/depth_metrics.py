"""The nine standard monocular depth metrics as a torchmetrics ``Metric`` that reproduces published numbers.

Formulas, masks, clamping, crops and averaging follow the reference evaluation code of BTS, AdaBins, the
Monocular-Depth-Estimation-Toolbox, ZoeDepth and monodepth2 (per image) or FCRN and DenseDepth (pooled).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric

from depthzoo.datasets.errors import NoValidDataError
from depthzoo.errors import ArgumentTypeError, InvalidArgumentError
from depthzoo.metrics.alignment import ALIGNMENTS, fit_scale, fit_scale_shift
from depthzoo.metrics.boundary import MIN_VALID_FRACTION, boundary_errors
from depthzoo.metrics.crops import check_crop_name, crop_box

METRIC_NAMES: tuple[str, ...] = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3")
BOUNDARY_METRIC_NAMES: tuple[str, ...] = ("dbe_acc", "dbe_comp")
DELTA_THRESHOLDS: tuple[float, ...] = (1.25, 1.25**2, 1.25**3)

# Columns of the per-image sums: six error sums over valid pixels, then the three delta counts.
_ERROR_SUMS = ("abs_rel", "sq_rel", "sq_err", "log_err", "sq_log_err", "abs_log_err")
_NUM_ERROR_SUMS = len(_ERROR_SUMS)
# Rows of ground truth processed at once: bounds the float64 temporaries to about 1 MiB each (cache-friendly,
# and a 4000x4000 image needs no more memory than its inputs).
_CHUNK_ELEMENTS = 1 << 17
_LN10 = math.log(10.0)

Average = Literal["image", "pixel"]
Alignment = Literal["none", "median", "scale", "scale_shift", "scale_shift_disparity"]
PredictionKind = Literal["depth", "disparity"]


def numpy_median(values: Tensor) -> Tensor:
    """Median with ``np.median`` semantics: the mean of the two middle values for an even count.

    monodepth2's evaluation uses ``np.median``; ``torch.median`` returns the lower middle value instead
    (``[1, 2, 3, 10]`` gives 2.5 here and 2.0 there). Works on any size (``torch.quantile`` stops at 2**24).

    >>> float(numpy_median(torch.tensor([1.0, 2.0, 3.0, 10.0])))
    2.5
    """
    flat = values.reshape(-1).to(torch.float64)
    count = flat.numel()
    if count == 0:
        raise ValueError("the median of an empty tensor is undefined")
    lower = torch.kthvalue(flat, (count + 1) // 2).values
    if count % 2:
        return lower
    # The upper middle value is `lower` again if it occurs past the middle, else the next larger value:
    # one comparison pass instead of a second selection.
    upper = lower if int((flat <= lower).sum()) > count // 2 else flat[flat > lower].min()
    return (lower + upper) / 2


def metrics_from_sums(sums: Tensor, count: Tensor) -> Tensor:
    """The nine metrics (in :data:`METRIC_NAMES` order, last dim) from per-pixel sums over ``count`` pixels.

    ``sums[..., :6]`` hold the sums of |d|/g, d^2/g, d^2, e, e^2 and |e| with d = p - g and e = ln p - ln g;
    ``sums[..., 6:]`` the numbers of pixels with max(g/p, p/g) below 1.25, 1.25^2, 1.25^3. silog is
    100 * sqrt(max(mean(e^2) - mean(e)^2, 0)): the clamp at 0 removes the NaN that rounding gives when e is
    constant (the Toolbox maps that NaN to 0 too), so a perfect-up-to-scale prediction scores exactly 0.
    """
    mean = sums / count.to(torch.float64).unsqueeze(-1)
    log_mean, sq_log_mean = mean[..., 3], mean[..., 4]
    silog = 100.0 * torch.sqrt(torch.clamp(sq_log_mean - log_mean * log_mean, min=0.0))
    columns = [mean[..., 0], mean[..., 1], mean[..., 2].sqrt(), sq_log_mean.sqrt(), mean[..., 5] / _LN10, silog]
    return torch.stack([*columns, *mean[..., _NUM_ERROR_SUMS:].unbind(-1)], dim=-1)


class DepthMetrics(Metric):
    """abs_rel, sq_rel, rmse, rmse_log, log10, silog, d1, d2, d3 of predicted against ground-truth depth (metres).

    >>> metrics = DepthMetrics(max_depth=10.0)
    >>> metrics.update(torch.full((1, 1, 2, 2), 2.0), torch.tensor([[[[2.0, 4.0], [2.0, 0.0]]]]))
    >>> {k: round(float(v), 4) for k, v in metrics.compute().items() if k in ("abs_rel", "rmse", "d1")}
    {'abs_rel': 0.1667, 'rmse': 1.1547, 'd1': 0.6667}

    (The 0 is invalid ground truth; the three valid pixels have relative errors 0, 0.5 and 0.)

    ``update(pred, target, valid=None)`` takes (B, 1, H, W) or (B, H, W) tensors; ``valid`` is an optional
    boolean mask of the target's shape ANDed into the validity test. ``compute()`` returns a dict of 0-d
    float64 tensors with exactly the keys of :data:`METRIC_NAMES`, ready for ``LightningModule.log_dict``.

    The pipeline per image follows BTS' ``eval_with_pngs.py`` (the convention of the published NYU/KITTI tables):

    1. A prediction of another size than the target is resized bilinearly to the target size
       (``align_corners`` as given; AdaBins and ZoeDepth use True, cv2/PIL-style resizing corresponds to False).
       Non-finite predictions are replaced (step 4) *before* the resize so that one bad pixel cannot spread.
    2. ``crop`` (see :mod:`depthzoo.metrics.crops`) is applied to prediction and ground truth.
    3. Valid pixels: ``min_depth < target < max_depth`` (strict, so 0, NaN and inf never count) AND ``valid``.
    4. Predictions: NaN -> ``min_depth``, +inf -> ``max_depth``, -inf -> ``min_depth`` (BTS' result);
       then the ``alignment`` of each image to its valid ground truth (below); then, with ``clamp``,
       clamp to [``min_depth``, ``max_depth``] (BTS, AdaBins, ZoeDepth, monodepth2).
    5. Metrics (EVALUATION formulas): sq_rel divides by g, not g^2; log10 is mean|log10 p - log10 g|;
       silog is 100 * sqrt of the variance of ln p - ln g, clamped at 0; the deltas use a strict ``<``.

    ``average="image"`` (default) averages per-image values over images, as BTS, AdaBins, the Toolbox,
    ZoeDepth and monodepth2 do (so rmse is the mean of per-image RMSEs); ``average="pixel"`` pools every valid
    pixel of every image, as FCRN's MATLAB code and DenseDepth do. Both are accumulated, so the two settings
    share their states.

    ``alignment`` fits each prediction to the valid ground truth of its own image (float64 closed forms, see
    :mod:`depthzoo.metrics.alignment`), for models that know depth only up to a scale (and shift):

    - ``"none"`` (default): the prediction is metric and used as it is;
    - ``"median"``: times median(g) / median(p) (``np.median`` semantics; monodepth2's median scaling for
      self-supervised monocular models; ``median_scaling=True`` is the same);
    - ``"scale"``: times the least-squares scale ``sum(p g) / sum(p^2)``;
    - ``"scale_shift"``: ``s p + t`` by least squares in depth;
    - ``"scale_shift_disparity"``: least squares in disparity, as MiDaS and Depth Anything evaluate relative models
      zero-shot: the prediction's disparity (the prediction itself with ``prediction="disparity"``, else
      1 / max(p, ``min_depth``)) is fitted to 1 / g, clamped below at 1 / ``max_depth`` (their depth cap), and
      inverted back to depth.

    ``prediction="disparity"`` says the model outputs relative disparity (affine-invariant inverse depth, e.g.
    ``DepthModel.output_kind == "relative_disparity"``); it needs ``alignment="scale_shift_disparity"``, and its
    non-finite values become 0 (NaN, -inf) or 1 / ``min_depth`` (+inf) before the bilinear resize.

    Images without a valid pixel are skipped and counted (the Toolbox's ``nanmean`` behaviour; BTS and
    monodepth2 would propagate a NaN instead); :meth:`summary` reports the counters. Per-pixel terms are
    computed in float64 and accumulated in float64 with int64 counts, so pixel pooling stays exact past 2**24
    pixels. All states are sums (``dist_reduce_fx="sum"``): several processes over disjoint parts of a dataset
    give the single-process result (use :class:`depthzoo.datamodules.samplers.DistributedEvalSampler`, which does not
    duplicate samples). State names carry a tag of the settings that change them, so a ``MetricCollection``
    never merges two differently configured instances into one compute group.

    ``compute()`` raises ``ValueError`` when no image had a valid pixel; ``forward()`` (the per-batch value)
    returns ``{}`` for such a batch instead and still accumulates it.

    ``boundary=True`` adds iBims-1's depth-boundary errors ``dbe_acc`` and ``dbe_comp`` (pixels of the ground
    truth, lower is better; :mod:`depthzoo.metrics.boundary` gives the definition and the source of every
    constant). They are computed per image on the processed prediction (steps 1-4: resized, cropped, sanitised,
    scaled, clamped) against the ground truth's own depth edges, inside the valid pixels, and averaged over the
    images whose ground truth has an edge (iBims-1's ``nanmean``), whatever ``average`` says. They need dense
    ground truth (NYU, synthetic rooms): an image with valid pixels but fewer than half of them valid (KITTI) raises
    ``ValueError``. They run on the CPU (scipy), a few milliseconds per 120x160 image.

    Args:
        min_depth: lower bound of valid ground truth (exclusive) and of clamped predictions, > 0.
        max_depth: upper bound of valid ground truth (exclusive) and of clamped predictions: 10 for NYU, 80 for KITTI.
        crop: None, ``"eigen_nyu"``, ``"garg"`` or ``"eigen_kitti"`` (BTS' "eigen" KITTI crop).
        average: ``"image"`` or ``"pixel"``, see above.
        median_scaling: per-image median ratio scaling (monocular self-supervised protocols only); the same as
            ``alignment="median"``.
        clamp: clamp predictions to [min_depth, max_depth]. Without it every prediction at a valid pixel must be > 0.
        align_corners: ``align_corners`` of the bilinear resize of predictions.
        alignment: ``"none"``, ``"median"``, ``"scale"``, ``"scale_shift"`` or ``"scale_shift_disparity"`` (above).
        prediction: ``"depth"`` (metres, or depth up to the alignment) or ``"disparity"`` (relative disparity).
        boundary: also compute the depth-boundary errors ``dbe_acc`` and ``dbe_comp`` (dense ground truth only).
        kwargs: passed on to :class:`torchmetrics.Metric` (e.g. ``sync_on_compute``); unknown names raise.
    """

    is_differentiable = False
    higher_is_better = None  # errors are lower-is-better, the deltas higher-is-better
    full_state_update = False

    def __init__(
        self,
        min_depth: float = 1e-3,
        max_depth: float = 10.0,
        crop: str | None = None,
        average: Average = "image",
        median_scaling: bool = False,
        clamp: bool = True,
        align_corners: bool = False,
        alignment: Alignment = "none",
        prediction: PredictionKind = "depth",
        boundary: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_depth_range(min_depth, max_depth)
        check_crop_name(crop)
        if average not in ("image", "pixel"):
            raise InvalidArgumentError(
                f"average must be 'image' (per-image mean) or 'pixel' (pooled), got {average!r}"
            )
        flags = (
            ("median_scaling", median_scaling),
            ("clamp", clamp),
            ("align_corners", align_corners),
            ("boundary", boundary),
        )
        for name, flag in flags:
            if not isinstance(flag, bool):
                raise ArgumentTypeError(f"{name} must be a bool, got {flag!r}")
        alignment = _checked_alignment(alignment, median_scaling, prediction)
        median_scaling = alignment == "median"
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        self.crop = crop
        self.average: Average = average
        self.median_scaling = median_scaling
        self.clamp = clamp
        self.align_corners = align_corners
        self.alignment: Alignment = alignment
        self.prediction: PredictionKind = prediction
        self.boundary = boundary
        self._in_forward = False
        self._empty_batches = 0  # update() calls with no image, for the message of compute()

        settings = (self.min_depth, self.max_depth, crop, median_scaling, clamp, align_corners)
        if alignment not in ("none", "median") or prediction != "depth":  # the states of earlier versions otherwise
            settings += (alignment, prediction)
        self.state_prefix = "depth_" + hashlib.sha1(repr(settings).encode()).hexdigest()[:8] + "_"
        states = {
            "image_metric_sums": torch.zeros(len(METRIC_NAMES), dtype=torch.float64),
            "pixel_error_sums": torch.zeros(_NUM_ERROR_SUMS, dtype=torch.float64),
            "pixel_delta_counts": torch.zeros(len(DELTA_THRESHOLDS), dtype=torch.int64),
            "images_evaluated": torch.zeros((), dtype=torch.int64),
            "images_skipped": torch.zeros((), dtype=torch.int64),
            "pixels_valid": torch.zeros((), dtype=torch.int64),
        }
        if boundary:  # only then: without it the states are exactly those of the nine metrics
            states.update(
                dbe_sums=torch.zeros(len(BOUNDARY_METRIC_NAMES), dtype=torch.float64),
                dbe_images=torch.zeros((), dtype=torch.int64),
                dbe_images_without_edges=torch.zeros((), dtype=torch.int64),
            )
        for name, default in states.items():
            self.add_state(self.state_prefix + name, default=default, dist_reduce_fx="sum")

    def _state(self, name: str) -> Tensor:
        return getattr(self, self.state_prefix + name)

    def _add_to_state(self, name: str, value: Tensor) -> None:
        key = self.state_prefix + name
        setattr(self, key, getattr(self, key) + value.to(getattr(self, key)))

    def update(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> None:
        """Accumulate a batch: ``pred`` and ``target`` (B, 1, H, W) or (B, H, W), ``valid`` an optional bool mask."""
        pred, target, valid = self._checked_inputs(pred, target, valid)
        if pred.shape[0] == 0:
            self._empty_batches += 1
        if pred.shape[-2:] != target.shape[-2:]:
            pred = self._resized(pred, target.shape[-2:])
        if self.crop is not None:
            box = crop_box(self.crop, target.shape[-2], target.shape[-1])
            pred, target = box.apply(pred), box.apply(target)
            valid = None if valid is None else box.apply(valid)
        mask = (target > self.min_depth) & (target < self.max_depth)
        if valid is not None:
            mask &= valid
        counts = mask.sum(dim=(1, 2))
        scale = None
        if self.alignment == "median":
            scale = self._median_ratios(pred, target, mask, counts)
        elif self.alignment == "scale":
            scale = fit_scale(self._sanitized(pred.to(torch.float64)), target, mask)
        elif self.alignment != "none":
            pred = self._affine_aligned(pred, target, mask)
        sums = self._per_image_sums(pred, target, mask, scale)
        if self.boundary:  # before any state changes, so a sparse-ground-truth error leaves the metric as it was
            boundary = self._boundary_errors(pred, target, mask, counts, scale)
        self._accumulate(sums, counts)
        if self.boundary:
            self._accumulate_boundary(boundary)

    def evaluated_prediction(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        """(B, H, W) float64: ``pred`` as :meth:`update` compares it with ``target``, at the target's full size.

        Resized to the target's size, aligned per image (``alignment``, fitted on the pixels the metrics evaluate:
        inside the crop, in the depth range, ``valid``), non-finite values replaced and, with ``clamp``, clamped: for
        a relative model, its disparity turned into metres. Nothing is accumulated; pictures of what is evaluated
        use it.
        """
        pred, target, valid = self._checked_inputs(pred, target, valid)
        if pred.shape[-2:] != target.shape[-2:]:
            pred = self._resized(pred, target.shape[-2:])
        mask = (target > self.min_depth) & (target < self.max_depth)
        if valid is not None:
            mask &= valid
        if self.crop is not None:
            inside = torch.zeros_like(mask)
            crop_box(self.crop, target.shape[-2], target.shape[-1]).apply(inside)[...] = True
            mask &= inside
        scale = None
        if self.alignment == "median":
            scale = self._median_ratios(pred, target, mask, mask.sum(dim=(1, 2)))
        elif self.alignment == "scale":
            scale = fit_scale(self._sanitized(pred.to(torch.float64)), target, mask)
        elif self.alignment != "none":
            pred = self._affine_aligned(pred, target, mask)
        return self._processed(pred, scale)

    def compute(self) -> dict[str, Tensor]:
        """The metrics over everything accumulated, averaged per image or pooled per pixel (``average``).

        Raises:
            NoValidDataError: no image was given, or none had a valid ground-truth pixel. Check that the depth
                range matches the dataset (``max_depth=80`` for KITTI, 10 for NYU), that the ground truth is in
                metres, that the crop fits the images and that the ``valid`` masks are not empty.
        """
        evaluated = int(self._state("images_evaluated"))
        if evaluated == 0:
            if self._in_forward:
                return {}
            raise NoValidDataError(self._nothing_valid_message())
        if self.average == "image":
            values = self._state("image_metric_sums") / evaluated
        else:
            sums = torch.cat([self._state("pixel_error_sums"), self._state("pixel_delta_counts").to(torch.float64)])
            values = metrics_from_sums(sums, self._state("pixels_valid"))
        result = dict(zip(METRIC_NAMES, values.unbind()))
        if self.boundary:
            with_edges = int(self._state("dbe_images"))
            if with_edges:
                result.update(zip(BOUNDARY_METRIC_NAMES, (self._state("dbe_sums") / with_edges).unbind()))
            elif not self._in_forward:  # a batch without edges just has no boundary value
                raise ValueError(
                    f"none of the {evaluated} evaluated images has a depth edge in its ground truth, so the "
                    "depth-boundary errors are undefined; evaluate on images with depth discontinuities or pass "
                    "boundary=False"
                )
        return result

    def forward(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> dict[str, Tensor]:
        """Accumulate a batch and return that batch's metrics; ``{}`` if the batch has no valid pixel."""
        self._in_forward = True
        try:
            return super().forward(pred, target, valid)
        finally:
            self._in_forward = False

    def reset(self) -> None:
        """Clear everything accumulated (torchmetrics' ``reset``)."""
        super().reset()
        self._empty_batches = 0

    def summary(self) -> dict[str, int]:
        """Counters: images seen, evaluated and skipped (no valid pixel), and valid pixels.

        With ``boundary``, also the images the boundary errors average over and the evaluated images skipped by
        them because their ground truth has no depth edge.

        Synchronised across processes like :meth:`compute`, so under DDP every rank must call it.
        """
        with self.sync_context(dist_sync_fn=self.dist_sync_fn, should_sync=self._to_sync):
            evaluated, skipped = int(self._state("images_evaluated")), int(self._state("images_skipped"))
            pixels = int(self._state("pixels_valid"))
            counters = {
                "images_seen": evaluated + skipped,
                "images_evaluated": evaluated,
                "images_skipped": skipped,
                "valid_pixels": pixels,
            }
            if self.boundary:
                counters["boundary_images"] = int(self._state("dbe_images"))
                counters["boundary_images_without_edges"] = int(self._state("dbe_images_without_edges"))
        return counters

    def _nothing_valid_message(self) -> str:
        seen = int(self._state("images_skipped"))
        if seen == 0 and self._empty_batches:
            return (
                f"DepthMetrics has no image to compute metrics over: update() was called {self._empty_batches} "
                f"time(s), each with a batch of 0 images; pass batches that hold at least one image"
            )
        if seen == 0:
            return "DepthMetrics has no data: call update(pred, target) before compute()"
        crop = f"crop={self.crop!r} fits the images" if self.crop else "the valid masks are not empty"
        return (
            f"none of the {seen} images had a valid ground-truth pixel (min_depth={self.min_depth} < depth < "
            f"max_depth={self.max_depth}): check the depth range (max_depth=80 for KITTI, 10 for NYU), that the "
            f"ground truth is in metres, and that {crop}"
        )

    def _checked_inputs(
        self, pred: Tensor, target: Tensor, valid: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        pred, target = _as_image_batch(pred, "pred"), _as_image_batch(target, "target")
        for name, tensor in (("pred", pred), ("target", target)):
            if not tensor.is_floating_point():
                raise TypeError(f"{name} must be a floating-point depth tensor in metres, got {tensor.dtype}")
        if pred.shape[0] != target.shape[0]:
            raise ValueError(f"pred and target batch sizes differ: {pred.shape[0]} vs {target.shape[0]}")
        if pred.device != target.device:
            raise ValueError(f"pred is on {pred.device} but target on {target.device}; move them to one device")
        if valid is not None:
            valid = _as_image_batch(valid, "valid")
            if valid.dtype != torch.bool:
                raise TypeError(f"valid must be a bool mask, got {valid.dtype}; pass e.g. `mask > 0`")
            if valid.shape != target.shape:
                shapes = f"{tuple(valid.shape)} and {tuple(target.shape)}"
                raise ValueError(f"valid and target have shapes {shapes}; they must match")
            valid = valid.to(target.device)
        return pred.detach(), target.detach(), valid

    def _sanitized(self, pred: Tensor, kind: PredictionKind = "depth") -> Tensor:
        """BTS' replacement of non-finite predictions: NaN and -inf to min_depth, +inf to max_depth.

        Disparities: NaN and -inf to 0 (infinitely far), +inf to 1 / min_depth.
        """
        if kind == "disparity":
            return torch.nan_to_num(pred, nan=0.0, posinf=1.0 / self.min_depth, neginf=0.0)
        return torch.nan_to_num(pred, nan=self.min_depth, posinf=self.max_depth, neginf=self.min_depth)

    def _affine_aligned(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """Float64 depth after the per-image ``scale_shift`` or ``scale_shift_disparity`` alignment."""
        pred = self._sanitized(pred.to(torch.float64), self.prediction)
        if self.alignment == "scale_shift":
            scale, shift = fit_scale_shift(pred, target, mask)
            return pred * scale.view(-1, 1, 1) + shift.view(-1, 1, 1)
        disparity = pred if self.prediction == "disparity" else 1.0 / pred.clamp(min=self.min_depth)
        target_disparity = 1.0 / torch.where(mask, target.to(torch.float64), 1.0)
        scale, shift = fit_scale_shift(disparity, target_disparity, mask)
        aligned = disparity * scale.view(-1, 1, 1) + shift.view(-1, 1, 1)
        return 1.0 / aligned.clamp(min=1.0 / self.max_depth)  # MiDaS' depth cap

    def _resized(self, pred: Tensor, size: torch.Size) -> Tensor:
        pred = self._sanitized(pred.to(torch.promote_types(pred.dtype, torch.float32)), self.prediction)
        return F.interpolate(pred.unsqueeze(1), size=size, mode="bilinear", align_corners=self.align_corners)[:, 0]

    def _median_ratios(self, pred: Tensor, target: Tensor, mask: Tensor, counts: Tensor) -> Tensor:
        """Per-image median(g) / median(p) over valid pixels (1 for images without any), as monodepth2."""
        ratios = torch.ones(target.shape[0], dtype=torch.float64, device=target.device)
        for index, count in enumerate(counts.tolist()):
            if count == 0:
                continue
            pred_median = numpy_median(self._sanitized(pred[index][mask[index]]))
            if not bool(pred_median > 0):
                raise ValueError(
                    f"median scaling needs a positive median prediction, but image {index} of the batch has median "
                    f"{float(pred_median)} over its valid pixels; predict positive depths"
                )
            ratios[index] = numpy_median(target[index][mask[index]]) / pred_median
        return ratios

    def _per_image_sums(self, pred: Tensor, target: Tensor, mask: Tensor, scale: Tensor | None) -> Tensor:
        """(B, 9) float64: the six error sums and three delta counts of each image, over blocks of rows."""
        batch, height, width = target.shape
        rows = max(1, _CHUNK_ELEMENTS // max(1, batch * width))
        sums = torch.zeros(batch, _NUM_ERROR_SUMS + len(DELTA_THRESHOLDS), dtype=torch.float64, device=target.device)
        for top in range(0, height, rows):
            block = slice(top, top + rows)
            sums += self._block_sums(pred[:, block], target[:, block], mask[:, block], scale)
        return sums

    def _processed(self, pred: Tensor, scale: Tensor | None) -> Tensor:
        """Float64 predictions as the metrics see them: non-finite values replaced, median-scaled, clamped."""
        pr = self._sanitized(pred.to(torch.float64))
        if scale is not None:
            pr = pr * scale.view(-1, 1, 1)
        if self.clamp:
            pr = pr.clamp(self.min_depth, self.max_depth)
        return pr

    def _block_sums(self, pred: Tensor, target: Tensor, mask: Tensor, scale: Tensor | None) -> Tensor:
        # Invalid pixels become g = p = 1: every error term is then exactly 0 there, so plain sums over the
        # block are sums over the valid pixels (the deltas count them as hits, subtracted below).
        gt = torch.where(mask, target.to(torch.float64), 1.0)
        pr = torch.where(mask, self._processed(pred, scale), 1.0)
        if not self.clamp and bool((pr <= 0).any()):
            raise ValueError(
                "with clamp=False every prediction at a valid pixel must be > 0 (the log metrics are undefined "
                f"otherwise), got a minimum of {float(pr.min())}; use clamp=True or predict positive depths"
            )
        ratio = pr / gt
        diff = pr - gt
        abs_diff = diff.abs()
        abs_rel = abs_diff / gt
        log_err = ratio.log()  # ln p - ln g
        max_ratio = torch.maximum(ratio, gt / pr)
        dims = (1, 2)
        invalid = (~mask).sum(dim=dims)
        columns = [
            abs_rel.sum(dim=dims),
            (abs_rel * abs_diff).sum(dim=dims),
            (diff * diff).sum(dim=dims),
            log_err.sum(dim=dims),
            (log_err * log_err).sum(dim=dims),
            log_err.abs().sum(dim=dims),
            *[(max_ratio < threshold).sum(dim=dims) - invalid for threshold in DELTA_THRESHOLDS],
        ]
        return torch.stack([column.to(torch.float64) for column in columns], dim=1)

    def _boundary_errors(
        self, pred: Tensor, target: Tensor, mask: Tensor, counts: Tensor, scale: Tensor | None
    ) -> list[tuple[float, float]]:
        """(dbe_acc, dbe_comp) of every image with valid pixels (NaN without a ground-truth edge), on the CPU."""
        size = target.shape[-2] * target.shape[-1]
        results = []
        for index, count in enumerate(counts.tolist()):
            if count == 0:
                continue
            if count < MIN_VALID_FRACTION * size:
                raise InvalidArgumentError(
                    f"the depth-boundary errors need dense ground truth, but image {index} of the batch has only "
                    f"{count / size:.0%} valid pixels (at least {MIN_VALID_FRACTION:.0%} needed): sparse ground "
                    "truth such as KITTI's projected LiDAR has no depth edges to compare with",
                    fix="evaluate depth edges on dense ground truth (NYU, synthetic rooms) or pass boundary=False",
                )
            image_pred = self._processed(pred[index : index + 1], None if scale is None else scale[index : index + 1])
            results.append(
                boundary_errors(
                    image_pred[0].cpu().numpy(), target[index].cpu().numpy(), mask[index].cpu().numpy()
                )
            )
        return results

    def _accumulate_boundary(self, errors: list[tuple[float, float]]) -> None:
        defined = [pair for pair in errors if not math.isnan(pair[0])]
        sums = torch.tensor(defined, dtype=torch.float64).reshape(-1, 2).sum(dim=0)
        self._add_to_state("dbe_sums", sums)
        self._add_to_state("dbe_images", torch.tensor(len(defined)))
        self._add_to_state("dbe_images_without_edges", torch.tensor(len(errors) - len(defined)))

    def _accumulate(self, sums: Tensor, counts: Tensor) -> None:
        has_valid = counts > 0
        per_image = metrics_from_sums(sums[has_valid], counts[has_valid])
        self._add_to_state("image_metric_sums", per_image.sum(dim=0))
        self._add_to_state("pixel_error_sums", sums[:, :_NUM_ERROR_SUMS].sum(dim=0))
        # Counts are whole numbers far below 2**53, so the float64 -> int64 round trip is exact.
        self._add_to_state("pixel_delta_counts", sums[:, _NUM_ERROR_SUMS:].sum(dim=0).round().to(torch.int64))
        self._add_to_state("images_evaluated", has_valid.sum())
        self._add_to_state("images_skipped", (~has_valid).sum())
        self._add_to_state("pixels_valid", counts.sum())


def _checked_alignment(alignment: str, median_scaling: bool, prediction: str) -> Alignment:
    if alignment not in ALIGNMENTS:
        raise InvalidArgumentError(f"alignment must be one of {', '.join(ALIGNMENTS)}, got {alignment!r}")
    if prediction not in ("depth", "disparity"):
        raise InvalidArgumentError(f"prediction must be 'depth' or 'disparity', got {prediction!r}")
    if median_scaling is True and alignment not in ("none", "median"):
        raise InvalidArgumentError(
            f"median_scaling=True is alignment='median'; it cannot be combined with alignment={alignment!r}"
        )
    if median_scaling is True:
        alignment = "median"
    if prediction == "disparity" and alignment != "scale_shift_disparity":
        raise InvalidArgumentError(
            f"a relative disparity prediction has no metric depth to evaluate with alignment={alignment!r}",
            fix="use alignment='scale_shift_disparity' (least squares in disparity per image, as MiDaS)",
        )
    return alignment  # type: ignore[return-value]


def _check_depth_range(min_depth: float, max_depth: float) -> None:
    for name, value in (("min_depth", min_depth), ("max_depth", max_depth)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidArgumentError(f"{name} must be a finite number of metres, got {value!r}")
    if not 0 < min_depth < max_depth:
        raise InvalidArgumentError(
            f"need 0 < min_depth < max_depth, got min_depth={min_depth}, max_depth={max_depth} "
            "(the references use 1e-3 and 10 for NYU, 1e-3 and 80 for KITTI)"
        )


def _as_image_batch(tensor: Tensor, name: str) -> Tensor:
    """(B, 1, H, W) or (B, H, W) -> (B, H, W)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndim == 4 and tensor.shape[1] == 1:
        tensor = tensor[:, 0]
    if tensor.ndim != 3:
        raise ValueError(f"{name} must have shape (B, 1, H, W) or (B, H, W), got {tuple(tensor.shape)}")
    if tensor.shape[-2] == 0 or tensor.shape[-1] == 0:
        raise ValueError(f"{name} has an empty image size {tuple(tensor.shape[-2:])}")
    return tensor
