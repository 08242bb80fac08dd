"""DepthMetrics' per-image alignments against closed-form float64 numpy solutions, and their edge cases."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from depthzoo.errors import InvalidArgumentError
from depthzoo.metrics import METRIC_NAMES, DepthMetrics
from depthzoo.metrics.alignment import fit_scale, fit_scale_shift

MIN_DEPTH, MAX_DEPTH = 1e-3, 10.0


def scene(seed: int, batch: int = 3, height: int = 20, width: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """(gt, depth-like prediction) float64 with holes and out-of-range ground truth."""
    rng = np.random.default_rng(seed)
    gt = rng.uniform(0.5, 12.0, (batch, height, width))
    gt[rng.random(gt.shape) < 0.15] = 0.0
    pred = 0.4 * np.nan_to_num(gt, nan=2.0) * rng.uniform(0.8, 1.2, gt.shape) + 0.3
    return gt, pred


def numpy_aligned(g: np.ndarray, p: np.ndarray, alignment: str, prediction: str) -> np.ndarray:
    """The aligned prediction of one image's valid pixels, from np.linalg.lstsq and np.median."""
    if alignment == "median":
        return p * np.median(g) / np.median(p)
    if alignment == "scale":
        (s,), *_ = np.linalg.lstsq(p[:, None], g, rcond=None)
        return s * p
    design = lambda x: np.stack([x, np.ones_like(x)], axis=1)  # noqa: E731
    if alignment == "scale_shift":
        (s, t), *_ = np.linalg.lstsq(design(p), g, rcond=None)
        return s * p + t
    disparity = p if prediction == "disparity" else 1.0 / np.maximum(p, MIN_DEPTH)
    (s, t), *_ = np.linalg.lstsq(design(disparity), 1.0 / g, rcond=None)
    return 1.0 / np.maximum(s * disparity + t, 1.0 / MAX_DEPTH)


def numpy_reference(gt, pred, alignment, prediction, numpy_errors) -> dict[str, float]:
    per_image = []
    for g_img, p_img in zip(gt, pred):
        mask = (g_img > MIN_DEPTH) & (g_img < MAX_DEPTH)
        aligned = np.clip(numpy_aligned(g_img[mask], p_img[mask], alignment, prediction), MIN_DEPTH, MAX_DEPTH)
        per_image.append(numpy_errors(g_img[mask], aligned))
    return {name: float(np.mean([e[name] for e in per_image])) for name in METRIC_NAMES}


@pytest.mark.parametrize(
    ("alignment", "prediction"),
    [("median", "depth"), ("scale", "depth"), ("scale_shift", "depth"), ("scale_shift_disparity", "depth"),
     ("scale_shift_disparity", "disparity")],
)
def test_each_alignment_matches_its_closed_form(alignment: str, prediction: str, numpy_errors) -> None:
    gt, pred = scene(1)
    if prediction == "disparity":
        pred = 2.0 / np.where(gt > 0, gt, 5.0) * np.random.default_rng(2).uniform(0.9, 1.1, gt.shape) + 0.05
    metric = DepthMetrics(MIN_DEPTH, MAX_DEPTH, alignment=alignment, prediction=prediction)
    metric.update(torch.from_numpy(pred).float(), torch.from_numpy(gt).float())
    result = {k: float(v) for k, v in metric.compute().items()}
    as_float32 = lambda x: x.astype(np.float32).astype(np.float64)  # noqa: E731  (what the metric is given)
    expected = numpy_reference(as_float32(gt), as_float32(pred), alignment, prediction, numpy_errors)
    assert result == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_affine_predictions_are_recovered_exactly() -> None:
    gt, _ = scene(3)
    target = torch.from_numpy(gt)
    valid = (target > MIN_DEPTH) & (target < MAX_DEPTH)
    cases = [
        ("scale", "depth", 0.37 * target),
        ("scale_shift", "depth", 0.5 * target - 2.0),
        ("scale_shift_disparity", "disparity", 3.0 / target.clamp(min=0.5) + 0.2),
        ("scale_shift_disparity", "depth", 1.0 / (0.25 / target.clamp(min=0.5) + 0.01)),
    ]
    for alignment, prediction, pred in cases:
        metric = DepthMetrics(MIN_DEPTH, MAX_DEPTH, alignment=alignment, prediction=prediction)
        metric.update(torch.where(valid, pred, 1.0), target)
        result = metric.compute()
        assert float(result["abs_rel"]) < 1e-12 and float(result["d1"]) == 1.0, (alignment, prediction)


