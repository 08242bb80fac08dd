"""Binary PLY point clouds: coloured 3-D points in the format MeshLab, CloudCompare, Open3D and Blender read.

The file is ``binary_little_endian 1.0`` with one ``vertex`` element of float32 ``x y z`` and, when colours are
given, uchar ``red green blue``, as Open3D and the Stanford tools write it. Written atomically (see
:mod:`depthzoo.utils.files`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from depthzoo.errors import InvalidArgumentError
from depthzoo.utils.files import atomic_write


def ply_header(count: int, colors: bool) -> bytes:
    """The ASCII header of a binary little-endian PLY file with ``count`` vertices (with or without colour)."""
    lines = ["ply", "format binary_little_endian 1.0", "comment written by depthzoo", f"element vertex {count}"]
    lines += [f"property float {axis}" for axis in "xyz"]
    if colors:
        lines += [f"property uchar {channel}" for channel in ("red", "green", "blue")]
    return ("\n".join([*lines, "end_header"]) + "\n").encode("ascii")


def ply_bytes(points: np.ndarray, colors: np.ndarray | None = None) -> bytes:
    """The binary PLY file of ``points`` (N, 3) and optional ``colors`` (N, 3) uint8 RGB, as bytes.

    Args:
        points: (N, 3) coordinates, stored as float32.
        colors: (N, 3) uint8 RGB per point, or None for an uncoloured cloud.
    """
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        raise InvalidArgumentError(f"points must be (N, 3), got shape {points.shape}")
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if colors is not None:
        colors = np.asarray(colors)
        if colors.shape != points.shape or colors.dtype != np.uint8:
            raise InvalidArgumentError(
                f"colors must be (N, 3) uint8 like points {points.shape}, got {colors.shape} {colors.dtype}"
            )
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    vertices = np.empty(len(points), dtype=fields)
    for axis, column in zip("xyz", points.T):
        vertices[axis] = column
    if colors is not None:
        for channel, column in zip(("red", "green", "blue"), colors.T):
            vertices[channel] = column
    return ply_header(len(points), colors is not None) + vertices.tobytes()


def write_ply(
    path: str | os.PathLike[str], points: np.ndarray, colors: np.ndarray | None = None, overwrite: bool = False
) -> Path:
    """Write ``points`` (N, 3) and optional ``colors`` (N, 3) uint8 RGB as a binary PLY file; returns the path.

    Args:
        path: the ``.ply`` file to write (atomically; an existing file is replaced only with ``overwrite``).
        points: (N, 3) coordinates, stored as float32.
        colors: (N, 3) uint8 RGB per point, or None for an uncoloured cloud.
        overwrite: replace an existing file.
    """
    data = ply_bytes(points, colors)
    with atomic_write(path, "wb", overwrite=overwrite) as handle:
        handle.write(data)
    return Path(path).expanduser()


__all__ = ["ply_bytes", "ply_header", "write_ply"]
