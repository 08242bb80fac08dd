"""An independent float64 numpy evaluation, written the way the reference scripts (BTS, monodepth2) are."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

NAMES = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3")


def compute_errors(gt: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """BTS' compute_errors on 1-D arrays of valid pixels, in float64, with the silog variance clamped."""
    gt, pred = gt.astype(np.float64), pred.astype(np.float64)
    thresh = np.maximum(gt / pred, pred / gt)
    err = np.log(pred) - np.log(gt)
    return {
        "abs_rel": np.mean(np.abs(gt - pred) / gt),
        "sq_rel": np.mean(((gt - pred) ** 2) / gt),
        "rmse": np.sqrt(np.mean((gt - pred) ** 2)),
        "rmse_log": np.sqrt(np.mean((np.log(gt) - np.log(pred)) ** 2)),
        "log10": np.mean(np.abs(np.log10(pred) - np.log10(gt))),
        "silog": np.sqrt(max(np.mean(err**2) - np.mean(err) ** 2, 0.0)) * 100,
        "d1": np.mean(thresh < 1.25),
        "d2": np.mean(thresh < 1.25**2),
        "d3": np.mean(thresh < 1.25**3),
    }


def evaluate(
    preds: np.ndarray,
    gts: np.ndarray,
    *,
    min_depth: float = 1e-3,
    max_depth: float = 10.0,
    box: tuple[int, int, int, int] | None = None,
    average: str = "image",
    median_scaling: bool = False,
    clamp: bool = True,
    valid: np.ndarray | None = None,
) -> dict[str, float]:
    """Loop over (N, H, W) images like the reference scripts; pooled mode concatenates pixels (DenseDepth)."""
    kept_gt, kept_pred = [], []
    for index in range(gts.shape[0]):
        gt, pred = gts[index].astype(np.float64), preds[index].astype(np.float64).copy()
        with np.errstate(invalid="ignore"):
            mask = (gt > min_depth) & (gt < max_depth)
        if box is not None:
            crop = np.zeros_like(mask)
            crop[box[0] : box[1], box[2] : box[3]] = True
            mask &= crop
        if valid is not None:
            mask &= valid[index]
        if not mask.any():
            continue
        pred[np.isnan(pred)] = min_depth
        pred[np.isposinf(pred)] = max_depth
        pred[np.isneginf(pred)] = min_depth
        gt, pred = gt[mask], pred[mask]
        if median_scaling:
            pred *= np.median(gt) / np.median(pred)
        if clamp:
            pred[pred < min_depth] = min_depth
            pred[pred > max_depth] = max_depth
        kept_gt.append(gt)
        kept_pred.append(pred)
    if average == "pixel":
        return compute_errors(np.concatenate(kept_gt), np.concatenate(kept_pred))
    per_image = [compute_errors(gt, pred) for gt, pred in zip(kept_gt, kept_pred)]
    return {name: float(np.mean([errors[name] for errors in per_image])) for name in NAMES}


@pytest.fixture
def numpy_evaluate() -> Callable[..., dict[str, float]]:
    return evaluate


@pytest.fixture
def numpy_errors() -> Callable[[np.ndarray, np.ndarray], dict[str, float]]:
    return compute_errors
