"""Depth maps as pictures: exact colour maps, image grids, and the standard output files.

The colour maps are OpenCV's tables (``cv2.applyColorMap``), which for ``viridis``, ``magma``, ``inferno``,
``plasma`` and ``cividis`` are matplotlib's maps rounded to 8 bits; ``gray`` is the identity ramp, and a ``_r`` suffix
reverses any map (``viridis_r``: near is bright).

>>> colormap("viridis")[[0, 255]].tolist()   # matplotlib's first and last viridis colours, x 255, rounded
[[68, 1, 84], [253, 231, 37]]
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image

from depthzoo.errors import InvalidArgumentError
from depthzoo.utils.files import atomic_path

DEFAULT_CMAP = "viridis"
_CV2_MAPS = {name[len("COLORMAP_") :].lower(): getattr(cv2, name) for name in dir(cv2) if name.startswith("COLORMAP_")}


def list_colormaps() -> list[str]:
    """The colour map names :func:`colorize` accepts (each also with a ``_r`` suffix, reversed)."""
    return sorted([*_CV2_MAPS, "gray"])


@functools.cache
def colormap(name: str = DEFAULT_CMAP) -> np.ndarray:
    """The (256, 3) uint8 RGB table of a colour map (read-only), e.g. ``colormap("magma")``.

    Raises:
        InvalidArgumentError: an unknown name (the message lists close matches and all names).
    """
    base, reverse = (name[:-2], True) if name.endswith("_r") else (name, False)
    base = {"grey": "gray"}.get(base, base)
    if base == "gray":
        table = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    elif base in _CV2_MAPS:
        ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
        table = cv2.applyColorMap(ramp, _CV2_MAPS[base])[:, 0, ::-1]  # BGR -> RGB
    else:
        from depthzoo.registry import unknown_name_message

        raise InvalidArgumentError(unknown_name_message("colour map", name, list_colormaps()))
    table = np.ascontiguousarray(table[::-1] if reverse else table)
    table.setflags(write=False)
    return table


COLORMAP = colormap(DEFAULT_CMAP)  # the default table (viridis), kept for callers of the earlier constant


def colorize(
    depth: np.ndarray,
    vmin: float | None = None,
    vmax: float | None = None,
    disparity: bool = False,
    cmap: str = DEFAULT_CMAP,
) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8. Invalid pixels (<= 0 or not finite) are black.

    ``vmin``/``vmax`` default to the 2nd/98th percentiles of the valid pixels, so one outlier does not wash out
    the picture; pass the same values to compare several maps. ``disparity=True`` colours an inverse-depth map
    (larger is nearer, 0 is valid: infinitely far) so that near and far get the same colours as in depth maps.
    ``cmap`` names the colour map (:func:`list_colormaps`; default viridis: dark blue is near, yellow far).
    """
    table = colormap(cmap)
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"expected a (H, W) depth map, got shape {depth.shape}")
    valid = np.isfinite(depth) & ((depth >= 0) if disparity else (depth > 0))
    out = np.zeros((*depth.shape, 3), dtype=np.uint8)
    if not valid.any():
        return out
    low, high = percentile_range(depth[valid]) if vmin is None or vmax is None else (vmin, vmax)
    lo = low if vmin is None else vmin
    hi = high if vmax is None else vmax
    scaled = np.clip((depth[valid] - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    if disparity:
        scaled = 1.0 - scaled
    out[valid] = table[(scaled * 255).round().astype(np.int64)]
    return out


def percentile_range(values: np.ndarray) -> tuple[float, float]:
    """The 2nd and 98th percentiles of ``values``: the colour range :func:`colorize` uses by default."""
    low, high = np.percentile(values, [2, 98])
    return float(low), float(high)


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
