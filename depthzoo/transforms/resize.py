"""Resizing and cropping of raw numpy samples: images with a chosen filter, depth and validity always nearest.

A resize scales the sample's ``focal`` (pixels) by the width ratio, so intrinsics follow the image.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from depthzoo.datasets.base import Sample
from depthzoo.datasets.errors import ShapeMismatchError
from depthzoo.errors import InvalidArgumentError

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
    height, width = size
    top, left = (array.shape[0] - height) // 2, (array.shape[1] - width) // 2
    if top < 0 or left < 0:
        raise ShapeMismatchError(f"cannot crop {size} out of an array of shape {tuple(array.shape)}")
    return array[top : top + height, left : left + width]
