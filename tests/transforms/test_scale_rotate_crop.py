"""ScaleRotateCrop: one warp with the geometry of Rotate -> RandomScale -> RandomCrop, checked step by step."""
from __future__ import annotations

import random

import albumentations as A
import cv2
import numpy as np
import pytest

from depthzoo.transforms.scale_rotate_crop import ScaleRotateCrop

ROWS, COLS = 60, 80


def _coordinates() -> np.ndarray:
    """A float32 map whose value encodes its own pixel: 1000 * row + col + 1 (0 stays free for 'outside')."""
    rows, cols = np.mgrid[0:ROWS, 0:COLS]
    return (1000 * rows + cols + 1).astype(np.float32)


def _apply(transform: ScaleRotateCrop, seed: int) -> dict:
    compose = A.Compose([transform], additional_targets={"depth": "mask"}, save_applied_params=True)
    compose.set_random_state(np.random.default_rng(seed), random.Random(seed))
    image = np.zeros((ROWS, COLS, 3), np.uint8)
    return compose(image=image, depth=_coordinates())


def _step_by_step(depth: np.ndarray, angle: float, scale: float, top: int, left: int, size: tuple[int, int]):
    """The three separate steps: rotate on the same canvas, resize by ``scale``, crop (all nearest).

    The resize is the pixel-centre-aligned nearest (INTER_NEAREST_EXACT); plain INTER_NEAREST is known to sit
    half a source pixel off.
    """
    rotation = cv2.getRotationMatrix2D(((COLS - 1) / 2, (ROWS - 1) / 2), angle, 1.0)
    rotated = cv2.warpAffine(depth, rotation, (COLS, ROWS), flags=cv2.INTER_NEAREST, borderValue=0)
    scaled = cv2.resize(rotated, (round(COLS * scale), round(ROWS * scale)), interpolation=cv2.INTER_NEAREST_EXACT)
    padded = np.zeros((max(scaled.shape[0], size[0]) + 2 * size[0], max(scaled.shape[1], size[1]) + 2 * size[1]),
                      np.float32)
    padded[size[0]:size[0] + scaled.shape[0], size[1]:size[1] + scaled.shape[1]] = scaled
    return padded[size[0] + top:size[0] + top + size[0], size[1] + left:size[1] + left + size[1]]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("scale_range", [(1.0, 1.5), (0.7, 0.8)])
def test_one_warp_picks_the_pixels_the_three_steps_pick(seed, scale_range):
    size = (48, 64)
    result = _apply(ScaleRotateCrop(*size, scale_range=scale_range, rotation_deg=5.0), seed)
    (name, params), = result["applied_transforms"]
    assert name == "ScaleRotateCrop" and scale_range[0] <= params["scale"] <= scale_range[1]
    assert abs(params["angle"]) <= 5.0
    expected = _step_by_step(_coordinates(), params["angle"], params["scale"], *params["offset"], size)
    got = result["depth"]
    assert got.shape == size
    inside = (got > 0) & (expected > 0)
    # Every value is a copied source pixel (nearest), at most one pixel away from the step-by-step choice.
    assert np.isin(got[got > 0], _coordinates()).all()
    rows_got, cols_got = np.divmod(got[inside] - 1, 1000)
    rows_exp, cols_exp = np.divmod(expected[inside] - 1, 1000)
    assert np.abs(rows_got - rows_exp).max() <= 1 and np.abs(cols_got - cols_exp).max() <= 1
    # The same region comes from outside the image (0), up to a one-pixel seam along its border.
    kernel = np.ones((3, 3), np.uint8)
    for one, other in ((got > 0, expected > 0), (expected > 0, got > 0)):
        core = cv2.erode(one.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
        assert core.any() and not (core & ~other).any()


def test_no_rotation_and_unit_scale_is_an_exact_crop():
    image = np.random.default_rng(0).integers(0, 256, (ROWS, COLS, 3), dtype=np.uint8)
    compose = A.Compose([ScaleRotateCrop(40, 50, scale_range=(1.0, 1.0), rotation_deg=0.0)],
                        additional_targets={"depth": "mask"}, save_applied_params=True)
    compose.set_random_state(np.random.default_rng(3), random.Random(3))
    result = compose(image=image, depth=_coordinates())
    top, left = result["applied_transforms"][0][1]["offset"]
    assert 0 <= top <= ROWS - 40 and 0 <= left <= COLS - 50
    np.testing.assert_array_equal(result["image"], image[top:top + 40, left:left + 50])
    np.testing.assert_array_equal(result["depth"], _coordinates()[top:top + 40, left:left + 50])


def test_offsets_cover_the_whole_scaled_image():
    offsets = {tuple(_apply(ScaleRotateCrop(56, 76, (1.0, 1.0), 0.0), seed)["applied_transforms"][0][1]["offset"])
               for seed in range(200)}
    assert {top for top, _ in offsets} == set(range(0, 5)) and {left for _, left in offsets} == set(range(0, 5))
