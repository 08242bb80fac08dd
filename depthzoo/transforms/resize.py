"""Resizing and cropping of raw numpy samples: images with a chosen filter, depth and validity always nearest.

A resize scales the sample's ``focal`` (pixels) by the width ratio and its ``intrinsics`` (fx, fy, cx, cy, when
it has them) by both ratios with the pixel centres (:meth:`depthzoo.geometry.Intrinsics.resized`), so intrinsics
follow the image.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from depthzoo.datasets.base import Sample
from depthzoo.datasets.errors import ShapeMismatchError
from depthzoo.errors import InvalidArgumentError
from depthzoo.geometry import Intrinsics

Interpolation = Literal["nearest", "linear", "area", "cubic"]
Size = tuple[int, int]

CV2_INTERPOLATION: dict[str, int] = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
    "cubic": cv2.INTER_CUBIC,  # Depth Anything V2 resizes its inputs bicubically
}


def check_interpolation(interpolation: str) -> int:
    """The cv2 flag of an interpolation name, or a ValueError listing the names."""
    try:
        return CV2_INTERPOLATION[interpolation]
    except KeyError:
        raise InvalidArgumentError(
            f"interpolation must be one of {sorted(CV2_INTERPOLATION)}, got {interpolation!r}"
        ) from None


def resize_image(sample: Sample, size: Size, interpolation: int) -> Sample:
    """Resize only the image to ``size`` (H, W) and scale ``focal`` by the width ratio; depth is untouched."""
    image = sample["image"]
    height, width = size
    out = dict(sample)
    if image.shape[:2] != (height, width):
        out["image"] = cv2.resize(image, (width, height), interpolation=interpolation)
        out["focal"] = float(sample["focal"]) * width / image.shape[1]
        if sample.get("intrinsics") is not None:
            out["intrinsics"] = sample_camera(sample).resized(height, width).as_array()
    return out


def resize_sample(sample: Sample, size: Size, interpolation: int) -> Sample:
    """Resize image (given interpolation), depth and valid (nearest) to ``size``; scale ``focal``."""
    out = resize_image(sample, size, interpolation)
    height, width = size
    if sample["depth"].shape != (height, width):
        out["depth"] = cv2.resize(sample["depth"], (width, height), interpolation=cv2.INTER_NEAREST)
        valid = cv2.resize(sample["valid"].view(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
        out["valid"] = valid.view(bool)
    return out


def center_crop(array: np.ndarray, size: Size) -> np.ndarray:
    """Centre crop of an (H, W, ...) array: ``top = (H - h) // 2``, ``left = (W - w) // 2`` (a view)."""
    top, left = center_crop_offset(array.shape[:2], size)
    return array[top : top + size[0], left : left + size[1]]


def center_crop_offset(shape: tuple[int, ...], size: Size) -> tuple[int, int]:
    """(top, left) of the centre crop of ``size`` out of an array of ``shape`` (H, W, ...)."""
    top, left = (shape[0] - size[0]) // 2, (shape[1] - size[1]) // 2
    if top < 0 or left < 0:
        raise ShapeMismatchError(f"cannot crop {size} out of an array of shape {tuple(shape)}")
    return top, left


def crop_image(sample: Sample, size: Size) -> Sample:
    """Centre-crop only the image to ``size`` (H, W); the principal point of ``intrinsics`` moves with it."""
    out = {**sample, "image": center_crop(sample["image"], size)}
    if sample.get("intrinsics") is not None:
        top, left = center_crop_offset(sample["image"].shape, size)
        out["intrinsics"] = sample_camera(sample).cropped(top, left, *size).as_array()
    return out


def sample_camera(sample: Sample) -> Intrinsics:
    """The sample's ``intrinsics`` (fx, fy, cx, cy) as the camera of its image."""
    return Intrinsics(*(float(v) for v in sample["intrinsics"]), *sample["image"].shape[:2])
