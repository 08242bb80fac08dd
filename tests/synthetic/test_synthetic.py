"""Tests for the synthetic indoor dataset: renderer geometry, raw-depth holes, the .mat layout, atomic writing, CLI.

Geometry is checked against closed forms written here from NYU's published intrinsics, not against the renderer's
own helpers.
"""
from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from depthzoo.synthetic import matfile
from depthzoo.synthetic.matfile import round_mantissa, split_indices, write_synthetic_nyu
from depthzoo.synthetic.render import render
from depthzoo.synthetic.rooms import CAMERA_HEIGHT_M, CEILING_HEIGHT_M, random_scene, render_scene, sample_scene
from depthzoo.synthetic.scene import (
    CEILING,
    FAR_WALL,
    FIRST_OBJECT_ID,
    FLOOR,
    LEFT_WALL,
    RIGHT_WALL,
    Box,
    Camera,
    Cylinder,
    Doorway,
    Light,
    Material,
    Room,
    Scene,
    SensorModel,
    Sphere,
    noise_lattice,
)

H, W = 60, 80
NO_DROPOUTS = SensorModel(max_range_m=100.0, grazing_cos=0.0, edge_jump=1e9, speckle_fraction=0.0, blobs=0)


def nyu_intrinsics(height: int, width: int) -> tuple[float, float, float, float]:
    """NYU v2 colour intrinsics (fx, fy, cx, cy) at 640x480, scaled to the image size."""
    return 518.8579 * width / 640, 519.4696 * height / 480, 325.5824 * width / 640, 253.7362 * height / 480


