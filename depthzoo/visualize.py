"""Depth maps as pictures: a perceptual colour map, image grids, and the standard output files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from depthzoo.utils.files import atomic_path

# Anchor colours of a viridis-like perceptual map (dark blue = near ... yellow = far), interpolated to 256 entries.
_ANCHORS = np.array(
    [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ],
    dtype=np.float64,
)
_POSITIONS = np.linspace(0.0, 1.0, len(_ANCHORS))
COLORMAP = np.stack(
    [np.interp(np.linspace(0.0, 1.0, 256), _POSITIONS, _ANCHORS[:, c]) for c in range(3)], axis=1
).round().astype(np.uint8)


def colorize(
    depth: np.ndarray, vmin: float | None = None, vmax: float | None = None, disparity: bool = False
) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8. Invalid pixels (<= 0 or not finite) are black.

    ``vmin``/``vmax`` default to the 2nd/98th percentiles of the valid pixels, so one outlier does not wash out
    the picture; pass the same values to compare several maps. ``disparity=True`` colours an inverse-depth map
    (larger is nearer, 0 is valid: infinitely far) so that near and far get the same colours as in depth maps.
    """
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"expected a (H, W) depth map, got shape {depth.shape}")
    valid = np.isfinite(depth) & ((depth >= 0) if disparity else (depth > 0))
    out = np.zeros((*depth.shape, 3), dtype=np.uint8)
    if not valid.any():
        return out
    lo = float(np.percentile(depth[valid], 2)) if vmin is None else vmin
    hi = float(np.percentile(depth[valid], 98)) if vmax is None else vmax
    scaled = np.clip((depth[valid] - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    if disparity:
        scaled = 1.0 - scaled
    out[valid] = COLORMAP[(scaled * 255).round().astype(np.int64)]
    return out


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """(3, H, W) or (H, W, 3) float in [0, 1] -> (H, W, 3) uint8."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] == 3 and image.shape[-1] != 3:
        image = image.transpose(1, 2, 0)
    return (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)


def depth_panel(image: np.ndarray, target: np.ndarray | None, pred: np.ndarray) -> np.ndarray:
    """One row: input | ground truth | prediction, depths coloured on the same scale, all at the prediction's size."""
    height, width = pred.shape
    valid_target = target[np.isfinite(target) & (target > 0)] if target is not None else np.empty(0)
    reference = valid_target if valid_target.size else pred[np.isfinite(pred) & (pred > 0)]
    vmin, vmax = (float(np.percentile(reference, 2)), float(np.percentile(reference, 98))) if reference.size else (0, 1)
    tiles = [_resized(to_uint8_rgb(image), height, width, Image.BILINEAR)]
    if target is not None:
        tiles.append(_resized(colorize(target, vmin, vmax), height, width, Image.NEAREST))
    tiles.append(colorize(pred, vmin, vmax))
    return np.concatenate(tiles, axis=1)


def _resized(rgb: np.ndarray, height: int, width: int, resample: int) -> np.ndarray:
    if rgb.shape[:2] == (height, width):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((width, height), resample))


def write_png(rgb: np.ndarray, target: str | os.PathLike[str] | BinaryIO) -> None:
    """Encode an (H, W, 3) uint8 picture as PNG into ``target`` (a path or an open binary file), as it is."""
    Image.fromarray(rgb).save(target, format="PNG")


def write_depth_png16(depth: np.ndarray, target: str | os.PathLike[str] | BinaryIO) -> None:
    """Encode metres as a 16-bit PNG of millimetres into ``target``; invalid -> 0, clipped at 65.535 m."""
    depth = np.asarray(depth, dtype=np.float64)
    millimetres = np.where(np.isfinite(depth) & (depth > 0), np.round(depth * 1000.0), 0.0)
    Image.fromarray(np.clip(millimetres, 0, 65535).astype(np.uint16)).save(target, format="PNG")


def save_png(rgb: np.ndarray, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write an (H, W, 3) uint8 picture as PNG, atomically, creating the folder; replaces a file only if asked."""
    with atomic_path(path, overwrite) as temporary:
        write_png(rgb, temporary)
    return Path(path)


def save_depth_png16(depth: np.ndarray, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """16-bit PNG in millimetres (the NYU sync / KITTI-style convention); invalid -> 0, clipped at 65.535 m.

    Written atomically, creating the folder; an existing file is replaced only with ``overwrite=True``.
    """
    with atomic_path(path, overwrite) as temporary:
        write_depth_png16(depth, temporary)
    return Path(path)
