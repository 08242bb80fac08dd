"""Zero-shot evaluation protocols as named presets: the numbers of the published zero-shot tables, reproducible.

Each paper's zero-shot table comes from its authors' own script, with its own depth caps, crops, alignment and
metrics. A :class:`Protocol` fixes all of these per dataset, so any model's predictions are scored the way a paper
scored its own::

    from depthzoo.metrics.protocols import get_protocol

    protocol = get_protocol("marigold")
    scores = protocol.score(predictions, targets, dataset="nyu", output_kind="relative_depth")
    scores["abs_rel"], scores["d1"]

``predictions`` and ``targets`` are lists of (H, W) arrays, each prediction at its ground truth's size (resize it
first; the protocol's :attr:`DatasetRule.align_corners` says how the paper did). Per image:

1. **Mask**: finite ground truth > 0, within the dataset's range (``min_depth < g < max_depth``, unless the rule
   says the dataset's own mask is the whole story), inside the crop, and inside the ``masks`` given (a dataset's
   invalid or transparent pixels). MoGe also drops ground truth deeper than 1000 x its 1 % quantile.
2. **Alignment** by what the model outputs (:data:`OUTPUT_KINDS`): relative disparity is aligned in disparity,
   relative depth in depth, each with the protocol's solver (least squares, or MoGe's weighted least absolute
   deviations on a 64 x 64 subset); metric depth is scored as it is, and also aligned, reported beside it as
   ``aligned_<metric>``.
3. **Clip** to the dataset's range (and to at least 1e-6), where the protocol clips.
4. **Metrics** per image with :class:`depthzoo.metrics.DepthMetrics` (the formulas of the reference code), averaged
   over images; images without a valid pixel are skipped. Where the dataset annotates its depth edges (iBims-1),
   ``dbe_acc`` and ``dbe_comp`` use those edges (:mod:`depthzoo.metrics.boundary`).

Output kinds map to a (space, invariance) pair, and a protocol aligns by that pair, so a new kind of model output
(relative depth up to scale only, metric depth with an estimated camera, ...) slots in with
:func:`register_output_kind` and needs no edit of any preset.

``tests/metrics/test_protocols.py`` checks the presets against numbers computed once with the authors' own
evaluation code (Marigold, MoGe, ZoeDepth) on fixed random arrays; ``benchmarks/protocol_reference.py`` recomputes
them. Depth Anything's relative evaluation code is not public: its preset is MiDaS' alignment in disparity with the
datasets' customary ranges, checked against an independent NumPy computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from depthzoo.datasets.errors import NoValidDataError
from depthzoo.errors import InvalidArgumentError
from depthzoo.metrics.alignment import (
    fit_scale,
    fit_scale_l1,
    fit_scale_shift,
    fit_scale_shift_l1,
    masked_nearest_subset,
)
from depthzoo.metrics.boundary import chamfer_errors, depth_edges
from depthzoo.metrics.crops import crop_box
from depthzoo.metrics.depth_metrics import DepthMetrics
from depthzoo.registry import unknown_name_message

Space = Literal["depth", "disparity"]
Invariance = Literal["none", "scale", "affine"]
Box = tuple[int, int, int, int]

MIN_PREDICTION = 1e-6
"""Predictions are clipped to at least this before the metrics (Marigold's final clip), so no log sees 0."""


# ------------------------------------------------------------------------------------------------ output kinds
@dataclass(frozen=True)
class OutputKind:
    """What a model's output means for evaluation: the space it lives in and what it is known up to.

    Args:
        space: ``"depth"`` or ``"disparity"`` (inverse depth).
        invariance: ``"none"`` (metric), ``"scale"`` (up to a scale) or ``"affine"`` (up to a scale and a shift).
        description: one line for listings.
    """

    space: Space
    invariance: Invariance
    description: str = ""


OUTPUT_KINDS: dict[str, OutputKind] = {
    "metric": OutputKind("depth", "none", "metric depth in metres"),
    "relative_disparity": OutputKind("disparity", "affine", "inverse depth up to a scale and a shift (MiDaS, DA)"),
    "relative_depth": OutputKind("depth", "affine", "depth up to a scale and a shift (Marigold)"),
}
"""Every model output kind a protocol can score; ``DepthModel.output_kind`` names one."""


def register_output_kind(name: str, space: Space, invariance: Invariance, description: str = "") -> OutputKind:
    """Make a new model output kind scorable by every protocol (e.g. ``"relative_depth_scale"``, depth, scale).

    Metric kinds (``invariance="none"``, e.g. metric depth from an estimated camera) are scored as they are, with
    their aligned score beside; relative kinds are aligned in their ``space``.
    """
    if space not in ("depth", "disparity") or invariance not in ("none", "scale", "affine"):
        raise InvalidArgumentError(
            f"an output kind needs space 'depth' or 'disparity' and invariance 'none', 'scale' or 'affine', got "
            f"{space!r} and {invariance!r}"
        )
    known = OUTPUT_KINDS.get(name)
    if known is not None and (known.space, known.invariance) != (space, invariance):
        raise InvalidArgumentError(f"output kind {name!r} is already registered as {OUTPUT_KINDS[name]}")
    kind = OUTPUT_KINDS.setdefault(name, OutputKind(space, invariance, description))
    return kind


def output_kind(name: str) -> OutputKind:
    """The registered :class:`OutputKind` called ``name``; an error lists the known ones."""
    if name not in OUTPUT_KINDS:

        raise InvalidArgumentError(unknown_name_message("output kind", name, OUTPUT_KINDS))
    return OUTPUT_KINDS[name]


_lookup_kind = output_kind  # Protocol.score's argument of the same name hides the function


# ------------------------------------------------------------------------------------------------ dataset rules
@dataclass(frozen=True)
class DatasetRule:
    """How a protocol evaluates one dataset.

    Args:
        min_depth: lower bound of valid ground truth (exclusive) and of clipped predictions.
        max_depth: upper bound of both (``math.inf``: none).
        crop: an evaluation crop of :mod:`depthzoo.metrics.crops` (scaled to the ground truth's size) or a fixed
            ``(top, bottom, left, right)`` box in pixels; None: the whole image.
        eval_size: (H, W) the ground truth is scored at (resized nearest by ``depthzoo benchmark``); None: as stored.
        range_mask: whether the range is part of the valid mask (False: only the dataset's own mask counts, as
            Marigold evaluates DIODE; the range still clips the predictions).
        fit_max_resolution: fit the alignment on a nearest-resampled copy no larger than this (Marigold, ETH3D).
        drop_far: drop ground truth deeper than this multiple of its 1 % quantile (MoGe: 1000).
        align_corners: how the paper resized predictions to the ground truth (bilinear), for the benchmark.
        note: where the numbers come from.
    """

    min_depth: float
    max_depth: float
    crop: str | Box | None = None
    eval_size: tuple[int, int] | None = None
    range_mask: bool = True
    fit_max_resolution: int | None = None
    drop_far: float | None = None
    align_corners: bool = False
    note: str = ""

    def box(self, height: int, width: int) -> Box | None:
        """The crop as ``(top, bottom, left, right)`` for a ground truth of this size; None without a crop."""
        if self.crop is None:
            return None
        if isinstance(self.crop, str):
            return tuple(crop_box(self.crop, height, width))  # type: ignore[return-value]
        return self.crop

    def valid_mask(self, target: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The pixels scored (step 1 of the module documentation), (H, W) bool."""
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(target) & (target > 0)
            if self.range_mask:
                valid &= (target > self.min_depth) & (target < self.max_depth)
        box = self.box(*target.shape)
        if box is not None:
            inside = np.zeros_like(valid)
            inside[box[0] : box[1], box[2] : box[3]] = True
            valid &= inside
        if mask is not None:
            valid &= np.asarray(mask, dtype=bool)
        if self.drop_far is not None and valid.any():
            valid &= target <= np.quantile(target[valid], 0.01) * self.drop_far
        return valid


# ------------------------------------------------------------------------------------------------ aligners
Aligner = Callable[[Tensor, Tensor, Tensor, DatasetRule], Tensor]
"""``aligner(pred, target, mask, rule) -> depth``: float64 (H, W) tensors, the prediction aligned to metres."""


def _fit_view(rule: DatasetRule, *maps: Tensor) -> list[Tensor]:
    """The maps the fit sees: as they are, or nearest-resampled by ``fit_max_resolution`` as Marigold does.

    Marigold resizes the (1, H, W) arrays with ``torch.nn.Upsample(scale_factor, mode="nearest")``, which treats
    them as 1-D signals: only the columns are subsampled, every row is kept. Reproduced as it is.
    """
    if rule.fit_max_resolution is None:
        return list(maps)
    height, width = maps[0].shape
    factor = min(rule.fit_max_resolution / height, rule.fit_max_resolution / width)
    if factor >= 1:
        return list(maps)
    return [F.interpolate(m[None].to(torch.float64), scale_factor=factor, mode="nearest")[0] for m in maps]


def _solve(fit: Callable[..., tuple[Tensor, ...] | Tensor], pred: Tensor, target: Tensor, mask: Tensor, rule) -> list:
    p, g, m = _fit_view(rule, pred, target, mask.to(torch.float64))
    solution = fit(p[None], g[None], m[None].to(torch.bool))
    return [float(v) for v in (solution if isinstance(solution, tuple) else (solution,))]


def lstsq_depth_affine(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule) -> Tensor:
    """Least squares ``s p + t`` in depth (Marigold's ``least_square``, ``np.linalg.lstsq`` on the valid pixels)."""
    scale, shift = _solve(fit_scale_shift, pred, target, mask, rule)
    return pred * scale + shift


def lstsq_depth_scale(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule) -> Tensor:
    """Least squares ``s p`` in depth."""
    (scale,) = _solve(fit_scale, pred, target, mask, rule)
    return pred * scale


def _disparity_affine(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule, floor: float) -> Tensor:
    inverse = torch.where(mask, 1.0 / torch.where(mask, target, 1.0), 0.0)
    scale, shift = _solve(fit_scale_shift, pred, inverse, mask, rule)
    return 1.0 / (pred * scale + shift).clamp(min=floor)


def midas_disparity_affine(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule) -> Tensor:
    """MiDaS: least squares in disparity against ``1 / g``, disparity floored at ``1 / max_depth``, inverted."""
    floor = 1.0 / rule.max_depth if math.isfinite(rule.max_depth) else MARIGOLD_DISPARITY_FLOOR
    return _disparity_affine(pred, target, mask, rule, floor)


MARIGOLD_DISPARITY_FLOOR = 1e-3


def marigold_disparity_affine(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule) -> Tensor:
    """Marigold's ``least_square_disparity``: fit where the prediction is positive too, floor 1e-3, invert."""
    return _disparity_affine(pred, target, mask & (pred > 0), rule, MARIGOLD_DISPARITY_FLOOR)


MOGE_SUBSET = (64, 64)


def _moge_subset(pred: Tensor, target: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    rows, cols, found = masked_nearest_subset(mask, MOGE_SUBSET)
    return pred[rows, cols][found], target[rows, cols][found]


def moge_depth_scale(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule) -> Tensor:
    """MoGe: the scale of least absolute deviations weighted ``1 / g``, on one pixel per cell of a 64x64 grid."""
    p, g = _moge_subset(pred, target, mask)
    return pred * float(fit_scale_l1(p, g, 1.0 / g))


def moge_depth_affine(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule) -> Tensor:
    """MoGe: scale and shift of least absolute deviations weighted ``1 / g``, on the 64x64 subset."""
    p, g = _moge_subset(pred, target, mask)
    scale, shift = fit_scale_shift_l1(p, g, 1.0 / g)
    return pred * float(scale) + float(shift)


def moge_disparity_affine(pred: Tensor, target: Tensor, mask: Tensor, rule: DatasetRule) -> Tensor:
    """MoGe: least squares in disparity on every valid pixel, floored at ``1 / max(g)``, inverted."""
    floor = 1.0 / float(target[mask].max()) if bool(mask.any()) else MARIGOLD_DISPARITY_FLOOR
    return _disparity_affine(pred, target, mask, rule, floor)


LEAST_SQUARES: dict[tuple[Space, Invariance], Aligner] = {
    ("depth", "affine"): lstsq_depth_affine,
    ("depth", "scale"): lstsq_depth_scale,
    ("disparity", "affine"): midas_disparity_affine,
}


# ------------------------------------------------------------------------------------------------ protocols
MARIGOLD_METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "d1", "d2", "d3", "i_rmse", "silog")
STANDARD_METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3")


@dataclass(frozen=True)
class Protocol:
    """A named zero-shot evaluation protocol: per dataset its rule, per output kind its alignment, its metrics.

    Args:
        name: the preset's name (:func:`get_protocol`).
        description: one line: whose tables it reproduces.
        source: the evaluation code (or paper) it follows.
        datasets: dataset name -> :class:`DatasetRule`.
        aligners: (space, invariance) -> aligner; the output kind of a model picks one.
        metric_alignment: the (space, invariance) a metric model's aligned score (beside its own) uses.
        clip: whether aligned predictions are clipped to the dataset's range.
        metrics: the metric names reported, in table order.
    """

    name: str
    description: str
    source: str
    datasets: Mapping[str, DatasetRule]
    aligners: Mapping[tuple[Space, Invariance], Aligner] = field(default_factory=lambda: dict(LEAST_SQUARES))
    metric_alignment: tuple[Space, Invariance] = ("disparity", "affine")
    clip: bool = True
    metrics: tuple[str, ...] = STANDARD_METRICS

    def rule(self, dataset: str) -> DatasetRule:
        """The rule of ``dataset``; an error names the datasets this protocol defines."""
        if dataset not in self.datasets:
            raise InvalidArgumentError(
                f"protocol {self.name!r} does not define dataset {dataset!r}; it defines "
                f"{', '.join(sorted(self.datasets))}",
                fix="choose a protocol that defines it ('depthzoo benchmark --protocol' lists them) or leave the "
                "dataset out",
            )
        return self.datasets[dataset]

    def aligner(self, kind: OutputKind | str) -> Aligner:
        """The alignment of a model output kind under this protocol."""
        kind = output_kind(kind) if isinstance(kind, str) else kind
        key = (kind.space, kind.invariance)
        if key not in self.aligners:
            known = ", ".join(f"{s} up to {i}" for s, i in self.aligners)
            raise InvalidArgumentError(
                f"protocol {self.name!r} has no alignment for {kind.space} known up to {kind.invariance}; it aligns "
                f"{known}"
            )
        return self.aligners[key]

    def score(
        self,
        predictions: Sequence[np.ndarray | Tensor],
        targets: Sequence[np.ndarray | Tensor],
        dataset: str,
        output_kind: str = "metric",
        masks: Sequence[np.ndarray | None] | None = None,
        edges: Sequence[np.ndarray | None] | None = None,
    ) -> dict[str, float]:
        """Score predictions against ground truth; see the module documentation for the steps.

        Args:
            predictions: (H, W) arrays, each at its target's size: metres, or what ``output_kind`` says.
            targets: (H, W) ground-truth depth in metres (0, NaN or inf where unknown).
            dataset: a dataset of this protocol (:attr:`datasets`).
            output_kind: a name of :data:`OUTPUT_KINDS`.
            masks: optional (H, W) bool per image, True where the ground truth may be used.
            edges: optional (H, W) bool per image, the dataset's annotated depth edges (iBims-1): adds ``dbe_acc``
                and ``dbe_comp``.

        Returns:
            The protocol's metrics as floats (a metric model also gets ``aligned_<metric>``) and ``images``, the
            number of images scored (those with a valid pixel).
        """
        rule = self.rule(dataset)
        kind = _lookup_kind(output_kind)
        count = len(predictions)
        if len(targets) != count:
            raise InvalidArgumentError(f"{count} predictions but {len(targets)} targets; give one target per image")
        for name, extra in (("masks", masks), ("edges", edges)):
            if extra is not None and len(extra) != count:
                raise InvalidArgumentError(f"{count} predictions but {len(extra)} {name}")
        passes = [("", self.aligner(kind) if kind.invariance != "none" else None, False)]
        if kind.invariance == "none":  # the aligned score beside, in the protocol's space for it
            space, invariance = self.metric_alignment
            passes.append(("aligned_", self.aligner(OutputKind(space, invariance)), space != kind.space))
        accumulators = {prefix: _Accumulator(self.metrics) for prefix, *_ in passes}
        for index in range(count):
            pred, target = _as_map(predictions[index], "prediction", index), _as_map(targets[index], "target", index)
            if pred.shape != target.shape:
                raise InvalidArgumentError(
                    f"prediction {index} has size {tuple(pred.shape)} but its ground truth {tuple(target.shape)}",
                    fix="resize predictions to the ground truth's size first (bilinear)",
                )
            mask = rule.valid_mask(target.numpy(), None if masks is None else masks[index])
            image_edges = None if edges is None else edges[index]
            mask_t = torch.from_numpy(mask)
            pred = torch.nan_to_num(pred, nan=0.0, posinf=0.0, neginf=0.0)  # non-finite: as far off as can be
            target = torch.where(mask_t, target, 1.0)
            for prefix, aligner, invert in passes:
                given = 1.0 / pred.clamp(min=MIN_PREDICTION) if invert else pred  # metric depth -> disparity
                depth = given if aligner is None else aligner(given, target, mask_t, rule)
                depth = self._clipped(depth, rule)
                accumulators[prefix].add(depth, target, mask_t, image_edges)
        scores: dict[str, float] = {}
        for prefix, accumulator in accumulators.items():
            scores.update({prefix + key: value for key, value in accumulator.result(self.name, dataset).items()})
        scores["images"] = float(accumulators[""].images)
        return scores

    def _clipped(self, depth: Tensor, rule: DatasetRule) -> Tensor:
        depth = torch.nan_to_num(depth, nan=MIN_PREDICTION, posinf=MIN_PREDICTION, neginf=MIN_PREDICTION)
        if self.clip:
            depth = depth.clamp(min=rule.min_depth, max=rule.max_depth)
        return depth.clamp(min=MIN_PREDICTION)


def _as_map(array: np.ndarray | Tensor, name: str, index: int) -> Tensor:
    tensor = torch.as_tensor(np.asarray(array) if not isinstance(array, Tensor) else array).detach().cpu()
    if tensor.ndim == 3 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim != 2:
        raise InvalidArgumentError(f"{name} {index} must be an (H, W) map, got shape {tuple(tensor.shape)}")
    return tensor.to(torch.float64)


class _Accumulator:
    """Per-image metrics through :class:`DepthMetrics` (plus i_rmse and the annotated-edge errors), image means."""

    def __init__(self, names: tuple[str, ...]) -> None:

        # The protocol has masked and clipped already: DepthMetrics computes the formulas over the given mask.
        self.metric = DepthMetrics(min_depth=1e-300, max_depth=1e300, clamp=False)
        self.names = names
        self.inverse_rmse: list[float] = []
        self.boundary: list[tuple[float, float]] = []
        self.images = 0

    def add(self, depth: Tensor, target: Tensor, mask: Tensor, edges: np.ndarray | None) -> None:
        if not bool(mask.any()):
            return
        self.images += 1
        self.metric.update(depth[None], target[None], valid=mask[None])
        if "i_rmse" in self.names:
            difference = (1.0 / depth - 1.0 / target)[mask]
            self.inverse_rmse.append(float(torch.sqrt((difference * difference).mean())))
        if edges is not None and np.asarray(edges).any():

            self.boundary.append(chamfer_errors(depth_edges(depth.numpy()), np.asarray(edges, dtype=bool)))

    def result(self, protocol: str, dataset: str) -> dict[str, float]:
        if self.images == 0:

            raise NoValidDataError(
                f"no image of {dataset!r} has a valid ground-truth pixel under protocol {protocol!r}: check that the "
                "ground truth is in metres and matches the dataset"
            )
        values = {k: float(v) for k, v in self.metric.compute().items()}
        if self.inverse_rmse:
            values["i_rmse"] = float(np.mean(self.inverse_rmse))
        result = {name: values[name] for name in self.names}
        if self.boundary:
            result["dbe_acc"], result["dbe_comp"] = (float(v) for v in np.mean(self.boundary, axis=0))
        return result


# ------------------------------------------------------------------------------------------------ the presets
_NYU_EIGEN_FIXED: Box = (45, 471, 41, 601)  # ZoeDepth applies [45:471, 41:601] whatever the size (DIODE, iBims)
_MARIGOLD = "Marigold (prs-eth/Marigold script/depth/eval.py, src/util/alignment.py, src/util/metric.py)"

PROTOCOLS: dict[str, Protocol] = {}


def register_protocol(protocol: Protocol) -> Protocol:
    """Add a preset (its name must be new)."""
    if protocol.name in PROTOCOLS:
        raise InvalidArgumentError(f"protocol {protocol.name!r} is registered twice")
    PROTOCOLS[protocol.name] = protocol
    return protocol


register_protocol(Protocol(
    name="synthetic",
    description="the built-in synthetic rooms: 1e-3..10 m, whole frame, least squares (disparity for relative "
    "disparity, as 'depthzoo test'), nine metrics",
    source="depthzoo's own (the quickstart's evaluation)",
    datasets={"synthetic": DatasetRule(1e-3, 10.0, note="the quickstart's test rooms")},
))

register_protocol(Protocol(
    name="depth-anything",
    description="Depth Anything's relative zero-shot table: affine alignment in disparity as MiDaS, AbsRel / delta1",
    source="MiDaS' scale-and-shift alignment in disparity (Depth Anything's relative evaluation code is not "
    "public; the ranges are the datasets' customary ones)",
    datasets={
        "nyu": DatasetRule(1e-3, 10.0, "eigen_nyu"),
        "kitti": DatasetRule(1e-3, 80.0, "garg", note="KB-cropped ground truth, Garg crop"),
        "eth3d": DatasetRule(1e-3, 80.0),
        "diode": DatasetRule(1e-3, 300.0),
        "sintel": DatasetRule(1e-3, 72.0),
        "ibims": DatasetRule(1e-3, 10.0),
        "scannet": DatasetRule(1e-3, 10.0),
    },
))

register_protocol(Protocol(
    name="marigold",
    description="Marigold's zero-shot table: least squares in depth, clip to the range, per-image means",
    source=_MARIGOLD,
    datasets={
        "nyu": DatasetRule(1e-3, 10.0, "eigen_nyu", note="654 test images, Eigen mask [45:471, 41:601]"),
        "kitti": DatasetRule(1e-5, 80.0, "eigen_kitti", note="KB crop, then the Eigen valid mask (652 images)"),
        "eth3d": DatasetRule(1e-5, math.inf, fit_max_resolution=1024, note="454 images at 6048x4032"),
        "scannet": DatasetRule(1e-3, 10.0, note="Marigold's 800 sampled validation images"),
        "diode": DatasetRule(0.6, 350.0, range_mask=False, note="771 val images; the mask file is the valid mask"),
    },
    aligners={
        ("depth", "affine"): lstsq_depth_affine,
        ("depth", "scale"): lstsq_depth_scale,
        ("disparity", "affine"): marigold_disparity_affine,
    },
    metric_alignment=("depth", "affine"),
    metrics=MARIGOLD_METRICS,
))

register_protocol(Protocol(
    name="moge",
    description="MoGe's depth table: AbsRel / delta1, robust alignment (weighted L1 on a 64x64 subset), no clipping",
    source="MoGe (microsoft/MoGe moge/test/metrics.py, moge/utils/alignment.py, configs/eval/all_benchmarks.json)",
    datasets={
        name: DatasetRule(0.0, math.inf, eval_size=size, range_mask=False, drop_far=1000.0)
        for name, size in {
            "nyu": (480, 640), "kitti": (375, 750), "eth3d": (1365, 2048), "ibims": (480, 640),
            "sintel": (436, 872), "diode": (768, 1024),
        }.items()
    },
    aligners={
        ("depth", "affine"): moge_depth_affine,
        ("depth", "scale"): moge_depth_scale,
        ("disparity", "affine"): moge_disparity_affine,
    },
    metric_alignment=("depth", "scale"),
    clip=False,
    metrics=("abs_rel", "d1"),
))

register_protocol(Protocol(
    name="zoedepth-metric",
    description="ZoeDepth's metric table: no alignment, predictions clipped to the range, nine metrics",
    source="ZoeDepth (isl-org/ZoeDepth zoedepth/utils/misc.py compute_metrics, zoedepth/utils/config.py)",
    datasets={
        "nyu": DatasetRule(1e-3, 10.0, _NYU_EIGEN_FIXED, align_corners=True),
        "kitti": DatasetRule(1e-3, 80.0, "garg", align_corners=True, note="KB-cropped ground truth, Garg crop"),
        "ibims": DatasetRule(0.0, 10.0, _NYU_EIGEN_FIXED, align_corners=True),
        "diode_indoor": DatasetRule(1e-3, 10.0, _NYU_EIGEN_FIXED, align_corners=True),
        "diode_outdoor": DatasetRule(1e-3, 80.0, "garg", align_corners=True),
    },
    metric_alignment=("depth", "scale"),
))


def get_protocol(name: str) -> Protocol:
    """The preset called ``name`` (:func:`list_protocols`); an unknown name lists them."""
    if name not in PROTOCOLS:

        raise InvalidArgumentError(unknown_name_message("protocol", name, PROTOCOLS))
    return PROTOCOLS[name]


def list_protocols() -> dict[str, str]:
    """Preset name -> its one-line description."""
    return {name: protocol.description for name, protocol in PROTOCOLS.items()}


__all__ = [
    "OUTPUT_KINDS",
    "PROTOCOLS",
    "DatasetRule",
    "OutputKind",
    "Protocol",
    "get_protocol",
    "list_protocols",
    "output_kind",
    "register_output_kind",
    "register_protocol",
]
