"""What the demo shows and lets download for a :class:`~depthzoo.demo.pipeline.DepthResult`.

Downloads, at the input's size (``NAME`` is the input file's name). A metric model gives:

- ``NAME_depth_mm.png``: 16-bit PNG of millimetres (metres x 1000, rounded), 0 where there is no depth;
- ``NAME_depth_m.npy``: float32 metres;
- ``NAME_points_m.ply``: binary PLY, one coloured point per pixel in the camera frame (x right, y down, z forward),
  metres.

A relative model (disparity known up to a scale and a shift) gives:

- ``NAME_disparity_normalized_0-65535.png``: 16-bit PNG of ``round(65535 (d - min d) / (max d - min d))`` for the
  relative disparity ``d``: 0 is the farthest pixel, 65535 the nearest; no unit;
- ``NAME_disparity.npy``: float32 relative disparity as the model gave it (larger is nearer, no unit);
- ``NAME_points_relative.ply``: the 3-D view's stand-in shape (:meth:`DepthResult.geometry_depth`), no unit.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from depthzoo.demo.glb import mesh_glb
from depthzoo.demo.pipeline import DepthResult, fit_size, points
from depthzoo.formats.ply import ply_bytes
from depthzoo.geometry import Intrinsics
from depthzoo.visualize import colorbar, colorize, percentile_range, resized_depth, write_depth_png16

MESH_SIZE = 384
"""Long side (pixels) of the depth grid the 3-D view's mesh is made from: detail against file size and speed."""
COLORBAR_LENGTH = 512
RELATIVE_LABELS = ("near", "relative depth: no unit", "far")


def colour_range(result: DepthResult) -> tuple[float, float]:
    """The values at the colour map's ends: the 2nd and 98th percentiles of the valid values."""
    values = result.values
    valid = values[np.isfinite(values) & (values > 0)] if result.metric else values[np.isfinite(values)]
    return percentile_range(valid) if valid.size else (0.0, 1.0)


def coloured_depth(result: DepthResult, cmap: str) -> np.ndarray:
    """(H, W, 3) uint8: the depth coloured with ``cmap`` at the input's size (near and far alike for both kinds)."""
    low, high = colour_range(result)
    return colorize(result.values, low, high, disparity=not result.metric, cmap=cmap)


def depth_colorbar(result: DepthResult, cmap: str) -> np.ndarray:
    """A horizontal colour bar for :func:`coloured_depth`: metres, or "near ... far" for a relative model."""
    low, high = colour_range(result)
    if result.metric:
        return colorbar(low, high, COLORBAR_LENGTH, cmap, unit="m", vertical=False, thickness=16)
    return colorbar(0.0, 1.0, COLORBAR_LENGTH, cmap, labels=RELATIVE_LABELS, vertical=False, thickness=16)


def mesh(result: DepthResult, max_side: int = MESH_SIZE) -> bytes:
    """The GLB mesh of the result for the 3-D view, from a grid of at most ``max_side`` pixels on the long side.

    Depth is sampled at the grid's pixel centres (nearest: no depth is blended across an edge), colours are
    averaged over each cell, and the camera follows the resize.
    """
    height, width = result.values.shape
    small_h, small_w = fit_size(height, width, max_side)
    depth = resized_depth(result.geometry_depth(), small_h, small_w)
    image = result.image
    if (small_h, small_w) != (height, width):
        image = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
    k: Intrinsics = result.camera.intrinsics.resized(small_h, small_w)
    return mesh_glb(depth, image, k.fx, k.cx, k.cy, fy=k.fy)


def download_names(stem: str, metric: bool) -> dict[str, str]:
    """The download file names of an input called ``stem``: what -> file name (see the module documentation).

    >>> download_names("room", True)["png"], download_names("room", False)["png"]
    ('room_depth_mm.png', 'room_disparity_normalized_0-65535.png')
    """
    if metric:
        return {"png": f"{stem}_depth_mm.png", "npy": f"{stem}_depth_m.npy", "ply": f"{stem}_points_m.ply"}
    return {
        "png": f"{stem}_disparity_normalized_0-65535.png",
        "npy": f"{stem}_disparity.npy",
        "ply": f"{stem}_points_relative.ply",
    }


def normalized_disparity_png16(disparity: np.ndarray) -> np.ndarray:
    """Relative disparity as uint16: the smallest value 0, the largest 65535, linear between; not finite -> 0.

    >>> normalized_disparity_png16(np.array([[2.0, 3.0, 4.0]])).tolist()
    [[0, 32768, 65535]]
    """
    values = np.asarray(disparity, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, dtype=np.uint16)
    low, high = values[finite].min(), values[finite].max()
    scaled = (values - low) / max(high - low, 1e-12) * 65535.0
    return np.where(finite, np.round(scaled), 0).astype(np.uint16)


def write_downloads(result: DepthResult, folder: str | Path, stem: str) -> list[Path]:
    """Write the 16-bit PNG, the ``.npy`` and the ``.ply`` of ``result`` into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = download_names(stem, result.metric)
    paths = {key: folder / name for key, name in names.items()}
    if result.metric:
        write_depth_png16(result.values, paths["png"])
    else:
        Image.fromarray(normalized_disparity_png16(result.values)).save(paths["png"], format="PNG")
    with open(paths["npy"], "wb") as handle:
        np.save(handle, result.values.astype(np.float32))
    scene, valid = points(result)
    paths["ply"].write_bytes(ply_bytes(scene[valid], result.image[valid]))
    return list(paths.values())


__all__ = [
    "MESH_SIZE",
    "colour_range",
    "coloured_depth",
    "depth_colorbar",
    "download_names",
    "mesh",
    "normalized_disparity_png16",
    "write_downloads",
]
