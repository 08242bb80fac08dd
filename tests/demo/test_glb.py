"""The 3-D view's GLB: read back by hand (and by trimesh where installed), it holds the back-projected mesh."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from depthzoo.demo.glb import grid_triangles, mesh_glb
from depthzoo.geometry import depth_to_points


def read_glb(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON and the accessor arrays of a GLB file, decoded with the glTF 2.0 specification's layout."""
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_length % 4 == 0
    document = json.loads(data[20 : 20 + json_length])
    bin_length, bin_type = struct.unpack_from("<II", data, 20 + json_length)
    assert bin_type == 0x004E4942
    binary = data[28 + json_length : 28 + json_length + bin_length]
    dtypes = {5126: "<f4", 5121: "u1", 5125: "<u4"}
    widths = {"VEC3": 3, "VEC4": 4, "SCALAR": 1}
    primitive = document["meshes"][0]["primitives"][0]
    arrays = {}
    for name, index in [*primitive["attributes"].items(), ("indices", primitive["indices"])]:
        accessor = document["accessors"][index]
        view = document["bufferViews"][accessor["bufferView"]]
        assert view["byteOffset"] % 4 == 0
        raw = np.frombuffer(binary, dtypes[accessor["componentType"]], accessor["count"] * widths[accessor["type"]],
                            view["byteOffset"])
        arrays[name] = raw.reshape(accessor["count"], widths[accessor["type"]])
    return document, arrays


def test_triangles_join_valid_neighbours_and_skip_depth_edges() -> None:
    depth = np.array([[1.0, 1.0, 2.0], [1.0, 1.0, 2.0]])
    valid = np.ones_like(depth, bool)
    # pixels 0 1 2 / 3 4 5: the left square is flat (2 triangles), the right one spans 1 m -> 2 m (an edge)
    assert sorted(map(tuple, grid_triangles(valid, depth, 1.08).tolist())) == [(0, 3, 1), (1, 3, 4)]
    assert len(grid_triangles(valid, depth, 2.5)) == 4
    valid[0, 0] = False
    assert grid_triangles(valid, depth, 1.08).tolist() == [[1, 3, 4]]


def test_mesh_holds_the_back_projected_points_in_gltf_axes_with_the_image_colours() -> None:
    rng = np.random.default_rng(0)
    depth = rng.uniform(2.0, 2.1, (4, 5))
    depth[0, 0] = 0.0  # no depth: no vertex
    image = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    document, arrays = read_glb(mesh_glb(depth, image, focal=3.0, cx=2.0, cy=1.5))
    valid = depth > 0
    expected = depth_to_points(depth, 3.0, 2.0, 1.5)[valid] * np.array([1, -1, -1])
    assert np.allclose(arrays["POSITION"], expected, atol=1e-6)
    assert np.array_equal(arrays["COLOR_0"][:, :3], image[valid]) and (arrays["COLOR_0"][:, 3] == 255).all()
    accessor = document["accessors"][0]
    assert np.allclose(accessor["min"], expected.min(axis=0)) and np.allclose(accessor["max"], expected.max(axis=0))
    triangles = arrays["indices"].reshape(-1, 3)
    assert len(triangles) == 2 * 3 * 4 - 1 and triangles.max() == valid.sum() - 1  # 24 cells' worth, one corner gone
    assert document["materials"][0]["extensions"] == {"KHR_materials_unlit": {}}


def test_trimesh_reads_the_file_too(tmp_path) -> None:
    trimesh = pytest.importorskip("trimesh")
    depth = np.full((6, 8), 3.0)
    path = tmp_path / "m.glb"
    path.write_bytes(mesh_glb(depth, np.full((6, 8, 3), 200, np.uint8), focal=8.0))
    mesh = trimesh.load(path, force="mesh")
    assert len(mesh.vertices) == 48 and len(mesh.faces) == 2 * 5 * 7
    assert np.allclose(mesh.vertices[:, 2], -3.0)
