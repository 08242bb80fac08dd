"""Depth maps as pictures: exact colour maps, depth edges, error maps, image grids, and the standard output files.

The colour maps are OpenCV's tables (``cv2.applyColorMap``), which for ``viridis``, ``magma``, ``inferno``,
``plasma`` and ``cividis`` are matplotlib's maps rounded to 8 bits; ``gray`` is the identity ramp, and a ``_r`` suffix
reverses any map (``viridis_r``: near is bright).

>>> colormap("viridis")[[0, 255]].tolist()   # matplotlib's first and last viridis colours, x 255, rounded
[[68, 1, 84], [253, 231, 37]]
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from depthzoo.errors import InvalidArgumentError
from depthzoo.metrics.boundary import depth_edges
from depthzoo.registry import unknown_name_message
from depthzoo.utils.files import atomic_path

DEFAULT_CMAP = "viridis"
_CV2_MAPS = {name[len("COLORMAP_") :].lower(): getattr(cv2, name) for name in dir(cv2) if name.startswith("COLORMAP_")}


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
HEADER_HEIGHT = 14
"""Pixels of the title strip above the columns of :func:`comparison_grid` and :func:`validation_panel`."""


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
    if target is not None:
        target = resized_depth(target, height, width)
    tiles = _depth_row(image, target, [pred], vmin, vmax, edges)
    if error and target is not None:
        tiles.append(error_map(pred, target))
    return np.concatenate(tiles, axis=1)


def _depth_row(
    image: np.ndarray, target: np.ndarray | None, preds: Sequence[np.ndarray], vmin: float, vmax: float, edges: bool
) -> list[np.ndarray]:
    """The tiles input | ground truth | each prediction, depths coloured on [vmin, vmax], at the ground truth's size.

    The predictions must already have that size (the first prediction's, without a ground truth).
    """
    height, width = np.shape(target if target is not None else preds[0])
    valid = None if target is None else np.isfinite(target) & (target > 0)
    tiles = [_resized(to_uint8_rgb(image), height, width, Image.BILINEAR)]
    if target is not None:
        tiles.append(_depth_tile(target, vmin, vmax, valid, edges))
    return tiles + [_depth_tile(np.asarray(pred), vmin, vmax, valid, edges) for pred in preds]


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
        vmin, vmax = _depth_range(target, target)
        tiles = _depth_row(image, target, [maps[index] for maps in preds.values()], vmin, vmax, edges)
        rows.append(np.concatenate(tiles, axis=1))
    body = np.concatenate(rows, axis=0)
    width = targets[0].shape[1]
    return np.concatenate([_header(["input", "ground truth", *preds], width), body], axis=0)


def stack_pictures(pictures: Sequence[np.ndarray], gap: int = 6) -> np.ndarray:
    """(H, W, 3) uint8 pictures one under another, left-aligned on white, ``gap`` white rows between them."""
    width = max(picture.shape[1] for picture in pictures)
    parts = []
    for index, picture in enumerate(pictures):
        padded = np.full((picture.shape[0], width, 3), 255, dtype=np.uint8)
        padded[:, : picture.shape[1]] = picture
        parts.append(padded)
        if index < len(pictures) - 1:
            parts.append(np.full((gap, width, 3), 255, dtype=np.uint8))
    return np.concatenate(parts, axis=0)


def _header(labels: Sequence[str], tile_widths: int | Sequence[int], height: int = HEADER_HEIGHT) -> np.ndarray:
    """A white strip with one label centred over each tile (PIL's built-in font: nothing to install).

    ``tile_widths`` is one width for all tiles, or one per label.
    """
    widths = [tile_widths] * len(labels) if isinstance(tile_widths, int) else list(tile_widths)
    strip = Image.new("RGB", (sum(widths), height), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default()
    for label, start, width in zip(labels, np.cumsum([0, *widths[:-1]]), widths):
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        x = int(start) + max(0, (width - (right - left)) // 2)
        draw.text((x, (height - (bottom - top)) // 2 - top), label, fill=(0, 0, 0), font=font)
    return np.asarray(strip)


def tick_label(value: float, unit: str) -> str:
    """A colour-bar tick: three significant digits and the unit (``"2.35 m"``, ``"15 %"``).

    >>> tick_label(2.3456, "m"), tick_label(15.0, "%"), tick_label(12.34, "m")
    ('2.35 m', '15 %', '12.3 m')
    """
    return f"{value:.3g} {unit}".strip()


def colorbar(
    low: float,
    high: float,
    length: int,
    table: np.ndarray | str = DEFAULT_CMAP,
    unit: str = "m",
    labels: Sequence[str] | None = None,
    vertical: bool = True,
    thickness: int = 10,
) -> np.ndarray:
    """A colour bar with tick labels, as an (H, W, 3) uint8 picture on white, to set beside a coloured map.

    The bar runs through the whole ``table`` from ``low`` to ``high``: bottom to top when ``vertical`` (labels to
    its right), left to right otherwise (labels below). Ticks are at both ends and, where there is room, the middle,
    labelled :func:`tick_label` in ``unit``; ``labels`` replaces those texts (e.g. ``["near", "far"]`` for a map
    without a unit, or ``["0 %", "15 %", "30+ %"]`` for a range whose last colour covers everything beyond).

    Args:
        low: the value of the table's first colour.
        high: the value of its last colour.
        length: the bar's length in pixels (the height of the map beside it, or its width).
        table: a colour map name (:func:`list_colormaps`) or a (256, 3) uint8 table.
        unit: the unit written after each tick value.
        labels: the tick texts, spread evenly from ``low`` to ``high`` (overrides the values).
        vertical: a vertical bar (default) or a horizontal one.
        thickness: the bar's width across, in pixels.
    """
    table = colormap(table) if isinstance(table, str) else np.asarray(table, dtype=np.uint8)
    font = ImageFont.load_default()
    if labels is None:
        count = 3 if length >= 48 else 2
        labels = [tick_label(value, unit) for value in np.linspace(low, high, count)]
    ramp = table[np.linspace(0, len(table) - 1, length).round().astype(np.int64)]  # low -> high
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    boxes = [measure.textbbox((0, 0), text, font=font) for text in labels]
    text_width = max(right - left for left, _, right, _ in boxes)
    text_height = max(bottom - top for _, top, _, bottom in boxes)
    fractions = np.linspace(0.0, 1.0, len(labels))
    if vertical:
        canvas = Image.new("RGB", (thickness + 4 + text_width + 2, length), (255, 255, 255))
        canvas.paste(Image.fromarray(np.ascontiguousarray(np.repeat(ramp[::-1, None], thickness, axis=1))), (0, 0))
        draw = ImageDraw.Draw(canvas)
        for text, (_, top, _, bottom), fraction in zip(labels, boxes, fractions):
            centre = (1.0 - fraction) * (length - 1)
            y = int(round(min(max(centre - (bottom - top) / 2, 0), length - (bottom - top)))) - top
            draw.text((thickness + 4, y), text, fill=(0, 0, 0), font=font)
    else:
        canvas = Image.new("RGB", (length, thickness + 2 + text_height + 2), (255, 255, 255))
        canvas.paste(Image.fromarray(np.ascontiguousarray(np.repeat(ramp[None], thickness, axis=0))), (0, 0))
        draw = ImageDraw.Draw(canvas)
        for text, (left, top, right, _), fraction in zip(labels, boxes, fractions):
            x = int(round(min(max(fraction * (length - 1) - (right - left) / 2, 0), length - (right - left)))) - left
            draw.text((x, thickness + 2 - top), text, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


ROW_GAP = 6
"""White pixels between the rows of :func:`validation_panel`."""
ERROR_LABELS = ("0 %", f"{100 * ERROR_RANGE / 2:g} %", f"{100 * ERROR_RANGE:g}+ %")
"""The error colour bar's ticks: :func:`error_map` shows ``ERROR_RANGE`` and beyond at full brightness."""


def validation_panel(
    images: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    preds: Sequence[np.ndarray],
    edges: bool = True,
    prediction_title: str = "prediction",
) -> np.ndarray:
    """The picture of a validation epoch: titled columns, then per image a labelled row.

    Each row is input | ground truth | prediction | a colour bar in metres | relative error | its colour bar in
    per cent, at the ground truth's size. Ground truth and prediction share the row's colour scale (the 2nd-98th
    percentiles of the valid ground truth), so the bar reads both; the error is |pred - gt| / gt, black 0, white at
    ``ERROR_RANGE`` and beyond.

    Args:
        images: (3, H, W) or (H, W, 3) RGB inputs in [0, 1].
        targets: (H, W) ground truths in metres (<= 0 or not finite: invalid).
        preds: (H, W) predictions in metres, at the ground truth's size.
        edges: draw each depth map's depth edges in white.
        prediction_title: the prediction column's title (e.g. "prediction, aligned" for a relative model).
    """
    rows = []
    for image, target, pred in zip(images, targets, preds):
        target = np.asarray(target, dtype=np.float32)
        height = target.shape[0]
        vmin, vmax = _depth_range(target, pred)
        tiles = _depth_row(image, target, [pred], vmin, vmax, edges)
        tiles.append(colorbar(vmin, vmax, height, unit="m"))
        tiles.append(error_map(pred, target))
        tiles.append(colorbar(0.0, 100 * ERROR_RANGE, height, ERROR_COLORMAP, labels=ERROR_LABELS))
        rows.append(tiles)
    widths = [max(row[column].shape[1] for row in rows) for column in range(len(rows[0]))]
    gap = np.full((ROW_GAP, sum(widths), 3), 255, dtype=np.uint8)  # keeps one row's tick labels off the next's
    lines = [np.concatenate([_padded(t, w) for t, w in zip(row, widths)], axis=1) for row in rows]
    body = np.concatenate([part for line in lines for part in (line, gap)][:-1])
    titles = ["input", "ground truth", prediction_title, "", "relative error", ""]
    return np.concatenate([_header(titles, widths), body], axis=0)


def _padded(tile: np.ndarray, width: int) -> np.ndarray:
    """The tile with white columns added on its right up to ``width``."""
    extra = width - tile.shape[1]
    return tile if extra <= 0 else np.pad(tile, ((0, 0), (0, extra), (0, 0)), constant_values=255)


def resized_depth(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    """Depth resized nearest, sampling at pixel centres (no invalid pixel blends into a valid one, no edge blurs)."""
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
