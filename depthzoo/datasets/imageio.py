"""Decoding of RGB images and 16-bit depth PNGs, with errors that name the file."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from depthzoo.datasets.errors import CorruptDataError, ShapeMismatchError


def read_rgb(path: str | Path) -> np.ndarray:
    """Read a JPEG/PNG colour image as (H, W, 3) RGB uint8."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CorruptDataError(f"cannot decode image {path}: the file is truncated, corrupt or not an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_depth_png(path: str | Path, units_per_metre: float) -> np.ndarray:
    """Read a single-channel 16-bit depth PNG as (H, W) float32 metres (value / units_per_metre; 0 stays 0).

    NYU sync PNGs store millimetres (1000 units per metre), KITTI annotated PNGs 1/256 m (256 units per metre).
    """
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise CorruptDataError(f"cannot decode depth PNG {path}: the file is truncated, corrupt or not an image")
    if raw.dtype != np.uint16 or raw.ndim != 2:
        raise CorruptDataError(
            f"depth PNG {path} must be single-channel 16-bit, got dtype {raw.dtype} with shape {raw.shape}"
        )
    return raw.astype(np.float32) / np.float32(units_per_metre)


def read_pair(
    rgb_path: str | Path, depth_path: str | Path, units_per_metre: float, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read an RGB image and its depth PNG of the same size; errors are prefixed with ``where`` (list and line)."""
    try:
        image = read_rgb(rgb_path)
        depth = read_depth_png(depth_path, units_per_metre)
    except CorruptDataError as exc:
        raise CorruptDataError(f"{where}: {exc}") from exc
    check_same_size(image, depth, where)
    return image, depth


def check_same_size(image: np.ndarray, depth: np.ndarray, where: str) -> None:
    """Refuse an image/depth pair whose spatial sizes differ, giving both shapes."""
    if image.shape[:2] != depth.shape[:2]:
        raise ShapeMismatchError(
            f"{where}: image shape {tuple(image.shape)} and depth shape {tuple(depth.shape)} differ in height/width"
        )


def valid_depth(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (depth with non-finite values set to 0, valid mask = finite and > 0) so no NaN leaks downstream."""
    finite = np.isfinite(depth)
    if not finite.all():
        depth = np.where(finite, depth, np.float32(0)).astype(np.float32, copy=False)
    return depth, depth > 0
