"""DepthMetrics against hand-computed values (EVALUATION test vectors) and an independent numpy evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchmetrics import MetricCollection
from torchmetrics.utilities.data import dim_zero_sum

from depthzoo.metrics import METRIC_NAMES, DepthMetrics, numpy_median
from depthzoo.metrics.depth_metrics import metrics_from_sums

NYU_EIGEN_BOX = (45, 471, 41, 601)  # the published numpy slice at 480x640


def floats(result: dict[str, torch.Tensor]) -> dict[str, float]:
    return {name: float(value) for name, value in result.items()}


def assert_matches(result: dict[str, torch.Tensor], expected: dict[str, float], rel: float = 1e-12) -> None:
    assert list(result) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert float(result[name]) == pytest.approx(expected[name], rel=rel, abs=1e-12), name


def evaluate_once(pred: torch.Tensor, target: torch.Tensor, **options) -> dict[str, torch.Tensor]:
    metric = DepthMetrics(**options)
    metric.update(pred, target)
    return metric.compute()


def random_scene(batch: int, height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, target) in (B, 1, H, W) with 0, NaN, inf and out-of-range ground truth sprinkled in."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(batch, 1, height, width, generator=generator) * 12 + 0.01
    target[torch.rand(target.shape, generator=generator) < 0.1] = 0.0
    target.view(-1)[:: 97] = float("nan")
    target.view(-1)[5::101] = float("inf")
    pred = target.nan_to_num(2.0, posinf=3.0) * (0.7 + 0.6 * torch.rand(target.shape, generator=generator))
    pred += 0.05 * torch.rand(target.shape, generator=generator)  # nonzero where the target is 0
    return pred, target


# --- EVALUATION test vectors ----------------------------------------------------------------------------


@pytest.mark.parametrize("average", ["image", "pixel"])
def test_tv1_hand_vector(average: str) -> None:
    result = evaluate_once(torch.tensor([[[2.0, 2.0, 2.0]]]), torch.tensor([[[1.0, 2.0, 4.0]]]), average=average)
    expected = {
        "abs_rel": 0.5,
        "sq_rel": 2 / 3,
        "rmse": math.sqrt(5 / 3),
        "rmse_log": math.log(2) * math.sqrt(2 / 3),
        "log10": 2 / 3 * math.log10(2),
        "silog": 100 * math.log(2) * math.sqrt(2 / 3),
        "d1": 1 / 3,
        "d2": 1 / 3,
        "d3": 1 / 3,  # the ratio 2 is not < 1.25**3 = 1.953125
    }
    assert_matches(result, expected, rel=1e-14)
    assert all(value.dtype == torch.float64 and value.ndim == 0 for value in result.values())
    assert floats(result)["sq_rel"] == pytest.approx(0.6666667, abs=1e-7)
    assert floats(result)["silog"] == pytest.approx(56.59523, abs=1e-5)


def tv4_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Image 1: 10 valid pixels, 5-15 % over; image 2: 1000 valid pixels, 15-25 % under (float64)."""
    target = torch.zeros(2, 1, 40, 25, dtype=torch.float64)
    pred = torch.ones_like(target)
    gt1 = torch.linspace(1, 3, 10, dtype=torch.float64)
    target[0].view(-1)[:10] = gt1
    pred[0].view(-1)[:10] = gt1 * torch.linspace(1.05, 1.15, 10, dtype=torch.float64)
    gt2 = torch.linspace(4, 6, 1000, dtype=torch.float64)
    target[1].view(-1)[:] = gt2
    pred[1].view(-1)[:] = gt2 * torch.linspace(0.75, 0.85, 1000, dtype=torch.float64)
    return pred, target


