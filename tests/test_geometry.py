"""Camera geometry: back-projection checked on a plane of known equation, intrinsics under resizes, PLY files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from depthzoo.errors import DepthzooError, InvalidArgumentError, OutputExistsError
from depthzoo.formats.ply import write_ply
from depthzoo.geometry import NYU_INTRINSICS, Intrinsics, depth_to_points


def plane_depth(camera: Intrinsics, normal: np.ndarray, offset: float) -> np.ndarray:
    """z-depth of the plane n . X = offset seen through every pixel: the ray (u - cx)/fx, (v - cy)/fy, 1 times z."""
    u = np.arange(camera.width, dtype=np.float64)
    v = np.arange(camera.height, dtype=np.float64)[:, None]
    rays = np.stack(np.broadcast_arrays((u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, 1.0), axis=-1)
    return offset / (rays @ normal)


def test_back_projected_plane_satisfies_its_equation() -> None:
    camera = NYU_INTRINSICS.scaled(120, 160)
    normal = np.array([0.2, -0.7, 0.68])
    normal /= np.linalg.norm(normal)
    depth = plane_depth(camera, normal, 2.5)
    points = depth_to_points(depth, camera.fx, camera.cx, camera.cy, fy=camera.fy)
    assert points.shape == (120, 160, 3) and points.dtype == np.float64
    np.testing.assert_allclose(points @ normal, 2.5, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(points[..., 2], depth)
    # Each point lies on its pixel's ray: x / z = (u - cx) / fx, y / z = (v - cy) / fy.
    np.testing.assert_allclose(points[5, :, 0] / points[5, :, 2], (np.arange(160) - camera.cx) / camera.fx, atol=1e-14)
    np.testing.assert_allclose(points[:, 7, 1] / points[:, 7, 2], (np.arange(120) - camera.cy) / camera.fy, atol=1e-14)


def test_torch_and_numpy_agree_and_batches_work() -> None:
    depth = np.random.default_rng(0).uniform(0.5, 5.0, (2, 6, 9)).astype(np.float32)
    from_numpy = depth_to_points(depth, 7.0, 4.2, 2.1)
    from_torch = depth_to_points(torch.from_numpy(depth), 7.0, 4.2, 2.1)
    assert from_numpy.dtype == np.float32 and from_torch.dtype == torch.float32 and from_torch.shape == (2, 6, 9, 3)
    np.testing.assert_allclose(from_torch.numpy(), from_numpy, rtol=1e-6)
    centred = depth_to_points(np.ones((3, 5)), 1.0)  # principal point defaults to the centre pixel (2, 1)
    assert centred[1, 2].tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("focal", [0.0, -3.0, float("nan")])
def test_bad_focal_lengths_are_refused(focal: float) -> None:
    with pytest.raises(DepthzooError, match="focal"):
        depth_to_points(np.ones((2, 2)), focal)


def test_resized_intrinsics_follow_the_pixel_centres_of_cv2() -> None:
    # A horizontal ramp whose value is the column: after cv2's bilinear resize, the column whose value equals cx is
    # where the principal point went.
    camera = Intrinsics(100.0, 90.0, 37.3, 21.7, 48, 80)
    ramp = np.tile(np.arange(80, dtype=np.float32), (48, 1))
    for width in (40, 120):
        resized = cv2.resize(ramp, (width, 48), interpolation=cv2.INTER_LINEAR)[0].astype(np.float64)
        where = np.interp(camera.cx, resized, np.arange(width))
        moved = camera.resized(48, width)
        assert moved.cx == pytest.approx(where, abs=1e-4) and moved.fx == pytest.approx(100.0 * width / 80)
        assert moved.fy == pytest.approx(90.0) and moved.cy == pytest.approx(21.7)
    cropped = camera.cropped(5, 10, 30, 40)
    assert cropped.as_tuple() == pytest.approx((100.0, 90.0, 27.3, 16.7))
    assert (cropped.height, cropped.width) == (30, 40)


def read_ply(path: Path) -> tuple[list[str], np.ndarray]:
    """An independent reader: the header lines and the vertex records of a binary little-endian PLY file."""
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii").splitlines()
    dtype = [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")]
    return header, np.frombuffer(data[end:], dtype=dtype)


def test_ply_files_are_binary_little_endian_with_colours(tmp_path: Path) -> None:
    points = np.array([[0.0, 1.5, 2.0], [-1.25, 0.5, 3.0]])
    colours = np.array([[255, 0, 10], [1, 2, 3]], dtype=np.uint8)
    path = write_ply(tmp_path / "cloud.ply", points, colours)
    header, vertices = read_ply(path)
    assert header[:2] == ["ply", "format binary_little_endian 1.0"] and "element vertex 2" in header
    assert [line for line in header if line.startswith("property")] == [
        "property float x", "property float y", "property float z",
        "property uchar red", "property uchar green", "property uchar blue",
    ]
    np.testing.assert_array_equal(np.stack([vertices["x"], vertices["y"], vertices["z"]], 1), points)
    np.testing.assert_array_equal(np.stack([vertices["red"], vertices["green"], vertices["blue"]], 1), colours)
    with pytest.raises(OutputExistsError):
        write_ply(path, points, colours)
    with pytest.raises(InvalidArgumentError, match="uint8"):
        write_ply(tmp_path / "other.ply", points, colours.astype(np.int64))
