"""Depth maps as pictures: a perceptual colour map, depth edges, error maps, image grids, and the output files."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


# Errors: black (none) through red and yellow to white (ERROR_RANGE and beyond), so large errors stand out.
_ERROR_ANCHORS = np.array([(0, 0, 0), (120, 0, 0), (220, 50, 0), (255, 170, 0), (255, 255, 160)], dtype=np.float64)
ERROR_COLORMAP = np.stack(
    [np.interp(np.linspace(0.0, 1.0, 256), np.linspace(0.0, 1.0, len(_ERROR_ANCHORS)), _ERROR_ANCHORS[:, c])
     for c in range(3)],
    axis=1,
).round().astype(np.uint8)
ERROR_RANGE = 0.3
"""Relative error |pred - gt| / gt shown at full brightness in :func:`error_map`."""
EDGE_COLOR = (255, 255, 255)


def colorize(depth: np.ndarray, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8. Invalid pixels (<= 0 or not finite) are black.

    ``vmin``/``vmax`` default to the 2nd/98th percentiles of the valid pixels, so one outlier does not wash out
    the picture; pass the same values to compare several maps.
    """
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"expected a (H, W) depth map, got shape {depth.shape}")
    valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros((*depth.shape, 3), dtype=np.uint8)
    if not valid.any():
        return out
    lo = float(np.percentile(depth[valid], 2)) if vmin is None else vmin
    hi = float(np.percentile(depth[valid], 98)) if vmax is None else vmax
    scaled = np.clip((depth[valid] - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    out[valid] = COLORMAP[(scaled * 255).round().astype(np.int64)]
    return out


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """(3, H, W) or (H, W, 3) float in [0, 1] -> (H, W, 3) uint8."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] == 3 and image.shape[-1] != 3:
        image = image.transpose(1, 2, 0)
    return (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)


def error_map(pred: np.ndarray, target: np.ndarray, vmax: float = ERROR_RANGE) -> np.ndarray:
    """(H, W) relative error |pred - target| / target as (H, W, 3) uint8, black where the target is invalid.

    Args:
        pred: (H, W) predicted depth.
        target: (H, W) ground truth, same size; <= 0 or non-finite is invalid.
        vmax: the relative error shown at full brightness.
    """
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    valid = np.isfinite(target) & (target > 0) & np.isfinite(pred)
    out = np.zeros((*target.shape, 3), dtype=np.uint8)
    relative = np.abs(pred[valid] - target[valid]) / target[valid]
    out[valid] = ERROR_COLORMAP[(np.clip(relative / vmax, 0.0, 1.0) * 255).round().astype(np.int64)]
    return out


def overlay(rgb: np.ndarray, mask: np.ndarray, color: tuple[int, int, int] = EDGE_COLOR) -> np.ndarray:
    """A copy of the (H, W, 3) picture with the pixels of the (H, W) ``mask`` painted ``color``."""
    out = rgb.copy()
    out[np.asarray(mask, dtype=bool)] = color
    return out


def _depth_range(target: np.ndarray | None, pred: np.ndarray) -> tuple[float, float]:
    """2nd/98th percentiles of the valid ground truth (of the prediction without one): one scale for a row."""
    valid_target = target[np.isfinite(target) & (target > 0)] if target is not None else np.empty(0)
    reference = valid_target if valid_target.size else pred[np.isfinite(pred) & (pred > 0)]
    if not reference.size:
        return 0.0, 1.0
    return float(np.percentile(reference, 2)), float(np.percentile(reference, 98))


def _depth_tile(depth: np.ndarray, vmin: float, vmax: float, valid: np.ndarray | None, edges: bool) -> np.ndarray:
    tile = colorize(depth, vmin, vmax)
    if edges:
        from depthzoo.metrics.boundary import depth_edges

        tile = overlay(tile, depth_edges(depth, valid))
    return tile


def depth_panel(
    image: np.ndarray, target: np.ndarray | None, pred: np.ndarray, edges: bool = False, error: bool = False
) -> np.ndarray:
    """One row: input | ground truth | prediction [| error], depths on one colour scale, at the prediction's size.

    Args:
        image: (3, H, W) or (H, W, 3) RGB in [0, 1].
        target: (H', W') ground truth (resized nearest to the prediction's size), or None.
        pred: (h, w) predicted depth.
        edges: draw each depth map's iBims-1 depth edges (:func:`depthzoo.metrics.depth_edges`) in white; where
            the prediction's edges miss or stray from the ground truth's, the prediction is blurry or wrong.
        error: add a column of the relative error |pred - gt| / gt (black 0, white at 0.3 and beyond).
    """
    height, width = pred.shape
    vmin, vmax = _depth_range(target, pred)
    tiles = [_resized(to_uint8_rgb(image), height, width, Image.BILINEAR)]
    valid = None
    if target is not None:
        target = _resized_depth(target, height, width)
        valid = np.isfinite(target) & (target > 0)
        tiles.append(_depth_tile(target, vmin, vmax, valid, edges))
    tiles.append(_depth_tile(pred, vmin, vmax, valid, edges))
    if error and target is not None:
        tiles.append(error_map(pred, target))
    return np.concatenate(tiles, axis=1)


def comparison_grid(
    images: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    preds: Mapping[str, Sequence[np.ndarray]],
    edges: bool = True,
) -> np.ndarray:
    """A picture comparing models: a header row of names, then per image input | ground truth | one column per model.

    Every depth map is drawn at the ground truth's size, on the ground truth's colour scale, with its depth edges.

    Args:
        images: (3, H, W) or (H, W, 3) RGB inputs in [0, 1].
        targets: (H, W) ground-truth depths, one per image.
        preds: model name -> its (H, W) predictions (at the ground truth's size), one per image.
        edges: draw the depth edges in white.
    """
    rows = []
    for index, (image, target) in enumerate(zip(images, targets)):
        height, width = target.shape
        vmin, vmax = _depth_range(target, target)
        valid = np.isfinite(target) & (target > 0)
        tiles = [_resized(to_uint8_rgb(image), height, width, Image.BILINEAR)]
        tiles += [_depth_tile(target, vmin, vmax, valid, edges)]
        tiles += [_depth_tile(np.asarray(maps[index]), vmin, vmax, valid, edges) for maps in preds.values()]
        rows.append(np.concatenate(tiles, axis=1))
    body = np.concatenate(rows, axis=0)
    width = targets[0].shape[1]
    return np.concatenate([_header(["input", "ground truth", *preds], width), body], axis=0)


def _header(labels: Sequence[str], tile_width: int, height: int = 14) -> np.ndarray:
    """A white strip with one label centred over each tile (PIL's built-in font: nothing to install)."""
    strip = Image.new("RGB", (tile_width * len(labels), height), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default()
    for index, label in enumerate(labels):
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        x = index * tile_width + max(0, (tile_width - (right - left)) // 2)
        draw.text((x, (height - (bottom - top)) // 2 - top), label, fill=(0, 0, 0), font=font)
    return np.asarray(strip)


def _resized_depth(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    """Depth resized nearest, sampling at pixel centres (no invalid pixel blends into a valid one)."""
    depth = np.asarray(depth, dtype=np.float32)
    if depth.shape == (height, width):
        return depth
    rows = ((np.arange(height) + 0.5) * depth.shape[0] / height).astype(np.int64).clip(0, depth.shape[0] - 1)
    cols = ((np.arange(width) + 0.5) * depth.shape[1] / width).astype(np.int64).clip(0, depth.shape[1] - 1)
    return depth[rows[:, None], cols[None, :]]


def _resized(rgb: np.ndarray, height: int, width: int, resample: int) -> np.ndarray:
    if rgb.shape[:2] == (height, width):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((width, height), resample))


def save_png(rgb: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an (H, W, 3) uint8 picture as PNG (whatever the file name ends with), creating missing folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, format="PNG")
    return path


def save_depth_png16(depth: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """16-bit PNG in millimetres (the NYU sync / KITTI-style convention); invalid -> 0, clipped at 65.535 m."""
    depth = np.asarray(depth, dtype=np.float64)
    millimetres = np.where(np.isfinite(depth) & (depth > 0), np.round(depth * 1000.0), 0.0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(millimetres, 0, 65535).astype(np.uint16)).save(path)
    return path
