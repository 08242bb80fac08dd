"""Training augmentation and evaluation transforms: geometry, depth scaling and validity invariants."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from depthzoo.datasets.errors import ShapeMismatchError
from depthzoo.transforms.pipelines import EvalTransform, TrainTransform

NO_AUGMENT = {"scale_range": (1.0, 1.0), "rotation_deg": 0.0, "color_range": (1.0, 1.0), "flip_p": 0.0}


def _sample(image, depth, valid=None, focal=518.8579, index=3):
    valid = depth > 0 if valid is None else valid
    return {"image": image, "depth": depth.astype(np.float32), "valid": valid, "index": index, "focal": focal}


def _random_nyu(seed=0, height=480, width=640):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 9.5, (height, width)).astype(np.float32)
    depth[rng.random((height, width)) < 0.2] = 0
    return _sample(image, depth)


def _as_numpy(out):
    return (
        np.rint(out["image"].numpy().transpose(1, 2, 0) * 255).astype(np.int64),
        out["depth"].numpy()[0],
        out["valid"].numpy()[0],
    )


def test_eval_transform_is_fcrn_nearest_halving_and_centre_crop():
    sample = _random_nyu()
    out = EvalTransform(resize=(240, 320), crop=(228, 304), interpolation="nearest")(sample)
    assert out["image"].shape == (3, 228, 304) and out["image"].dtype == torch.float32
    assert 0.0 <= out["image"].min() and out["image"].max() <= 1.0
    expected = sample["image"][::2, ::2][6:234, 8:312]  # rows 6:234, cols 8:312 of the 240x320 image
    np.testing.assert_array_equal(_as_numpy(out)[0], expected)
    assert out["depth"].shape == (1, 480, 640) and out["depth"].dtype == torch.float32
    np.testing.assert_array_equal(out["depth"].numpy()[0], sample["depth"])  # GT at full resolution
    np.testing.assert_array_equal(out["valid"].numpy()[0], sample["depth"] > 0)
    assert out["focal"] == pytest.approx(518.8579 / 2) and out["index"] == 3


def test_eval_area_interpolation_is_a_2x2_mean():
    sample = _random_nyu()
    out = EvalTransform(resize=(240, 320), interpolation="area")(sample)
    mean = sample["image"].astype(np.float64).reshape(240, 2, 320, 2, 3).mean(axis=(1, 3))
    assert np.abs(_as_numpy(out)[0] - mean).max() <= 0.5 + 1e-9


def test_eval_marks_inconsistent_pixels_invalid_and_zero():
    sample = _random_nyu(height=8, width=10)
    sample["valid"] = sample["valid"].copy()
    sample["valid"][2, 3] = False  # depth there is > 0 but the reader says invalid
    assert sample["depth"][2, 3] > 0
    out = EvalTransform()(sample)
    assert not out["valid"][0, 2, 3] and out["depth"][0, 2, 3] == 0
    assert (out["depth"][~out["valid"]] == 0).all() and (out["depth"][out["valid"]] > 0).all()


def test_train_without_augmentation_is_deterministic_resize_and_centre_crop():
    sample = _random_nyu()
    out = TrainTransform((228, 304), resize=(240, 320), augment=False)(sample)
    image, depth, valid = _as_numpy(out)
    window = (slice(6, 234), slice(8, 312))
    np.testing.assert_array_equal(image, sample["image"][::2, ::2][window])
    np.testing.assert_array_equal(depth, sample["depth"][::2, ::2][window])  # nearest: values copied
    np.testing.assert_array_equal(valid, sample["depth"][::2, ::2][window] > 0)
    assert out["focal"] == pytest.approx(518.8579 / 2)


def test_geometry_copies_depth_values_divided_by_s():
    height, width = 60, 80
    depth = (0.5 + np.arange(height * width, dtype=np.float32) * 1e-3).reshape(height, width)
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    transform = TrainTransform((48, 64), scale_range=(1.25, 1.25), rotation_deg=5.0)
    allowed = depth.ravel() / np.float32(1.25)
    for _ in range(10):
        _, out_depth, valid = _as_numpy(transform(_sample(image, depth)))
        assert out_depth.dtype == np.float32
        assert np.isin(out_depth[valid], allowed).all()  # never blended: each value is an input value / s
        assert (out_depth[~valid] == 0).all() and valid.mean() > 0.8


def test_scale_divides_depth_by_the_zoom_of_the_image():
    height, width = 100, 240
    image = np.repeat(np.repeat(np.arange(width, dtype=np.uint8)[None, :, None], height, 0), 3, 2)
    depth = np.full((height, width), 3.0, np.float32)
    transform = TrainTransform((80, 160), rotation_deg=0.0, color_range=(1.0, 1.0), flip_p=0.0)
    scales = []
    for _ in range(30):
        out_image, out_depth, valid = _as_numpy(transform(_sample(image, depth)))
        assert valid.all()
        values = np.unique(out_depth)
        assert values.size == 1
        s = 3.0 / float(values[0])
        slope = (out_image[:, -1, 0] - out_image[:, 0, 0]).mean() / (out_image.shape[1] - 1)
        assert slope == pytest.approx(1.0 / s, abs=0.015)  # the image zoomed by the same s
        scales.append(s)
    assert 1.0 - 1e-6 <= min(scales) < 1.15 and 1.35 < max(scales) <= 1.5 + 1e-6


def test_invalid_pixels_never_become_valid():
    height, width = 60, 80
    depth = np.full((height, width), 3.0, np.float32)
    valid = np.ones((height, width), bool)
    valid[:, : width // 2] = False
    depth[:, : width // 2] = 7.0  # positive depth that the reader marked invalid
    image = np.full((height, width, 3), 128, np.uint8)
    transform = TrainTransform((48, 64))
    for _ in range(20):
        _, out_depth, out_valid = _as_numpy(transform(_sample(image, depth, valid)))
        assert out_valid.any() and (~out_valid).any()
        s_values = 3.0 / out_depth[out_valid]
        assert ((s_values > 1 - 1e-5) & (s_values < 1.5 + 1e-5)).all()  # only 3/s, never 7/s
        assert (out_depth[~out_valid] == 0).all()


def test_rotation_fills_invalid_zeros():
    depth = np.full((240, 320), 2.0, np.float32)
    image = np.full((240, 320, 3), 200, np.uint8)
    transform = TrainTransform((228, 304), scale_range=(1.0, 1.0), color_range=(1.0, 1.0), flip_p=0.0)
    holes = 0
    for _ in range(10):
        out_image, out_depth, valid = _as_numpy(transform(_sample(image, depth)))
        holes += (~valid).sum()
        assert (out_depth[~valid] == 0).all() and (out_depth[valid] == np.float32(2.0)).all()
        assert (out_image[~valid].max(axis=-1) < 200).all()  # black fill (blended at the border)
    assert holes > 0


def test_flip_moves_image_and_depth_together():
    height, width = 30, 200
    x = np.arange(width)
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = x
    image[..., 1] = np.arange(height)[:, None]
    depth = np.broadcast_to(((x + 1) / 10).astype(np.float32), (height, width)).copy()
    transform = TrainTransform((24, 150), scale_range=(1.0, 1.0), rotation_deg=0.0, color_range=(1.0, 1.0))
    flipped = 0
    for _ in range(30):
        out_image, out_depth, valid = _as_numpy(transform(_sample(image, depth)))
        assert valid.all()
        np.testing.assert_allclose(out_depth, (out_image[..., 0] + 1) / 10, rtol=1e-6)
        flipped += out_image[0, 0, 0] > out_image[0, -1, 0]
    assert 5 <= flipped <= 25
    always = TrainTransform(
        (height, width), scale_range=(1.0, 1.0), rotation_deg=0.0, color_range=(1.0, 1.0), flip_p=1.0
    )
    out_image, out_depth, _ = _as_numpy(always(_sample(image, depth)))
    np.testing.assert_array_equal(out_image, image[:, ::-1])
    np.testing.assert_array_equal(out_depth, depth[:, ::-1])


def test_colour_scale_is_per_channel_and_image_only():
    image = np.full((40, 50, 3), 100, np.uint8)
    depth = np.full((40, 50), 4.0, np.float32)
    transform = TrainTransform((40, 50), scale_range=(1.0, 1.0), rotation_deg=0.0, flip_p=0.0)
    factors = []
    for _ in range(10):
        out_image, out_depth, _ = _as_numpy(transform(_sample(image, depth)))
        per_channel = out_image.reshape(-1, 3)
        assert (per_channel == per_channel[0]).all()  # one factor per channel, not per pixel
        factors.append(per_channel[0] / 100)
        assert (out_depth == np.float32(4.0)).all()
    factors = np.array(factors)
    assert ((factors >= 0.8 - 0.006) & (factors <= 1.2 + 0.006)).all()
    assert np.ptp(factors, axis=1).max() > 0.02  # channels get different factors


class _Repeat(Dataset):
    def __init__(self, sample, transform, size):
        self.sample, self.transform, self.size = sample, transform, size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        return self.transform({**self.sample, "index": i})


def _epoch(loader):
    return torch.cat([batch["depth"] for batch in loader])


def test_workers_draw_different_augmentations_and_seeds_reproduce():
    height, width = 60, 80
    depth = (0.5 + np.arange(height * width, dtype=np.float32) * 1e-3).reshape(height, width)
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    dataset = _Repeat(_sample(image, depth), TrainTransform((48, 64)), 8)
    loader = DataLoader(dataset, batch_size=1, num_workers=2)
    torch.manual_seed(123)
    first = _epoch(loader)
    second = _epoch(loader)
    assert len({tuple(d.flatten()[:50].tolist()) for d in first}) == 8  # no two samples (or workers) alike
    assert not torch.equal(first, second)  # new augmentations every epoch
    torch.manual_seed(123)
    np.testing.assert_array_equal(_epoch(loader).numpy(), first.numpy())  # seed_everything reproduces
    in_process = DataLoader(dataset, batch_size=1, num_workers=0)
    torch.manual_seed(7)
    again = _epoch(in_process)
    torch.manual_seed(7)
    np.testing.assert_array_equal(_epoch(in_process).numpy(), again.numpy())


def test_bad_arguments_are_refused():
    with pytest.raises(ShapeMismatchError, match=r"resize \(200, 300\) is smaller than input_size \(228, 304\)"):
        TrainTransform((228, 304), resize=(200, 300))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        TrainTransform((228, 304), interpolation="bicubic")
    with pytest.raises(ValueError, match="input_size must be"):
        TrainTransform((228, -1))
    with pytest.raises(ValueError, match="scale_range"):
        TrainTransform((228, 304), scale_range=(1.5, 1.0))
    with pytest.raises(ShapeMismatchError, match=r"crop \(250, 304\) is larger than resize \(240, 320\)"):
        EvalTransform(resize=(240, 320), crop=(250, 304))
    small = _random_nyu(height=100, width=120)
    with pytest.raises(ShapeMismatchError, match=r"image of size \(100, 120\) is smaller than input_size \(228, 304\)"):
        TrainTransform((228, 304))(small)


def test_scale_below_one_pads_with_invalid_pixels():
    depth = np.full((50, 60), 2.0, np.float32)
    image = np.full((50, 60, 3), 90, np.uint8)
    transform = TrainTransform((50, 60), scale_range=(0.7, 0.7), rotation_deg=0.0, flip_p=0.0)
    _, out_depth, valid = _as_numpy(transform(_sample(image, depth)))
    assert out_depth.shape == (50, 60) and (~valid).any()
    assert (out_depth[valid] == np.float32(2.0) / np.float32(0.7)).all() and (out_depth[~valid] == 0).all()


def test_all_augmentation_steps_share_one_generator():
    """Compose(seed=...) would seed each step identically (scale and angle perfectly correlated)."""
    transform = TrainTransform((48, 64))
    transform(_random_nyu(height=60, width=80))
    steps = transform._compose.transforms
    assert [type(step).__name__ for step in steps] == ["ScaleRotateCrop", "HorizontalFlip", "MultiplicativeNoise"]
    assert all(step.random_generator is steps[0].random_generator for step in steps)
    assert all(step.py_random is steps[0].py_random for step in steps)
