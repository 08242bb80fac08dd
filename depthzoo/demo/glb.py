"""A depth map as a coloured triangle mesh in a binary glTF (``.glb``) file, for the demo's 3-D view.

glTF 2.0 is what browsers' 3-D viewers read (``gr.Model3D``, three.js, Babylon.js, Blender, Windows 3D Viewer). The
mesh joins each 2x2 block of neighbouring pixels with two triangles, except across depth edges (where the depths of
a triangle's corners differ by more than ``max_ratio``), so objects are not glued to the wall behind them. Colours
are per vertex and unlit (``KHR_materials_unlit``): the scene looks like the photo from every side.

Axes: glTF's are x right, y up, z towards the viewer; the camera frame's (x right, y down, z forward) points are
stored as (x, -y, -z), so the viewer's default view looks into the scene as the camera did.

>>> depth = np.full((3, 4), 2.0, dtype=np.float32)
>>> data = mesh_glb(depth, np.zeros((3, 4, 3), np.uint8), focal=4.0)
>>> data[:4], int.from_bytes(data[8:12], "little") == len(data)
(b'glTF', True)
"""

from __future__ import annotations

import json
import struct

import numpy as np

from depthzoo.errors import InvalidArgumentError
from depthzoo.geometry import depth_to_points

GLB_MAGIC = b"glTF"
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
FLOAT, UNSIGNED_BYTE, UNSIGNED_INT = 5126, 5121, 5125


def grid_triangles(valid: np.ndarray, depth: np.ndarray, max_ratio: float) -> np.ndarray:
    """(T, 3) vertex indices (row-major pixel numbers) of the triangles between valid neighbours without a depth edge.

    >>> grid_triangles(np.ones((2, 2), bool), np.ones((2, 2)), 1.1).tolist()
    [[0, 2, 1], [1, 2, 3]]
    """
    height, width = valid.shape
    index = np.arange(height * width).reshape(height, width)
    corners = (index[:-1, :-1], index[1:, :-1], index[:-1, 1:], index[1:, 1:])  # top-left, bottom-left, ...
    triangles = []
    for a, b, c in ((0, 1, 2), (2, 1, 3)):
        ids = np.stack([corners[a], corners[b], corners[c]], axis=-1).reshape(-1, 3)
        z = depth.reshape(-1)[ids]
        keep = valid.reshape(-1)[ids].all(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            keep &= z.max(axis=1) <= max_ratio * z.min(axis=1)
        triangles.append(ids[keep])
    return np.concatenate(triangles)


def glb_bytes(positions: np.ndarray, colors: np.ndarray, triangles: np.ndarray) -> bytes:
    """A binary glTF file with one unlit mesh.

    Args:
        positions: (N, 3) float32 vertex positions in glTF axes.
        colors: (N, 3) uint8 RGB per vertex.
        triangles: (T, 3) vertex indices; an empty array gives a mesh without faces.
    """
    positions = np.ascontiguousarray(positions, dtype="<f4")
    rgba = np.concatenate([np.asarray(colors, dtype=np.uint8), np.full((len(positions), 1), 255, np.uint8)], axis=1)
    indices = np.ascontiguousarray(triangles, dtype="<u4").reshape(-1)
    if positions.ndim != 2 or positions.shape[1] != 3 or rgba.shape != (len(positions), 4):
        raise InvalidArgumentError(f"positions must be (N, 3) and colours (N, 3), got {positions.shape} and "
                                   f"{np.shape(colors)}")
    blobs = [positions.tobytes(), rgba.tobytes(), indices.tobytes()]  # each a multiple of 4 bytes
    offsets = np.cumsum([0, *(len(b) for b in blobs)])
    views = [
        {"buffer": 0, "byteOffset": int(offsets[i]), "byteLength": len(b), "target": target}
        for i, (b, target) in enumerate(zip(blobs, (ARRAY_BUFFER, ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER)))
    ]
    lower = positions.min(axis=0).tolist() if len(positions) else [0.0] * 3
    upper = positions.max(axis=0).tolist() if len(positions) else [0.0] * 3
    accessors = [
        {"bufferView": 0, "componentType": FLOAT, "count": len(positions), "type": "VEC3", "min": lower, "max": upper},
        {"bufferView": 1, "componentType": UNSIGNED_BYTE, "normalized": True, "count": len(positions), "type": "VEC4"},
        {"bufferView": 2, "componentType": UNSIGNED_INT, "count": len(indices), "type": "SCALAR"},
    ]
    material = {
        "pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1], "metallicFactor": 0, "roughnessFactor": 1},
        "doubleSided": True,
        "extensions": {"KHR_materials_unlit": {}},
    }
    document = {
        "asset": {"version": "2.0", "generator": "depthzoo"},
        "extensionsUsed": ["KHR_materials_unlit"],
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "COLOR_0": 1}, "indices": 2, "material": 0}]}],
        "materials": [material],
        "buffers": [{"byteLength": int(offsets[-1])}],
        "bufferViews": views,
        "accessors": accessors,
    }
    text = json.dumps(document, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary = b"".join(blobs)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return (
        GLB_MAGIC
        + struct.pack("<II", 2, total)
        + struct.pack("<II", len(text), JSON_CHUNK)
        + text
        + struct.pack("<II", len(binary), BIN_CHUNK)
        + binary
    )


def mesh_glb(
    depth: np.ndarray,
    image: np.ndarray,
    focal: float,
    cx: float | None = None,
    cy: float | None = None,
    fy: float | None = None,
    max_ratio: float = 1.08,
) -> bytes:
    """The GLB mesh of a depth map: one vertex per pixel with a valid depth, coloured by ``image``.

    Args:
        depth: (H, W) z-depth (<= 0 or not finite: no vertex).
        image: (H, W, 3) uint8 RGB.
        focal: horizontal focal length in pixels of this map.
        cx: principal point column; default the centre.
        cy: principal point row; default the centre.
        fy: vertical focal length; default ``focal``.
        max_ratio: a triangle whose far corner is more than this many times as deep as its near one is left out.
    """
    depth = np.asarray(depth, dtype=np.float64)
    if np.shape(image)[:2] != depth.shape:
        raise InvalidArgumentError(f"the image {np.shape(image)} and the depth {depth.shape} differ in size")
    valid = np.isfinite(depth) & (depth > 0)
    scene = depth_to_points(np.where(valid, depth, 0.0), focal, cx, cy, fy=fy) * np.array([1.0, -1.0, -1.0])
    triangles = grid_triangles(valid, depth, max_ratio)
    # Only valid pixels become vertices (every triangle's corners are valid), renumbered in order.
    keep = valid.reshape(-1)
    renumber = np.cumsum(keep) - 1
    return glb_bytes(scene.reshape(-1, 3)[keep], np.asarray(image).reshape(-1, 3)[keep], renumber[triangles])


__all__ = ["glb_bytes", "grid_triangles", "mesh_glb"]