def test_tv4_per_image_and_pooled_against_numpy(numpy_evaluate) -> None:
    pred, target = tv4_batch()
    per_image = evaluate_once(pred, target, average="image")
    pooled = evaluate_once(pred, target, average="pixel")
    assert_matches(per_image, numpy_evaluate(pred[:, 0].numpy(), target[:, 0].numpy(), average="image"))
    assert_matches(pooled, numpy_evaluate(pred[:, 0].numpy(), target[:, 0].numpy(), average="pixel"))
    # Equal image weights vs a pool dominated by the 1000-pixel image.
    assert float(per_image["abs_rel"]) == pytest.approx(0.15, abs=1e-3)
    assert float(pooled["abs_rel"]) == pytest.approx((10 * 0.1 + 1000 * 0.2) / 1010, abs=1e-3)
    for name in ("abs_rel", "rmse", "silog", "d1"):
        assert abs(float(per_image[name]) - float(pooled[name])) > 0.02 * abs(float(pooled[name])), name
    assert float(per_image["d1"]) == pytest.approx(0.75, abs=2e-3)
    for name in ("d2", "d3"):
        assert float(per_image[name]) == float(pooled[name]) == 1.0


@pytest.mark.parametrize(
    ("gt", "dtype"),
    [([1.0, 2.0, 9.0], torch.float64), ([1.0, 3.0, 50.0], torch.float32)],
)
def test_tv5_silog_of_a_constant_ratio_is_zero_not_nan(gt: list[float], dtype: torch.dtype) -> None:
    target = torch.tensor([[gt]], dtype=dtype)
    pred = target * torch.tensor(1.3, dtype=dtype)
    silog = float(evaluate_once(pred, target, max_depth=100.0)["silog"])
    assert math.isfinite(silog)
    assert silog == pytest.approx(0.0, abs=1e-4)  # float32 inputs are only 1.3 * g to float32 precision


def test_silog_variance_is_clamped_at_zero() -> None:
    # mean(e^2) - mean(e)^2 = 0.04 - 0.2**2 rounds below zero in float64; unclamped sqrt would be NaN.
    sums = torch.tensor([0.0, 0.0, 0.0, 0.2, 0.04, 0.2, 1.0, 1.0, 1.0], dtype=torch.float64)
    assert float(sums[4] - sums[3] ** 2) < 0
    values = metrics_from_sums(sums, torch.tensor(1))
    assert float(values[METRIC_NAMES.index("silog")]) == 0.0


def test_tv6_median_uses_numpy_semantics() -> None:
    values = torch.tensor([1.0, 2.0, 3.0, 10.0])
    assert float(numpy_median(values)) == 2.5
    assert float(torch.median(values)) == 2.0  # the lower middle value: the reason numpy_median exists
    assert float(numpy_median(torch.tensor([3.0, 1.0, 2.0]))) == 2.0
    generator = torch.Generator().manual_seed(1)
    for count in (1, 2, 1000, 1001):
        sample = torch.rand(count, generator=generator, dtype=torch.float64)
        assert float(numpy_median(sample)) == np.median(sample.numpy())
    for ties in ([5.0, 1.0, 5.0, 5.0], [2.0, 2.0, 7.0, 7.0], [4.0, 4.0, 4.0, 4.0], [1.0, 3.0, 3.0, 8.0, 9.0, 9.0]):
        assert float(numpy_median(torch.tensor(ties))) == np.median(ties), ties
    with pytest.raises(ValueError, match="empty"):
        numpy_median(torch.empty(0))


# --- the evaluation pipeline against the numpy reference ---------------------------------------------------


@pytest.mark.parametrize("average", ["image", "pixel"])
def test_nyu_protocol_with_eigen_crop_and_invalid_pixels(numpy_evaluate, average: str) -> None:
    pred, target = random_scene(2, 480, 640)
    result = evaluate_once(pred, target, crop="eigen_nyu", average=average)
    expected = numpy_evaluate(pred[:, 0].numpy(), target[:, 0].numpy(), box=NYU_EIGEN_BOX, average=average)
    assert_matches(result, expected, rel=1e-10)
    uncropped = evaluate_once(pred, target, average=average)
    assert float(uncropped["rmse"]) != pytest.approx(float(result["rmse"]), rel=1e-6)


