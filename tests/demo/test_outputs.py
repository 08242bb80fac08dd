"""The demo's pictures and downloads: the scaling in the file names is what the files hold."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from depthzoo.demo.outputs import coloured_depth, depth_colorbar, mesh, normalized_disparity_png16, write_downloads
from depthzoo.demo.pipeline import Camera, DepthResult
from depthzoo.formats.ply import ply_header
from depthzoo.geometry import Intrinsics
from depthzoo.visualize import colormap


def result(kind: str = "metric") -> DepthResult:
    values = np.linspace(1.0, 3.0, 6 * 8, dtype=np.float32).reshape(6, 8)
    values[0, 0] = 0.0 if kind == "metric" else values[0, 0]
    image = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return DepthResult(image, values, kind, (6, 8), Camera(Intrinsics(8.0, 8.0, 3.5, 2.5, 6, 8), "given"))


def test_metric_downloads_are_millimetres_metres_and_a_point_cloud(tmp_path) -> None:
    metric = result()
    paths = write_downloads(metric, tmp_path, "room")
    assert [p.name for p in paths] == ["room_depth_mm.png", "room_depth_m.npy", "room_points_m.ply"]
    png = np.asarray(Image.open(paths[0]))
    assert png.dtype == np.uint16 and np.array_equal(png, np.round(metric.values * 1000).astype(np.uint16))
    assert np.array_equal(np.load(paths[1]), metric.values)
    data = paths[2].read_bytes()
    header = ply_header(6 * 8 - 1, colors=True)
    assert data.startswith(header) and len(data) == len(header) + 47 * 15  # 47 valid pixels, xyz float + rgb
    first = np.frombuffer(data[len(header) : len(header) + 12], "<f4")  # pixel (1, 0) at its depth
    z = metric.values[0, 1]
    assert np.allclose(first, [(1 - 3.5) * z / 8, (0 - 2.5) * z / 8, z], atol=1e-6)


def test_relative_downloads_say_their_normalisation(tmp_path) -> None:
    relative = result("relative_disparity")
    paths = write_downloads(relative, tmp_path, "room")
    assert [p.name for p in paths] == [
        "room_disparity_normalized_0-65535.png", "room_disparity.npy", "room_points_relative.ply"]
    png = np.asarray(Image.open(paths[0]))
    low, high = relative.values.min(), relative.values.max()
    assert png.dtype == np.uint16 and png.min() == 0 and png.max() == 65535
    assert np.array_equal(png, np.round((relative.values - low) / (high - low) * 65535).astype(np.uint16))
    assert np.array_equal(np.load(paths[1]), relative.values)
    assert normalized_disparity_png16(np.array([[np.nan, 1.0, 1.0]])).tolist() == [[0, 0, 0]]


@pytest.mark.parametrize("kind", ["metric", "relative_disparity"])
def test_coloured_depth_is_at_the_input_size_near_alike_for_both_kinds(kind: str) -> None:
    res = result(kind)
    if kind != "metric":
        res.values = 1.0 / res.values  # disparity of the same scene
    rgb = coloured_depth(res, "magma")
    table = colormap("magma")
    assert rgb.shape == (6, 8, 3)
    assert rgb[-1, -1].tolist() == table[255].tolist()  # the farthest pixel: the table's far end in both
    nearest = (0, 1) if kind == "metric" else (0, 0)  # (0, 0) has no depth in the metric map
    assert rgb[nearest].tolist() == table[0].tolist()  # the near end
    bar = depth_colorbar(res, "magma")
    assert bar.shape[1] == 512 and bar[0, 0].tolist() == table[0].tolist()  # near on the left


def test_mesh_is_a_glb_of_the_valid_pixels() -> None:
    data = mesh(result(), max_side=4)  # 6x8 -> 3x4 grid
    assert data[:4] == b"glTF"
    document = __import__("json").loads(data[20 : 20 + int.from_bytes(data[12:16], "little")])
    assert document["accessors"][0]["count"] == 12  # all 3x4 samples are valid (the hole at (0, 0) is not sampled)