def test_solves_are_float64_whatever_the_input_dtype() -> None:
    # Depths around 1000 with mm-scale structure: float32 sums would lose the shift to rounding.
    rng = np.random.default_rng(4)
    g = 1000.0 + rng.uniform(0, 1, (1, 50, 60))
    p = (g - 1000.0) * 2.0 + 5.0
    mask = torch.ones(1, 50, 60, dtype=torch.bool)
    s, t = fit_scale_shift(torch.from_numpy(p).float(), torch.from_numpy(g).float(), mask)
    p32, g32 = p.astype(np.float32).astype(np.float64).ravel(), g.astype(np.float32).astype(np.float64).ravel()
    (s_ref, t_ref), *_ = np.linalg.lstsq(np.stack([p32, np.ones_like(p32)], 1), g32, rcond=None)
    assert s.dtype == torch.float64
    assert float(s[0]) == pytest.approx(s_ref, rel=1e-9) and float(t[0]) == pytest.approx(t_ref, rel=1e-12)
    scale = fit_scale(torch.from_numpy(p).float(), torch.from_numpy(g).float(), mask)
    assert float(scale[0]) == pytest.approx(float(p32 @ g32 / (p32 @ p32)), rel=1e-12)


def test_masked_pixels_do_not_count_and_degenerate_images_get_the_mean() -> None:
    target = torch.tensor([[[1.0, 2.0, 4.0, 100.0]], [[1.0, 2.0, 3.0, 4.0]], [[1.0, 1.0, 1.0, 1.0]]])
    pred = torch.tensor([[[1.0, 2.0, 4.0, -7.0]], [[5.0, 5.0, 5.0, 5.0]], [[0.0, 1.0, 2.0, 3.0]]])
    mask = torch.tensor([[[True, True, True, False]], [[True] * 4], [[False] * 4]])
    scale, shift = fit_scale_shift(pred, target, mask)
    assert scale.tolist() == pytest.approx([1.0, 0.0, 1.0]) and shift.tolist() == pytest.approx([0.0, 2.5, 0.0])
    # A constant 0.1 has an inexact mean in float64; it must still count as constant, not as a huge scale.
    constant = torch.full((1, 1, 3), 0.1, dtype=torch.float64)
    scale, shift = fit_scale_shift(constant, target[1:2, :, :3], mask[1:2, :, :3])
    assert float(scale[0]) == 0.0 and float(shift[0]) == pytest.approx(2.0)


def test_disparity_alignment_caps_depth_at_max_depth_as_midas() -> None:
    # A far pixel whose fitted disparity falls below 1 / max_depth becomes max_depth, never negative or infinite.
    target = torch.tensor([[[1.0, 2.0, 4.0, 8.0]]], dtype=torch.float64)
    pred = torch.tensor([[[1.0, 0.5, 0.25, -0.5]]], dtype=torch.float64)  # the last disparity is nonsense
    metric = DepthMetrics(MIN_DEPTH, MAX_DEPTH, alignment="scale_shift_disparity", prediction="disparity")
    aligned = metric._affine_aligned(pred, target, torch.ones_like(target, dtype=torch.bool))
    assert torch.isfinite(aligned).all() and float(aligned[0, 0, -1]) == pytest.approx(MAX_DEPTH)


def test_none_and_median_keep_the_state_names_of_earlier_versions() -> None:
    def prefix(median: bool) -> str:
        settings = (MIN_DEPTH, MAX_DEPTH, None, median, True, False)
        return "depth_" + hashlib.sha1(repr(settings).encode()).hexdigest()[:8] + "_"

    assert DepthMetrics(MIN_DEPTH, MAX_DEPTH).state_prefix == prefix(False)
    assert DepthMetrics(MIN_DEPTH, MAX_DEPTH, alignment="none").state_prefix == prefix(False)
    assert DepthMetrics(MIN_DEPTH, MAX_DEPTH, median_scaling=True).state_prefix == prefix(True)
    assert DepthMetrics(MIN_DEPTH, MAX_DEPTH, alignment="median").state_prefix == prefix(True)
    assert DepthMetrics(MIN_DEPTH, MAX_DEPTH, alignment="median").median_scaling is True
    others = {DepthMetrics(alignment=a).state_prefix for a in ("scale", "scale_shift", "scale_shift_disparity")}
    assert len(others) == 3 and prefix(False) not in others


def test_median_scaling_is_the_median_alignment() -> None:
    gt, pred = scene(5)
    results = []
    for options in ({"median_scaling": True}, {"alignment": "median"}):
        metric = DepthMetrics(MIN_DEPTH, MAX_DEPTH, **options)
        metric.update(torch.from_numpy(pred), torch.from_numpy(gt))
        results.append({k: float(v) for k, v in metric.compute().items()})
    assert results[0] == results[1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"alignment": "affine"}, "alignment must be one of"),
        ({"alignment": "scale", "median_scaling": True}, "median_scaling=True is alignment='median'"),
        ({"prediction": "disparity"}, "scale_shift_disparity"),
        ({"prediction": "disparity", "alignment": "scale_shift"}, "no metric depth"),
        ({"prediction": "inverse"}, "'depth' or 'disparity'"),
    ],
)
def test_bad_alignment_settings_are_rejected(options: dict, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        DepthMetrics(**options)
