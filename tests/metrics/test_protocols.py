"""The protocol presets against the authors' own evaluation code (stored numbers) and against hand-made cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from depthzoo.errors import InvalidArgumentError
from depthzoo.metrics.alignment import fit_scale_l1, fit_scale_shift_l1, masked_nearest_subset
from depthzoo.metrics.protocols import (
    OUTPUT_KINDS,
    Protocol,
    get_protocol,
    list_protocols,
    register_output_kind,
)
from tests.helpers.protocol_cases import CASES, case_arrays
from tests.metrics.conftest import compute_errors

REFERENCE = json.loads((Path(__file__).parents[1] / "helpers" / "data" / "protocol_reference.json").read_text())
SOURCES = {"metric": "depth", "relative_depth": "depth", "relative_disparity": "disparity"}
# The authors compute in float32 (and MoGe's AbsRel divides by g + 1e-6): agreement to 1e-5 relative.
TOLERANCE = dict(rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.key)
def test_presets_equal_the_authors_code_on_the_stored_arrays(case) -> None:
    arrays = case_arrays(case)
    protocol = get_protocol(case.protocol)
    masks = arrays["mask"] if case.masked else None
    for kind, expected in REFERENCE["cases"][case.key].items():
        scores = protocol.score(arrays[SOURCES[kind]], arrays["target"], case.dataset, kind, masks=masks)
        assert scores["images"] == case.images
        for name, value in expected.items():
            assert scores[name] == pytest.approx(value, **TOLERANCE), f"{case.key} {kind} {name}"


def numpy_depth_anything(gts, preds, low, high, box=None) -> dict[str, float]:
    """MiDaS' alignment in disparity, written independently: lstsq on 1/g, floor 1/high, invert, clip, BTS errors."""
    rows = []
    for gt, disparity in zip(gts, preds):
        gt, disparity = gt.astype(np.float64), disparity.astype(np.float64)
        mask = (gt > low) & (gt < high)
        if box is not None:
            inside = np.zeros_like(mask)
            inside[box[0] : box[1], box[2] : box[3]] = True
            mask &= inside
        design = np.stack([disparity[mask], np.ones(mask.sum())], axis=1)
        (s, t), *_ = np.linalg.lstsq(design, 1.0 / gt[mask], rcond=None)
        depth = np.clip(1.0 / np.maximum(s * disparity + t, 1.0 / high), low, high)
        rows.append(compute_errors(gt[mask], depth[mask]))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def test_depth_anything_preset_is_midas_alignment_in_disparity() -> None:
    case = CASES[0]  # 480x640: the NYU Eigen crop applies as published
    arrays = case_arrays(case)
    scores = get_protocol("depth-anything").score(arrays["disparity"], arrays["target"], "nyu", "relative_disparity")
    expected = numpy_depth_anything(arrays["target"], arrays["disparity"], 1e-3, 10.0, (45, 471, 41, 601))
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_a_metric_model_gets_its_aligned_score_beside_and_a_perfect_one_scores_zero() -> None:
    rng = np.random.default_rng(0)
    gt = [rng.uniform(1.0, 4.5, (30, 40)) for _ in range(2)]  # doubled, still inside the 10 m cap
    scores = get_protocol("synthetic").score(gt, gt, "synthetic", "metric")
    assert scores["abs_rel"] == pytest.approx(0.0, abs=1e-12) and scores["d1"] == 1.0
    assert scores["aligned_abs_rel"] == pytest.approx(0.0, abs=1e-9)
    doubled = get_protocol("synthetic").score([2 * g for g in gt], gt, "synthetic", "metric")
    assert doubled["abs_rel"] == pytest.approx(1.0) and doubled["aligned_abs_rel"] == pytest.approx(0.0, abs=1e-9)
    relative = get_protocol("synthetic").score([1 / g for g in gt], gt, "synthetic", "relative_disparity")
    assert "aligned_abs_rel" not in relative and relative["abs_rel"] == pytest.approx(0.0, abs=1e-9)


def test_a_new_output_kind_slots_in_without_touching_a_preset() -> None:
    register_output_kind("test_depth_up_to_scale", "depth", "scale", "for this test")
    try:
        rng = np.random.default_rng(1)
        gt = [rng.uniform(1.0, 9.0, (20, 30))]
        for name in list_protocols():
            protocol = get_protocol(name)
            dataset = next(d for d, rule in protocol.datasets.items() if not isinstance(rule.crop, tuple))
            scores = protocol.score([0.3 * g for g in gt], gt, dataset, "test_depth_up_to_scale")
            assert scores["abs_rel"] == pytest.approx(0.0, abs=1e-9), name
    finally:
        del OUTPUT_KINDS["test_depth_up_to_scale"]