def pixel_rays(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame ray slopes a = (u - cx) / fx (columns) and b = (v - cy) / fy (rows), float64 (H, W)."""
    fx, fy, cx, cy = nyu_intrinsics(height, width)
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    return (u - cx) / fx, (v - cy) / fy


def grey(value: float = 0.5) -> Material:
    return Material("plain", (value,) * 3, (value,) * 3, 1.0, noise_lattice(np.random.default_rng(0)))


def make_scene(camera: Camera, room: Room, objects=(), sensor: SensorModel = NO_DROPOUTS,
               light: Light | None = None) -> Scene:
    light = light or Light(position=(0.0, room.ceiling_m - 0.2, room.far_m / 2), ambient=0.3, gain=1.0)
    return Scene(camera=camera, room=room, floor=grey(0.4), walls=grey(0.7), ceiling=grey(0.9), light=light,
                 objects=tuple(objects), sensor=sensor, noise_std=0.0)


ROOM = Room(left_m=1.8, right_m=2.2, far_m=5.0, back_m=1.0, ceiling_m=2.8)


# ----------------------------------------------------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("height,width", [(60, 80), (45, 96)])
def test_empty_room_depth_matches_closed_form(height, width):
    """With a level camera every pixel's z-depth is the nearest of five planes: h/b (floor), (C-h)/-b (ceiling),
    left/-a, right/a and the far-wall distance itself.
    """
    h = 1.4
    out = render(make_scene(Camera(height_m=h), ROOM), height, width)
    a, b = pixel_rays(height, width)
    with np.errstate(divide="ignore"):
        candidates = np.stack([
            np.full_like(a, ROOM.far_m),
            np.where(b > 0, h / b, np.inf),
            np.where(b < 0, (ROOM.ceiling_m - h) / -b, np.inf),
            np.where(a < 0, ROOM.left_m / -a, np.inf),
            np.where(a > 0, ROOM.right_m / a, np.inf),
        ])
    expected = candidates.min(0)
    np.testing.assert_allclose(out.depth, expected, rtol=2e-6)
    # Each pixel is labelled with the plane that won.
    labels = np.array([FAR_WALL, FLOOR, CEILING, LEFT_WALL, RIGHT_WALL])[candidates.argmin(0)]
    unambiguous = np.sort(candidates, 0)[1] > expected * (1 + 1e-6)
    np.testing.assert_array_equal(out.surface_id[unambiguous], labels[unambiguous])
    assert {FLOOR, CEILING, LEFT_WALL, RIGHT_WALL, FAR_WALL} <= set(np.unique(out.surface_id).tolist())


def test_depth_is_z_depth_not_ray_length():
    out = render(make_scene(Camera(height_m=1.4), ROOM), H, W)
    far = out.surface_id == FAR_WALL
    np.testing.assert_allclose(out.depth[far], ROOM.far_m, rtol=1e-6)  # constant over a fronto-parallel wall
    a, b = pixel_rays(H, W)
    ray_length = ROOM.far_m * np.sqrt(a * a + b * b + 1)
    assert ray_length[far].max() > 1.05 * ROOM.far_m


def test_pitched_camera_floor_depth():
    """Camera pitched down by p: a floor pixel's z-depth is h / (sin p + cos p * b)."""
    h, pitch = 1.2, 9.0
    out = render(make_scene(Camera(height_m=h, pitch_deg=pitch), ROOM), H, W)
    floor = out.surface_id == FLOOR
    assert floor.sum() > 0.2 * H * W
    _, b = pixel_rays(H, W)
    p = math.radians(pitch)
    np.testing.assert_allclose(out.depth[floor], (h / (math.sin(p) + math.cos(p) * b))[floor], rtol=2e-6)


def test_yawed_camera_far_wall_depth():
    """Camera turned right by y: the far wall at distance D has z-depth D / (cos y - a sin y)."""
    yaw = 14.0
    out = render(make_scene(Camera(height_m=1.5, yaw_deg=yaw), ROOM), H, W)
    far = out.surface_id == FAR_WALL
    assert far.sum() > 0.1 * H * W
    a, _ = pixel_rays(H, W)
    y = math.radians(yaw)
    np.testing.assert_allclose(out.depth[far], (ROOM.far_m / (math.cos(y) - a * math.sin(y)))[far], rtol=2e-6)


def _camera_points(depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Back-project masked pixels with the NYU-like intrinsics: camera-frame points (n, 3)."""
    a, b = pixel_rays(*depth.shape)
    z = depth[mask].astype(np.float64)
    return np.stack([a[mask] * z, b[mask] * z, z], axis=1)


def _plane(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Least-squares plane n . x = d through points (not through the origin); returns (n, d, max residual)."""
    m, *_ = np.linalg.lstsq(points, np.ones(len(points)), rcond=None)
    d = 1.0 / np.linalg.norm(m)
    n = m * d
    return n, d, float(np.abs(points @ n - d).max())


def test_rotated_camera_planes_are_flat_and_at_the_right_distances():
    """With pitch, roll and yaw together, back-projected z-depths must put each room surface on a plane at its
    true distance from the camera, floor and ceiling parallel, floor and far wall perpendicular.
    """
    h = 1.3
    camera = Camera(height_m=h, pitch_deg=7.0, roll_deg=-2.5, yaw_deg=11.0)
    out = render(make_scene(camera, ROOM), 120, 160)
    planes = {}
    for sid, distance in ((FLOOR, h), (CEILING, ROOM.ceiling_m - h), (FAR_WALL, ROOM.far_m),
                          (LEFT_WALL, ROOM.left_m), (RIGHT_WALL, ROOM.right_m)):
        mask = out.surface_id == sid
        assert mask.sum() > 50, sid
        n, d, residual = _plane(_camera_points(out.depth, mask))
        assert residual < 1e-5 * ROOM.far_m, sid
        assert d == pytest.approx(distance, rel=1e-5), sid
        planes[sid] = n
    assert abs(planes[FLOOR] @ planes[CEILING]) == pytest.approx(1.0, abs=1e-6)
    assert planes[FLOOR] @ planes[FAR_WALL] == pytest.approx(0.0, abs=1e-5)
    assert abs(planes[LEFT_WALL] @ planes[RIGHT_WALL]) == pytest.approx(1.0, abs=1e-6)


def test_objects_surfaces_are_where_they_stand():
    """Level camera at height h (camera point (X, Y, Z) is world (X, h - Y, Z)): box front faces at their z,
    points on the ball at distance r from its centre, cylinder sides at distance r from the axis, top at its height.
    """
    h = 1.5
    box = Box(x_m=-0.6, z_m=3.0, width_m=0.6, depth_m=0.4, height_m=0.9, yaw_deg=0.0, material=grey())
    ball = Sphere(x_m=0.5, z_m=2.5, radius_m=0.3, material=grey())
    can = Cylinder(x_m=1.1, z_m=3.5, radius_m=0.25, height_m=0.7, material=grey())
    out = render(make_scene(Camera(height_m=h), ROOM, [box, ball, can]), 120, 160)
    ids = {"box_front": FIRST_OBJECT_ID + 5, "box_top": FIRST_OBJECT_ID + 2, "ball": FIRST_OBJECT_ID + 6,
           "can_side": FIRST_OBJECT_ID + 7, "can_top": FIRST_OBJECT_ID + 8}
    world = {}
    for name, sid in ids.items():
        mask = out.surface_id == sid
        assert mask.sum() > 20, name
        p = _camera_points(out.depth, mask)
        world[name] = np.stack([p[:, 0], h - p[:, 1], p[:, 2]], axis=1)
    np.testing.assert_allclose(world["box_front"][:, 2], box.z_m - box.depth_m / 2, rtol=1e-6)
    np.testing.assert_allclose(world["box_top"][:, 1], box.height_m, atol=1e-5)
    centre = np.array([ball.x_m, ball.radius_m, ball.z_m])
    np.testing.assert_allclose(np.linalg.norm(world["ball"] - centre, axis=1), ball.radius_m, atol=1e-5)
    radial = np.hypot(world["can_side"][:, 0] - can.x_m, world["can_side"][:, 2] - can.z_m)
    np.testing.assert_allclose(radial, can.radius_m, atol=1e-5)
    np.testing.assert_allclose(world["can_top"][:, 1], can.height_m, atol=1e-5)


def test_doorway_opens_into_a_corridor():
    door = Doorway(x0_m=-0.5, x1_m=0.5, height_m=2.0, depth_m=6.0)
    room = Room(left_m=1.8, right_m=2.2, far_m=5.0, back_m=1.0, ceiling_m=2.8, door=door)
    out = render(make_scene(Camera(height_m=1.4), room), H, W)
    a, b = pixel_rays(H, W)
    centre = np.unravel_index(np.argmin(a * a + b * b), a.shape)
    # Straight ahead through the door is the corridor's end wall.
    assert out.depth[centre] == pytest.approx(room.far_m + door.depth_m, rel=1e-6)
    assert (out.depth > room.far_m + 1).sum() > 10


def test_ball_casts_a_shadow_on_the_floor():
    """A light right above a ball shadows a floor disc of radius L r / sqrt((L - r)^2 - r^2) around its foot, where
    only the ambient term lights the floor.
    """
    ball = Sphere(x_m=0.0, z_m=3.0, radius_m=0.3, material=grey())
    light = Light(position=(0.0, 2.6, 3.0), ambient=0.3, gain=1.0)
    h = 1.5
    out = render(make_scene(Camera(height_m=h, pitch_deg=10.0), ROOM, [ball], light=light), 120, 160)
    floor = out.surface_id == FLOOR
    # Floor points: the ray hits y = 0 at t = z-depth; recover x, z on the floor from pitch-only geometry.
    a, b = pixel_rays(120, 160)
    p = math.radians(10.0)
    z_world = out.depth * (math.cos(p) - math.sin(p) * b)
    dist = np.hypot(a * out.depth - ball.x_m, z_world - ball.z_m)
    big_l, r = light.position[1], ball.radius_m
    shadow_radius = big_l * r / math.sqrt((big_l - r) ** 2 - r ** 2)
    ambient_only = round(math.sqrt(0.4 * 0.3) * 255)  # gamma 2 encoding of albedo * ambient
    inside = floor & (dist < 0.9 * shadow_radius)
    ring = floor & (dist > 1.1 * shadow_radius) & (dist < 1.6 * shadow_radius)
    assert inside.sum() > 10 and ring.sum() > 10
    assert np.abs(out.rgb[inside].astype(int) - ambient_only).max() <= 1
    assert out.rgb[ring].min() > ambient_only + 10


# ----------------------------------------------------------------------------------------------------------------------
# Raw depth holes
# ----------------------------------------------------------------------------------------------------------------------
def test_raw_equals_depth_except_holes():
    for index in range(4):
        rgb, depth, raw = render_scene(3, index, H, W)
        assert rgb.dtype == np.uint8 and rgb.shape == (H, W, 3)
        assert depth.dtype == raw.dtype == np.float32 and depth.shape == raw.shape == (H, W)
        assert np.isfinite(depth).all() and (depth > 0).all()
        holes = raw == 0
        np.testing.assert_array_equal(raw[~holes], depth[~holes])
        assert 0 < holes.mean() < 0.5


def test_far_range_is_a_hole():
    sensor = SensorModel(max_range_m=4.0, grazing_cos=0.0, edge_jump=1e9, speckle_fraction=0.0, blobs=0)
    out = render(make_scene(Camera(height_m=1.4), ROOM, sensor=sensor), H, W)
    np.testing.assert_array_equal(out.raw == 0, out.depth > 4.0)
    assert (out.raw[out.surface_id == FAR_WALL] == 0).all()


def test_grazing_angles_are_holes():
    """|cos| between ray and normal, from the closed form per plane: floor/ceiling |b|, side walls |a|, far wall 1,
    over |(a, b, 1)|.
    """
    sensor = SensorModel(max_range_m=100.0, grazing_cos=0.3, edge_jump=1e9, speckle_fraction=0.0, blobs=0)
    out = render(make_scene(Camera(height_m=1.4), ROOM, sensor=sensor), H, W)
    a, b = pixel_rays(H, W)
    along_normal = np.select([np.isin(out.surface_id, [FLOOR, CEILING]), np.isin(out.surface_id, [LEFT_WALL,
                             RIGHT_WALL])], [np.abs(b), np.abs(a)], 1.0)
    cos = along_normal / np.sqrt(a * a + b * b + 1)
    clear = np.abs(cos - 0.3) > 1e-4
    np.testing.assert_array_equal((out.raw == 0)[clear], (cos < 0.3)[clear])
    assert (out.raw == 0).any() and (out.raw > 0).any()


def test_edge_holes_and_projector_shadow():
    """Left of a box in front of the wall the hole is baseline * fx * (1/z_box - 1/z_wall) pixels wide; right of it
    only the one background pixel at the discontinuity is lost.
    """
    sensor = SensorModel(max_range_m=100.0, grazing_cos=0.0, edge_jump=0.05, edge_px=0.0, baseline_m=0.075,
                         speckle_fraction=0.0, blobs=0)
    box = Box(x_m=0.0, z_m=1.7, width_m=0.8, depth_m=0.6, height_m=2.0, yaw_deg=0.0, material=grey())
    height, width = 120, 160
    out = render(make_scene(Camera(height_m=1.0), ROOM, [box], sensor=sensor), height, width)
    fx = nyu_intrinsics(height, width)[0]
    expected_width = round(0.075 * fx * (1 / 1.4 - 1 / ROOM.far_m))
    assert expected_width >= 3
    row = height // 2
    on_box = np.flatnonzero(out.surface_id[row] >= FIRST_OBJECT_ID)
    left, right = on_box.min(), on_box.max()
    holes = out.raw[row] == 0
    assert not holes[left:right + 1].any()
    assert holes[left - expected_width:left].all() and not holes[left - expected_width - 2]
    assert holes[right + 1] and not holes[right + 2]


def test_dropouts_follow_the_image_seed():
    a = render_scene(0, 5, H, W)[2]
    b = render_scene(0, 5, H, W)[2]
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------------------------------------------
# Random scenes
# ----------------------------------------------------------------------------------------------------------------------
def test_render_scene_is_deterministic_by_seed_and_index():
    first = render_scene(7, 2, H, W)
    again = render_scene(7, 2, H, W)
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    other_seed = render_scene(8, 2, H, W)
    other_index = render_scene(7, 3, H, W)
    assert not np.array_equal(first[0], other_seed[0]) and not np.array_equal(first[1], other_seed[1])
    assert not np.array_equal(first[1], other_index[1])
    assert not np.array_equal(other_index[1], render_scene(8, 2, H, W)[1])  # (seed, index), not seed + index


def test_random_rooms_stay_in_the_documented_ranges():
    counts = []
    for index in range(40):
        scene = random_scene(11, index)
        room, cam = scene.room, scene.camera
        assert 2.5 <= room.far_m <= 8.0 and 3.0 <= room.left_m + room.right_m <= 7.0
        assert CEILING_HEIGHT_M[0] <= room.ceiling_m <= CEILING_HEIGHT_M[1]
        assert CAMERA_HEIGHT_M[0] <= cam.height_m <= CAMERA_HEIGHT_M[1]
        assert -5 <= cam.pitch_deg <= 12 and abs(cam.roll_deg) <= 3 and abs(cam.yaw_deg) <= 20
        assert room.left_m > 0 and room.right_m > 0
        assert len(scene.objects) <= 7
        counts.append(len(scene.objects))
        for obj in scene.objects:
            lo, hi = obj.bounds()
            assert lo[1] == 0.0 and hi[1] < scene.light.position[1]  # standing on the floor, below the light
            assert -room.left_m < lo[0] and hi[0] < room.right_m and 0.8 < lo[2] and hi[2] < room.far_m
    assert np.mean(counts) > 3  # placement rarely gives up


def test_random_depth_maps_look_like_rooms():
    depths = np.stack([render_scene(1, i, 30, 40)[1] for i in range(12)])
    assert depths.min() > 0.3 and depths.max() < 25.0
    medians = np.median(depths.reshape(12, -1), axis=1)
    assert 1.0 < medians.min() and medians.max() < 8.0
    assert depths.reshape(12, -1).std(axis=1).min() > 0.1  # never a flat wall only


def test_scene_does_not_depend_on_the_image_size():
    """The principal point scales with the image, so pixel (v, u) at 24x32 and (2v, 2u) at 48x64 share a ray."""
    first, second = random_scene(4, 9), random_scene(4, 9)
    assert first.room == second.room and first.camera == second.camera and first.light == second.light
    small, large = render_scene(4, 9, 24, 32)[1], render_scene(4, 9, 48, 64)[1]
    np.testing.assert_allclose(large[::2, ::2], small, rtol=1e-5)


def test_sample_scene_draws_from_the_given_generator():
    a = sample_scene(np.random.default_rng(123))
    b = sample_scene(np.random.default_rng(123))
    c = sample_scene(np.random.default_rng(124))
    assert a.room == b.room and a.camera == b.camera and a.room != c.room


@pytest.mark.parametrize("kwargs,error", [
    (dict(seed=-1, index=0), ValueError),
    (dict(seed=0, index=-2), ValueError),
    (dict(seed=0.5, index=0), TypeError),
    (dict(seed=0, index=0, height=4), ValueError),
    (dict(seed=0, index=True), TypeError),
])
def test_render_scene_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        render_scene(**kwargs)


# ----------------------------------------------------------------------------------------------------------------------
# The .mat file
# ----------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "nyu.mat"
    return write_synthetic_nyu(path, num=7, seed=2, height=24, width=32, test_fraction=0.25)


def test_file_has_the_matlab_header(small_file):
    header = small_file.read_bytes()[:512]
    assert header.startswith(b"MATLAB 7.3 MAT-file, Platform: ")
    text = header[:116].rstrip(b" ")
    assert b"Created on: " in text and text.endswith(b"HDF5 schema 1.00 .")
    assert header[124:128] == b"\x00\x02IM"
    with h5py.File(small_file, "r") as f:
        assert f.userblock_size == 512
    matlab = pytest.importorskip("scipy.io.matlab")
    assert matlab.matfile_version(str(small_file)) == (2, 0)  # what scipy reports for v7.3 files


def test_file_layout_is_nyu_like(small_file):
    with h5py.File(small_file, "r") as f:
        assert {"images", "depths", "rawDepths", "trainNdxs", "testNdxs"} <= set(f.keys())
        assert f["images"].shape == (7, 3, 32, 24) and f["images"].dtype == np.uint8
        for name in ("depths", "rawDepths"):
            assert f[name].shape == (7, 32, 24) and f[name].dtype == np.float32
            assert f[name].attrs["MATLAB_class"] == b"single"
            assert f[name].chunks == (1, 32, 24) and f[name].compression == "gzip"
        assert f["images"].attrs["MATLAB_class"] == b"uint8"
        assert f["images"].chunks == (1, 3, 32, 24)
        for name in ("trainNdxs", "testNdxs"):
            assert f[name].dtype == np.float64 and f[name].attrs["MATLAB_class"] == b"double"
            assert f[name].ndim == 2 and f[name].shape[0] == 1
        train, test = f["trainNdxs"][0], f["testNdxs"][0]
        np.testing.assert_array_equal(test, [6, 7])  # round(7 * 0.25) = 2, from the end, 1-based
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(1, 8))
        assert not set(train) & set(test)


def round_to_significant_bits(x: np.ndarray, bits: int) -> np.ndarray:
    """Round half up to ``bits`` significant binary digits, via frexp (an independent formulation)."""
    mantissa, exponent = np.frexp(x.astype(np.float64))
    return (np.floor(mantissa * 2.0 ** bits + 0.5) / 2.0 ** bits * 2.0 ** exponent).astype(np.float32)


def test_file_holds_the_rendered_images(small_file):
    """Images exactly; depths rounded to 15 significant bits (14 stored mantissa bits), i.e. within 2**-15."""
    with h5py.File(small_file, "r") as f:
        for i in (0, 6):
            rgb, depth, raw = render_scene(2, i, 24, 32)
            np.testing.assert_array_equal(f["images"][i].transpose(2, 1, 0), rgb)
            stored_depth, stored_raw = f["depths"][i].T, f["rawDepths"][i].T
            np.testing.assert_array_equal(stored_depth, round_to_significant_bits(depth, 15))
            np.testing.assert_array_equal(stored_raw, round_to_significant_bits(raw, 15))
            assert np.abs(stored_depth / depth - 1).max() <= 2.0 ** -15
            np.testing.assert_array_equal(stored_raw == 0, raw == 0)


def test_round_mantissa_keeps_the_requested_bits():
    values = np.array([0.0, 1.0, 1.00001, 3.14159265, 7.9999995, 9.87654], dtype=np.float32)
    for bits in (1, 10, 14, 23):
        np.testing.assert_array_equal(round_mantissa(values, bits), round_to_significant_bits(values, bits + 1))
    assert round_mantissa(np.float32([7.9999995]), 14)[0] == 8.0  # carries into the exponent
    with pytest.raises(ValueError, match="between 1 and 23"):
        round_mantissa(values, 0)


def test_image_does_not_depend_on_the_file_length(tmp_path, small_file):
    shorter = write_synthetic_nyu(tmp_path / "short.mat", num=3, seed=2, height=24, width=32)
    with h5py.File(shorter, "r") as a, h5py.File(small_file, "r") as b:
        np.testing.assert_array_equal(a["images"][2], b["images"][2])
        np.testing.assert_array_equal(a["rawDepths"][2], b["rawDepths"][2])


def test_same_arguments_give_byte_identical_files(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = write_synthetic_nyu(tmp_path / "a.mat", num=3, seed=5, height=16, width=24)
    b = write_synthetic_nyu(tmp_path / "b.mat", num=3, seed=5, height=16, width=24)
    assert a.read_bytes() == b.read_bytes()
    assert b"Created on: Tue Nov 14 22:13:20 2023 " in a.read_bytes()[:116]


@pytest.mark.parametrize("num,fraction,n_test", [(600, 0.1, 60), (7, 0.1, 1), (3, 0.9, 2), (2, 0.5, 1)])
def test_split_takes_the_tail(num, fraction, n_test):
    train, test = split_indices(num, fraction)
    np.testing.assert_array_equal(test, np.arange(num - n_test + 1, num + 1))
    np.testing.assert_array_equal(train, np.arange(1, num - n_test + 1))


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(num=1), ValueError, "num must be at least 2"),
    (dict(test_fraction=0.0), ValueError, "strictly between 0 and 1"),
    (dict(test_fraction=1.0), ValueError, "strictly between 0 and 1"),
    (dict(height=5), ValueError, "height must be at least 8"),
    (dict(num=2.5), TypeError, "num must be an integer"),
    (dict(seed=-3), ValueError, "seed must be at least 0"),
])
def test_writer_rejects_bad_arguments(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        write_synthetic_nyu(tmp_path / "x.mat", **{"num": 3, "height": 16, "width": 16, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_to_clobber_or_write_onto_a_folder(tmp_path):
    existing = tmp_path / "old.mat"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_synthetic_nyu(existing, num=2, height=16, width=16)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(IsADirectoryError, match="is a folder"):
        write_synthetic_nyu(tmp_path, num=2, height=16, width=16)
    write_synthetic_nyu(existing, num=2, height=16, width=16, overwrite=True)
    assert existing.read_bytes()[:6] == b"MATLAB"


def _failing_renderer(fail_at: int, exc: BaseException):
    calls = []
    real = matfile.render_scene

    def render_or_fail(seed, index, height, width):
        calls.append(index)
        if len(calls) > fail_at:
            raise exc
        return real(seed, index, height, width)
    return render_or_fail


@pytest.mark.parametrize("exc", [RuntimeError("renderer crashed"), KeyboardInterrupt()])
def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch, exc):
    monkeypatch.setattr(matfile, "render_scene", _failing_renderer(2, exc))
    target = tmp_path / "sub" / "nyu.mat"
    with pytest.raises(type(exc)):
        write_synthetic_nyu(target, num=5, height=16, width=16)
    assert not target.exists()
    assert list((tmp_path / "sub").iterdir()) == []


def test_interrupted_overwrite_keeps_the_old_file(tmp_path, monkeypatch):
    target = write_synthetic_nyu(tmp_path / "nyu.mat", num=2, height=16, width=16)
    before = target.read_bytes()
    monkeypatch.setattr(matfile, "render_scene", _failing_renderer(1, RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        write_synthetic_nyu(target, num=4, height=16, width=16, overwrite=True)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["nyu.mat"]


@pytest.mark.parametrize("build,message", [
    (lambda: Room(left_m=-1.0, right_m=2.0, far_m=5.0, back_m=1.0, ceiling_m=2.8), "must be positive"),
    (lambda: Room(left_m=1.0, right_m=2.0, far_m=5.0, back_m=1.0, ceiling_m=2.8,
                  door=Doorway(x0_m=1.5, x1_m=2.5, height_m=2.0, depth_m=3.0)), "does not fit"),
    (lambda: Doorway(x0_m=0.5, x1_m=0.0, height_m=2.0, depth_m=3.0), "x0_m < x1_m"),
    (lambda: make_scene(Camera(height_m=3.0), ROOM), "must be inside the room"),
    (lambda: Material("marble", (0.5,) * 3, (0.5,) * 3, 1.0, noise_lattice(np.random.default_rng(0))), "unknown"),
    (lambda: Material("plain", (0.5,) * 3, (0.5,) * 3, 1.0, np.zeros((4, 4), np.float32)), "lattice must be"),
])
def test_scene_description_rejects_impossible_scenes(build, message):
    with pytest.raises(ValueError, match=message):
        build()