def test_kitti_range_and_garg_crop(numpy_evaluate) -> None:
    pred, target = random_scene(1, 375, 1242, seed=3)
    target *= 7.0  # up to about 84 m: some pixels beyond the 80 m cap
    result = evaluate_once(pred * 7.0, target, crop="garg", max_depth=80.0)
    expected = numpy_evaluate(pred[:, 0].numpy() * 7.0, target[:, 0].numpy(), box=(153, 371, 44, 1197), max_depth=80.0)
    assert_matches(result, expected, rel=1e-10)


def test_channel_dimension_is_optional() -> None:
    pred, target = random_scene(3, 20, 30)
    assert floats(evaluate_once(pred, target)) == floats(evaluate_once(pred[:, 0], target[:, 0]))


def test_clamping_to_the_depth_range(numpy_evaluate) -> None:
    pred, target = random_scene(2, 30, 40, seed=5)
    pred *= 2.0  # many predictions beyond max_depth=10
    for clamp in (True, False):
        result = evaluate_once(pred, target, clamp=clamp)
        assert_matches(result, numpy_evaluate(pred[:, 0].numpy(), target[:, 0].numpy(), clamp=clamp), rel=1e-10)
    clamped, unclamped = evaluate_once(pred, target, clamp=True), evaluate_once(pred, target, clamp=False)
    assert float(clamped["rmse"]) < float(unclamped["rmse"])


def test_unclamped_non_positive_prediction_is_an_error() -> None:
    pred, target = random_scene(1, 10, 10)
    pred[0, 0, 4, 4], target[0, 0, 4, 4] = -1.0, 2.0
    with pytest.raises(ValueError, match="clamp=False"):
        evaluate_once(pred, target, clamp=False)
    assert math.isfinite(float(evaluate_once(pred, target, clamp=True)["rmse_log"]))


def test_non_finite_predictions_are_replaced_like_bts(numpy_evaluate) -> None:
    pred, target = (tensor.double() for tensor in random_scene(2, 30, 40, seed=7))
    target[:, :, :3] = 5.0  # make sure the poisoned pixels are valid
    pred[0, 0, 0, :5] = float("nan")
    pred[0, 0, 1, :5] = float("inf")
    pred[1, 0, 2, :5] = -float("inf")
    for average in ("image", "pixel"):
        result = evaluate_once(pred, target, average=average)
        assert all(math.isfinite(value) for value in floats(result).values())
        assert_matches(result, numpy_evaluate(pred[:, 0].numpy(), target[:, 0].numpy(), average=average), rel=1e-10)
    replaced = pred.clone()
    replaced[0, 0, 0, :5], replaced[0, 0, 1, :5], replaced[1, 0, 2, :5] = 1e-3, 10.0, 1e-3
    assert floats(evaluate_once(pred, target)) == floats(evaluate_once(replaced, target))


@pytest.mark.parametrize("average", ["image", "pixel"])
def test_median_scaling_as_monodepth2(numpy_evaluate, average: str) -> None:
    pred, target = random_scene(3, 24, 32, seed=11)
    pred[1] *= 0.1  # a scale-ambiguous prediction
    options = {"max_depth": 80.0, "median_scaling": True, "average": average}
    result = evaluate_once(pred, target, **options)
    assert_matches(result, numpy_evaluate(pred[:, 0].numpy(), target[:, 0].numpy(), **options), rel=1e-10)
    # Median scaling is invariant to a global scale of the prediction.
    assert_matches(evaluate_once(pred * 3.0, target, **options), floats(result), rel=1e-6)


def test_median_scaling_rejects_a_non_positive_median() -> None:
    pred, target = random_scene(1, 8, 8)
    with pytest.raises(ValueError, match="positive median"):
        evaluate_once(-pred, target, median_scaling=True)


def test_extra_valid_mask_is_anded(numpy_evaluate) -> None:
    pred, target = random_scene(2, 20, 24, seed=13)
    valid = torch.rand(target.shape, generator=torch.Generator().manual_seed(2)) < 0.5
    metric = DepthMetrics(average="pixel")
    metric.update(pred, target, valid=valid)
    expected = numpy_evaluate(pred[:, 0].numpy(), target[:, 0].numpy(), valid=valid[:, 0].numpy(), average="pixel")
    assert_matches(metric.compute(), expected, rel=1e-10)
    assert metric.summary()["valid_pixels"] == int((valid & (target > 1e-3) & (target < 10)).sum())