def test_annotated_edges_give_the_boundary_errors() -> None:
    columns = np.arange(40)
    target = np.tile(np.interp(columns, [19, 21], [2.0, 4.0]), (30, 1))
    pred = np.tile(np.interp(columns, [22, 24], [2.0, 4.0]), (30, 1))
    edges = np.zeros_like(target, dtype=bool)
    edges[:, 20] = True  # annotated by hand: the step at column 20; the prediction's lies 3 pixels off
    scores = get_protocol("moge").score([pred], [target], "ibims", "metric", edges=[edges])
    # Predicted edges: rows 1-28 (Canny skips the border) at column 23; the true ones' end rows are sqrt(10) away.
    assert scores["dbe_acc"] == pytest.approx(3.0)
    assert scores["dbe_comp"] == pytest.approx((28 * 3 + 28 * 3 + 2 * math.sqrt(10)) / 58)


def test_bad_input_is_refused_with_what_to_do() -> None:
    protocol = get_protocol("marigold")
    gt = [np.ones((4, 4))]
    with pytest.raises(InvalidArgumentError, match="does not define dataset 'sintel'.*defines diode, eth3d"):
        protocol.score(gt, gt, "sintel", "metric")
    with pytest.raises(InvalidArgumentError, match="unknown protocol 'marigld'.*marigold"):
        get_protocol("marigld")
    with pytest.raises(InvalidArgumentError, match="output kind"):
        protocol.score(gt, gt, "nyu", "relative_points")
    with pytest.raises(InvalidArgumentError, match="resize predictions"):
        protocol.score([np.ones((2, 2))], gt, "scannet", "metric")
    with pytest.raises(InvalidArgumentError, match="1 predictions but 2 targets"):
        protocol.score(gt, gt * 2, "scannet", "metric")


def test_moge_drops_ground_truth_beyond_1000_times_its_1_percent_quantile() -> None:
    gt = np.full((10, 10), 2.0)
    gt[0, 0] = 5000.0  # a sky pixel: beyond 1000 x 2 m
    pred = gt.copy()
    pred[0, 0] = 1.0
    assert get_protocol("moge").score([pred], [gt], "nyu", "metric")["abs_rel"] == pytest.approx(0.0)


def test_l1_fits_are_exact_minimisers() -> None:
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.uniform(0.5, 5, 300))
    y = 0.7 * x + 0.3 + torch.from_numpy(rng.standard_t(2, 300)) * 0.2
    w = 1 / y.abs()
    s, t = fit_scale_shift_l1(x, y, w)
    loss = lambda a, b: float((w * (a * x + b - y).abs()).sum())  # noqa: E731
    best = min(  # every line through two points, the exhaustive search
        loss(a, float(y[j] - a * x[j]))
        for i in range(0, 300, 7) for j in range(300) if x[i] != x[j]
        for a in [float((y[i] - y[j]) / (x[i] - x[j]))]
    )
    assert loss(float(s), float(t)) <= best + 1e-9
    for delta in (1e-4, -1e-4):
        assert loss(float(s) + delta, float(t)) >= loss(float(s), float(t))
    scale = float(fit_scale_l1(x, y, w))
    assert all(float((w * (a * x - y).abs()).sum()) >= float((w * (scale * x - y).abs()).sum()) - 1e-12
               for a in np.linspace(scale - 0.1, scale + 0.1, 41))


def test_subset_picks_one_valid_pixel_per_cell_nearest_its_centre() -> None:
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[0, 0] = mask[2, 2] = mask[5, 6] = True
    rows, cols, found = masked_nearest_subset(mask, (2, 2))
    assert found.tolist() == [[True, False], [False, True]]
    assert (int(rows[0, 0]), int(cols[0, 0])) == (2, 2)  # its centre (2.5, 2.5) is nearer (2, 2) than (0.5, 0.5)
    assert (int(rows[1, 1]), int(cols[1, 1])) == (5, 6)


def test_every_preset_is_listed_and_documented() -> None:
    names = list_protocols()
    assert {"depth-anything", "marigold", "moge", "zoedepth-metric", "synthetic"} <= set(names)
    for name in names:
        protocol = get_protocol(name)
        assert isinstance(protocol, Protocol) and protocol.source and names[name]
        for rule in protocol.datasets.values():
            assert rule.min_depth < rule.max_depth and (math.isinf(rule.max_depth) or rule.max_depth > 1)
