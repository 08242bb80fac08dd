"""iBims-1 depth-boundary errors: hand-built edge maps with known distances, Canny, and DepthMetrics(boundary=True)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from depthzoo.errors import InvalidArgumentError
from depthzoo.metrics import DepthMetrics
from depthzoo.metrics.boundary import (
    CANNY_HIGH,
    CANNY_LOW,
    CANNY_SIGMA,
    MAX_DISTANCE,
    boundary_errors,
    canny_edges,
    chamfer_errors,
    depth_edges,
    normalize_depth,
)

HEIGHT, WIDTH = 30, 64


def steps(*edges: tuple[float, float, float], height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """Depth of vertical steps: each (column, before, after) is a 2-pixel linear ramp centred on that column.

    A ramp centred on a pixel gives its gradient one maximum there, so Canny's edge is exactly that column
    (a step between two pixels would tie them and let rounding choose).
    """
    columns = np.arange(width, dtype=np.float64)
    row = np.full(width, edges[0][1])
    for column, before, after in edges:
        row = np.where(columns >= column - 1, np.interp(columns, [column - 1, column + 1], [before, after]), row)
    return np.tile(row, (height, 1))


def test_a_pixel_centred_step_has_a_one_pixel_edge_on_its_column() -> None:
    edges = depth_edges(steps((20, 2.0, 4.0)))
    rows, columns = np.nonzero(edges)
    assert set(columns.tolist()) == {20}
    assert rows.tolist() == list(range(1, HEIGHT - 1))  # the image border never holds an edge (eroded mask)


@pytest.mark.parametrize("shift", [0, 1, 2, 3, 5, 9])
@pytest.mark.parametrize("axis", [0, 1])
def test_an_edge_shifted_by_k_pixels_scores_k(shift: int, axis: int) -> None:
    target, pred = steps((20, 2.0, 4.0), width=48), steps((20 + shift, 2.0, 4.0), width=48)
    if axis == 0:  # horizontal edges, shifted down
        target, pred = target.T, pred.T
    assert boundary_errors(pred, target) == (pytest.approx(shift, abs=1e-12), pytest.approx(shift, abs=1e-12))


@pytest.mark.parametrize("shift", [10, 14])
def test_an_edge_10_or_more_pixels_away_scores_the_maximum(shift: int) -> None:
    # No predicted edge lies strictly within max_dist_thr = 10 of a true one: both errors are 10 (official).
    target, pred = steps((20, 2.0, 4.0), width=48), steps((20 + shift, 2.0, 4.0), width=48)
    assert boundary_errors(pred, target) == (MAX_DISTANCE, MAX_DISTANCE)


def test_a_missed_edge_costs_completeness_not_accuracy() -> None:
    # Ground truth: steps at columns 15 and 40 (25 px apart); the prediction has only the first. The predicted edge
    # sits on a true one (accuracy 0); the 28 true pixels of the missed edge are 25 px from it, truncated to 10:
    # completeness = (0 * 28 + (0 * 28 + 10 * 28)) / (28 + 56) = 10 / 3.
    target = steps((15, 2.0, 3.0), (40, 3.0, 5.0))
    pred = steps((15, 2.0, 3.0))
    assert depth_edges(target).sum() == 56 and depth_edges(pred).sum() == 28
    acc, comp = boundary_errors(pred, target)
    assert acc == 0.0
    assert comp == pytest.approx(10 / 3, abs=1e-12)


def test_a_spurious_edge_costs_completeness_and_accuracy_ignores_it_beyond_10_pixels() -> None:
    target = steps((15, 2.0, 3.0))
    pred = steps((15, 2.0, 3.0), (40, 3.0, 5.0))
    acc, comp = boundary_errors(pred, target)
    assert acc == 0.0  # the extra edge is 25 px from any true edge: outside the accuracy's neighbourhood
    assert comp == pytest.approx(10 / 3, abs=1e-12)


def test_chamfer_distances_of_hand_placed_edge_pixels() -> None:
    # Two true pixels, three predicted ones at distances 1, sqrt(2) and 20 (beyond 10) from the nearest true one.
    target = np.zeros((40, 40), dtype=bool)
    target[[10, 10], [10, 11]] = True
    pred = np.zeros_like(target)
    pred[[11, 11, 30], [10, 12, 11]] = True
    acc, comp = chamfer_errors(pred, target)
    assert acc == pytest.approx((1 + math.sqrt(2)) / 2, abs=1e-12)  # the far pixel is left out of the accuracy
    # True -> nearest predicted: (10, 10) -> (11, 10) is 1; (10, 11) -> (11, 10) or (11, 12) is sqrt(2).
    # Completeness: (1 + sqrt(2) + min(20, 10)) + (1 + sqrt(2)) over 3 + 2 pixels.
    expected = (1 + math.sqrt(2) + MAX_DISTANCE + 1 + math.sqrt(2)) / (3 + 2)
    assert comp == pytest.approx(expected, abs=1e-12)


def test_a_flat_prediction_scores_the_maximum_and_edgeless_ground_truth_is_undefined() -> None:
    target = steps((20, 2.0, 4.0))
    assert boundary_errors(np.full_like(target, 3.0), target) == (MAX_DISTANCE, MAX_DISTANCE)
    acc, comp = boundary_errors(target, np.full_like(target, 3.0))
    assert math.isnan(acc) and math.isnan(comp)


def test_a_constant_blurred_by_rounding_is_still_flat() -> None:
    # A constant prediction resized bilinearly differs from itself in the last bits; scaled to [0, 1] that rounding
    # noise would look like edges everywhere.
    target = steps((20, 2.0, 4.0))
    constant = torch.full((1, 1, HEIGHT // 2, WIDTH // 2), 2.9)
    resized = torch.nn.functional.interpolate(constant, size=target.shape, mode="bilinear")[0, 0].numpy()
    assert resized.max() > resized.min()  # the rounding this is about
    assert not depth_edges(resized).any()
    assert boundary_errors(resized, target) == (MAX_DISTANCE, MAX_DISTANCE)
    ramp = np.tile(np.linspace(3.0, 3.0 + 1e-3, WIDTH), (HEIGHT, 1))  # 1 mm over the image is not flat
    assert normalize_depth(ramp).max() == 1.0


def test_edges_ignore_the_depth_scale_and_offset() -> None:
    # The depth is normalised to [0, 1] before Canny: a prediction off by any scale and shift has the same edges.
    target = steps((20, 2.0, 4.0), (44, 4.0, 3.0))
    pred = steps((23, 2.0, 4.0), (44, 4.0, 3.0))
    assert boundary_errors(2.5 * pred + 1.0, target) == boundary_errors(pred, target)
    np.testing.assert_array_equal(normalize_depth(2.5 * pred + 1.0), normalize_depth(pred))
    assert normalize_depth(pred).min() == 0.0 and normalize_depth(pred).max() == 1.0


def test_pixels_without_valid_ground_truth_take_no_part() -> None:
    # A hole in the ground truth over columns 35-63 (e.g. beyond the depth range): a wild edge predicted there
    # changes nothing, and neither does the range of the prediction there (normalisation uses valid pixels only).
    target = steps((15, 2.0, 3.0))
    valid = np.ones(target.shape, dtype=bool)
    valid[:, 35:] = False
    clean = steps((17, 2.0, 3.0))
    wild = steps((17, 2.0, 3.0), (45, 3.0, 9.0))
    expected = boundary_errors(clean, target, valid)
    assert expected == (2.0, 2.0)
    assert boundary_errors(wild, target, valid) == expected
    assert boundary_errors(wild, target) != expected  # without the mask the wild edge counts


def ramp_peak_magnitude() -> float:
    """The Canny gradient magnitude at the centre of a unit pixel-centred ramp (it scales linearly with height)."""
    image = steps((20, 0.0, 1.0)).astype(np.float32)
    smoothed = ndimage.gaussian_filter(image, CANNY_SIGMA, mode="nearest")
    return float(np.hypot(ndimage.sobel(smoothed, 0), ndimage.sobel(smoothed, 1))[HEIGHT // 2, 20])


def test_hysteresis_keeps_weak_edges_only_when_joined_to_a_strong_one() -> None:
    weak = (CANNY_LOW + CANNY_HIGH) / 2 / ramp_peak_magnitude()  # a step whose magnitude lies between the thresholds
    assert 0 < weak < 0.5
    # Column 20: a weak step on every row. Column 45: a step growing from weak (top) to twice that (bottom), so its
    # magnitude crosses the high threshold a third of the way down; the growth is too gentle to make edges itself.
    growth = weak * (1 + np.arange(HEIGHT) / (HEIGHT - 1))[:, None]
    image = steps((20, 0.0, weak)) + steps((45, 0.0, 1.0)) * growth
    edges = canny_edges(image)
    assert not edges[:, 20].any()  # weak and alone: dropped
    assert edges[1 : HEIGHT - 1, 45].all()  # weak top kept through its 8-connected strong part
    assert set(np.nonzero(edges)[1].tolist()) == {45}
    top = canny_edges(image[:11])  # the top rows alone are weak: dropped
    assert not top.any()


def test_canny_equals_scikit_image_on_rendered_rooms() -> None:
    skimage_feature = pytest.importorskip("skimage.feature")
    from depthzoo.synthetic import render_scene

    rng = np.random.default_rng(0)
    compared = 0
    for index in range(6):
        _, depth, raw = render_scene(3, index, 90, 120)
        noisy = depth * rng.uniform(0.95, 1.05, depth.shape)
        for image, mask in ((depth, None), (raw, raw > 0), (noisy, None)):
            normalised = normalize_depth(image, mask)
            expected = skimage_feature.canny(
                normalised, sigma=CANNY_SIGMA, low_threshold=CANNY_LOW, high_threshold=CANNY_HIGH, mask=mask
            )
            np.testing.assert_array_equal(canny_edges(normalised, mask), expected)
            compared += int(expected.sum())
    assert compared > 1000


def test_bad_canny_arguments() -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        canny_edges(np.zeros((8, 8)), low_threshold=0.5, high_threshold=0.2)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        canny_edges(np.zeros((2, 8, 8)))


# --- DepthMetrics(boundary=True) ------------------------------------------------------------------------------


def batch(*maps: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.stack(maps), dtype=torch.float32).unsqueeze(1)


def test_depth_metrics_average_the_per_image_boundary_errors() -> None:
    targets = [steps((20, 2.0, 4.0)), steps((15, 2.0, 3.0), (40, 3.0, 5.0)), np.full((HEIGHT, WIDTH), 3.0)]
    preds = [steps((23, 2.0, 4.0)), steps((15, 2.0, 3.0)), steps((30, 2.0, 4.0))]
    metric = DepthMetrics(boundary=True)
    metric.update(batch(*preds[:2]), batch(*targets[:2]))
    metric.update(batch(preds[2]), batch(targets[2]))  # flat ground truth: evaluated, but without an edge
    result = {k: float(v) for k, v in metric.compute().items()}
    assert result["dbe_acc"] == pytest.approx((3.0 + 0.0) / 2, abs=1e-12)
    assert result["dbe_comp"] == pytest.approx((3.0 + 10 / 3) / 2, abs=1e-12)
    plain = DepthMetrics()
    for pred, target in zip(preds, targets):
        plain.update(batch(pred), batch(target))
    assert {k: v for k, v in result.items() if not k.startswith("dbe")} == pytest.approx(
        {k: float(v) for k, v in plain.compute().items()}, rel=1e-12
    )
    summary = metric.summary()
    assert (summary["images_evaluated"], summary["boundary_images"], summary["boundary_images_without_edges"]) == (
        3,
        2,
        1,
    )


def test_boundary_errors_see_the_resized_cropped_and_clamped_prediction() -> None:
    # A prediction at half resolution is resized to the target first; clamping to max_depth=3.5 turns the 2->4 step
    # into a 2->3.5 step at the same place, which normalisation makes identical.
    target = steps((20, 2.0, 4.0), width=64)
    pred_full = steps((24, 2.0, 4.0), width=64)
    metric = DepthMetrics(boundary=True, max_depth=10.0)
    metric.update(batch(pred_full), batch(target))
    clamped = DepthMetrics(boundary=True, max_depth=4.5)
    clamped.update(batch(np.minimum(pred_full * 1.2, 20.0)), batch(target))
    assert float(metric.compute()["dbe_acc"]) == pytest.approx(4.0, abs=1e-12)
    assert float(clamped.compute()["dbe_acc"]) == pytest.approx(4.0, abs=1e-12)
    half = torch.nn.functional.interpolate(batch(pred_full), scale_factor=0.5, mode="bilinear")
    resized = DepthMetrics(boundary=True)
    resized.update(half, batch(target))
    expected = boundary_errors(
        torch.nn.functional.interpolate(half, size=target.shape, mode="bilinear")[0, 0].numpy(), target
    )
    assert float(resized.compute()["dbe_acc"]) == pytest.approx(expected[0], abs=1e-12)


def test_sparse_ground_truth_is_refused_with_a_clear_error() -> None:
    target = steps((20, 2.0, 4.0))
    sparse = target.copy()
    sparse[np.random.default_rng(0).random(sparse.shape) < 0.7] = 0.0  # 30 % valid, like KITTI's LiDAR
    metric = DepthMetrics(boundary=True, max_depth=80.0)
    with pytest.raises(InvalidArgumentError, match=r"dense ground truth.*only 3\d% valid.*KITTI"):
        metric.update(batch(target), batch(sparse))
    assert metric.summary()["images_seen"] == 0  # nothing was accumulated
    DepthMetrics(max_depth=80.0).update(batch(target), batch(sparse))  # the nine metrics take sparse ground truth


def test_no_edge_anywhere_is_an_error_at_compute_and_a_batch_without_edges_has_no_value() -> None:
    flat = np.full((HEIGHT, WIDTH), 3.0)
    metric = DepthMetrics(boundary=True)
    batch_values = metric(batch(flat), batch(flat))
    assert "d1" in batch_values and "dbe_acc" not in batch_values
    with pytest.raises(ValueError, match="has a depth edge in its ground truth"):
        metric.compute()
    metric.update(batch(steps((20, 2.0, 4.0))), batch(steps((20, 2.0, 4.0))))
    assert float(metric.compute()["dbe_acc"]) == 0.0


def test_boundary_false_keeps_the_states_and_boundary_true_adds_three_sums() -> None:
    plain, with_boundary = DepthMetrics(), DepthMetrics(boundary=True)
    assert plain.state_prefix == with_boundary.state_prefix
    added = set(with_boundary._defaults) - set(plain._defaults)
    assert set(plain._defaults) < set(with_boundary._defaults)
    assert {name.removeprefix(plain.state_prefix) for name in added} == {
        "dbe_sums",
        "dbe_images",
        "dbe_images_without_edges",
    }
    assert all(with_boundary._defaults[name].dtype in (torch.float64, torch.int64) for name in added)
    with pytest.raises(TypeError, match="boundary must be a bool"):
        DepthMetrics(boundary="yes")