# --- resizing --------------------------------------------------------------------------------------------


def test_resize_with_align_corners_reproduces_a_linear_ramp(numpy_evaluate) -> None:
    low_h, low_w, height, width = 6, 8, 16, 22
    ys, xs = torch.meshgrid(torch.arange(low_h), torch.arange(low_w), indexing="ij")
    low = (2.0 + 0.3 * ys + 0.1 * xs).double()[None, None]
    fys, fxs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    full = 2.0 + 0.3 * fys * (low_h - 1) / (height - 1) + 0.1 * fxs * (low_w - 1) / (width - 1)
    target = (full * 1.2 + 0.1 * torch.sin(fxs.double()))[None, None]
    result = evaluate_once(low, target, align_corners=True)
    # torch computes the source coordinates in float32, hence the looser tolerance.
    assert_matches(result, numpy_evaluate(full[None].numpy(), target[:, 0].numpy()), rel=1e-6)


def bilinear_half_pixel(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize with pixel-centre alignment (align_corners=False), edges clamped."""

    def taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        source = np.maximum((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0.0)
        lower = np.floor(source).astype(int)
        return lower, np.minimum(lower + 1, size_in - 1), source - lower

    y0, y1, wy = taps(image.shape[0], height)
    x0, x1, wx = taps(image.shape[1], width)
    top = image[y0][:, x0] * (1 - wx) + image[y0][:, x1] * wx
    bottom = image[y1][:, x0] * (1 - wx) + image[y1][:, x1] * wx
    return top * (1 - wy)[:, None] + bottom * wy[:, None]


def test_resize_without_align_corners_and_nan_does_not_spread(numpy_evaluate) -> None:
    generator = torch.Generator().manual_seed(17)
    low = torch.rand(1, 1, 7, 9, generator=generator, dtype=torch.float64) * 5 + 1
    target = torch.rand(1, 1, 20, 27, generator=generator, dtype=torch.float64) * 6 + 1
    expected_pred = bilinear_half_pixel(low[0, 0].numpy(), 20, 27)[None]
    result = evaluate_once(low, target, align_corners=False)
    assert_matches(result, numpy_evaluate(expected_pred, target[:, 0].numpy()), rel=1e-9)
    corners = evaluate_once(low, target, align_corners=True)
    assert float(result["rmse"]) != pytest.approx(float(corners["rmse"]), rel=1e-6)
    # A NaN is replaced by min_depth before resizing, so it only pulls its neighbourhood down, never poisons it.
    poisoned = low.clone()
    poisoned[0, 0, 3, 4] = float("nan")
    replaced = low.clone()
    replaced[0, 0, 3, 4] = 1e-3
    assert floats(evaluate_once(poisoned, target)) == floats(evaluate_once(replaced, target))


# --- accumulation, skipping and errors ---------------------------------------------------------------------


@pytest.mark.parametrize("average", ["image", "pixel"])
def test_all_invalid_images_are_skipped_and_counted(numpy_evaluate, average: str) -> None:
    pred, target = random_scene(5, 16, 20, seed=19)
    target[1] = 0.0
    target[3] = float("nan")
    metric = DepthMetrics(average=average)
    metric.update(pred[:2], target[:2])
    metric.update(pred[2:], target[2:])
    result = metric.compute()
    assert all(math.isfinite(value) for value in floats(result).values())
    kept = [0, 2, 4]
    expected = numpy_evaluate(pred[kept, 0].numpy(), target[kept, 0].numpy(), average=average)
    assert_matches(result, expected, rel=1e-10)
    summary = metric.summary()
    assert summary["images_seen"] == 5 and summary["images_evaluated"] == 3 and summary["images_skipped"] == 2


def test_nothing_valid_raises_a_clear_error() -> None:
    metric = DepthMetrics()
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="call update"):
        metric.compute()
    kitti_depth = torch.full((2, 1, 8, 8), 30.0)  # KITTI depths with the NYU default max_depth=10
    metric.update(kitti_depth, kitti_depth)
    with pytest.raises(ValueError, match=r"none of the 2 images.*max_depth=80 for KITTI"):
        metric.compute()
    assert metric.summary() == {"images_seen": 2, "images_evaluated": 0, "images_skipped": 2, "valid_pixels": 0}


def test_forward_returns_batch_values_and_keeps_accumulating() -> None:
    pred, target = random_scene(4, 12, 12, seed=23)
    metric, reference = DepthMetrics(), DepthMetrics()
    batch_value = metric(pred[:2], target[:2])
    assert floats(batch_value) == floats(evaluate_once(pred[:2], target[:2]))
    assert metric(pred[2:], torch.zeros_like(target[2:])) == {}  # no valid pixel in this batch: nothing to report
    metric(pred[2:], target[2:])
    reference.update(pred[:2], target[:2])
    reference.update(pred[2:], target[2:])
    assert floats(metric.compute()) == pytest.approx(floats(reference.compute()), rel=1e-12)
    assert metric.summary()["images_skipped"] == 2


def test_merged_instances_equal_one_instance_over_all_data() -> None:
    pred, target = random_scene(6, 20, 20, seed=29)
    target[4] = 0.0
    for average in ("image", "pixel"):
        whole, first, second = (DepthMetrics(average=average) for _ in range(3))
        whole.update(pred, target)
        first.update(pred[:3], target[:3])
        second.update(pred[3:], target[3:])
        first.merge_state(second)
        assert floats(first.compute()) == pytest.approx(floats(whole.compute()), rel=1e-13)
        assert first.summary() == whole.summary()


def test_float32_trap_more_than_2_pow_24_valid_pixels_are_counted_exactly() -> None:
    size = 4100
    target = torch.full((1, 1, size, size), 2.0)
    target[0, 0, -1, -1] = 0.0
    pred = target.clone()
    pred[:, :, : size // 2] = 2.2
    valid_pixels = size * size - 1
    assert valid_pixels > 2**24 and int(np.float32(valid_pixels)) != valid_pixels  # float32 cannot hold it
    metric = DepthMetrics(average="pixel")
    metric.update(pred, target)
    assert metric.summary()["valid_pixels"] == valid_pixels
    over = float(torch.tensor(2.2)) - 2.0  # the float32 value of 2.2, exactly
    over_pixels = size // 2 * size
    result = floats(metric.compute())
    assert result["abs_rel"] == pytest.approx(over_pixels * over / 2 / valid_pixels, rel=1e-12)
    assert result["rmse"] == pytest.approx(math.sqrt(over_pixels * over**2 / valid_pixels), rel=1e-12)
    assert result["d1"] == 1.0


# --- torchmetrics integration ------------------------------------------------------------------------------


def test_states_are_sums_in_float64_and_int64_with_unique_names() -> None:
    metric = DepthMetrics()
    assert metric.full_state_update is False
    assert all(reduce is dim_zero_sum for reduce in metric._reductions.values())
    for name, default in metric._defaults.items():
        assert name.startswith(metric.state_prefix)
        assert default.dtype in (torch.float64, torch.int64)
    other = DepthMetrics(max_depth=80.0)
    assert set(metric._defaults).isdisjoint(other._defaults)
    # `average` only changes compute(), so those instances share their states by design.
    assert set(DepthMetrics(average="pixel")._defaults) == set(metric._defaults)


def test_metric_collection_never_merges_differently_configured_instances() -> None:
    pred, target = random_scene(2, 60, 80, seed=31)
    settings = {"full": {}, "crop": {"crop": "eigen_nyu"}, "pixel": {"average": "pixel"}}
    collection = MetricCollection({key: DepthMetrics(**options) for key, options in settings.items()})
    # A first batch without a valid pixel leaves every state at its default: generic state names would merge here.
    collection.update(pred, torch.zeros_like(target))
    collection.update(pred, target)
    grouped = sorted(sorted(group) for group in collection.compute_groups.values())
    assert grouped == [["crop"], ["full", "pixel"]]  # full and pixel share identical states, crop never joins
    result = floats(collection.compute())
    for key, options in settings.items():
        alone = DepthMetrics(**options)
        alone.update(pred, torch.zeros_like(target))
        alone.update(pred, target)
        expected = floats(alone.compute())
        assert {name: result[f"{key}_{name}"] for name in METRIC_NAMES} == pytest.approx(expected, rel=1e-12)
    assert result["crop_rmse"] != pytest.approx(result["full_rmse"], rel=1e-6)
    assert result["pixel_rmse"] != pytest.approx(result["full_rmse"], rel=1e-6)


# --- input validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"min_depth": 0.0}, ValueError, "0 < min_depth < max_depth"),
        ({"min_depth": 5.0, "max_depth": 1.0}, ValueError, "0 < min_depth < max_depth"),
        ({"max_depth": float("inf")}, ValueError, "finite"),
        ({"crop": "kb_then_garg"}, ValueError, "KB-crop the ground truth first"),
        ({"crop": "eigen"}, ValueError, "eigen_nyu"),
        ({"average": "batch"}, ValueError, "'image'"),
        ({"clamp": "yes"}, TypeError, "clamp must be a bool"),
        ({"dist_sync_on_stepp": True}, ValueError, "Unexpected keyword"),
    ],
)
def test_bad_settings_are_rejected(options: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        DepthMetrics(**options)


@pytest.mark.parametrize(
    ("pred", "target", "valid", "error", "message"),
    [
        (torch.ones(2, 3, 4, 4), torch.ones(2, 1, 4, 4), None, ValueError, r"\(B, 1, H, W\)"),
        (torch.ones(4, 4), torch.ones(4, 4), None, ValueError, r"\(B, 1, H, W\)"),
        (torch.ones(2, 4, 4), torch.ones(3, 4, 4), None, ValueError, "batch sizes differ"),
        (torch.ones(1, 4, 4, dtype=torch.int64), torch.ones(1, 4, 4), None, TypeError, "floating-point"),
        (torch.ones(1, 4, 4), torch.ones(1, 4, 4), torch.ones(1, 4, 4), TypeError, "bool mask"),
        (torch.ones(1, 4, 4), torch.ones(1, 4, 4), torch.ones(1, 4, 5, dtype=torch.bool), ValueError, "must match"),
        (torch.ones(1, 4, 4), torch.ones(1, 0, 4), None, ValueError, "empty image size"),
        ([[1.0]], torch.ones(1, 1, 1), None, TypeError, "torch.Tensor"),
    ],
)
def test_bad_inputs_are_rejected(pred, target, valid, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        DepthMetrics().update(pred, target, valid)


@pytest.mark.parametrize("alignment", ["none", "median", "scale", "scale_shift", "scale_shift_disparity"])
def test_evaluated_prediction_is_what_the_metrics_score(alignment: str) -> None:
    generator = torch.Generator().manual_seed(1)
    target = 0.5 + 4 * torch.rand(2, 1, 24, 32, generator=generator)
    target[:, :, :3] = 0.0  # invalid rows
    pred = 1.7 * (0.5 + 4 * torch.rand(2, 1, 12, 16, generator=generator)) + 0.1  # half size: resized first
    metrics = DepthMetrics(max_depth=10.0, alignment=alignment)
    shown = metrics.evaluated_prediction(pred, target)
    assert shown.shape == (2, 24, 32) and shown.dtype == torch.float64
    metrics.update(pred, target)
    gt = target[:, 0].double()
    mask = (gt > metrics.min_depth) & (gt < metrics.max_depth)
    abs_rel = torch.stack([((shown[i] - gt[i]).abs() / gt[i])[mask[i]].mean() for i in range(2)]).mean()
    assert float(metrics.compute()["abs_rel"]) == pytest.approx(float(abs_rel), rel=1e-9)
