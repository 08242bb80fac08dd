"""Random NYU-like rooms: the scene of image ``i`` of seed ``s``, and its rendering.

Every image is an independent random room (see :func:`random_scene`) rendered by :mod:`depthzoo.synthetic.render`.
Image ``i`` of seed ``s`` depends only on ``(s, i)`` and the output size, never on how many images are written, so
a larger dataset extends a smaller one. The camera is NYU's (fx 518.8579 px at 640x480) scaled to the output size.
"""

from __future__ import annotations

import math

import numpy as np

from depthzoo.geometry import NYU_INTRINSICS
from depthzoo.synthetic.render import render
from depthzoo.synthetic.scene import (
    Box,
    Camera,
    Cylinder,
    Doorway,
    Light,
    Material,
    Primitive,
    Room,
    Scene,
    SensorModel,
    Sphere,
    noise_lattice,
)
from depthzoo.utils.validation import check_int

MIN_IMAGE_SIDE = 8


# ----------------------------------------------------------------------------------------------------------------------
# Random rooms
# ----------------------------------------------------------------------------------------------------------------------
def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[float, float, float]:
    i = int(h * 6.0) % 6
    f = h * 6.0 - math.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]


def _colour(rng: np.random.Generator, value: tuple[float, float], saturation: tuple[float, float]):
    """A random colour in linear RGB, drawn in HSV with the given value/saturation ranges (display terms)."""
    display = _hsv_to_rgb(rng.uniform(), rng.uniform(*saturation), rng.uniform(*value))
    return tuple(c ** 2.0 for c in display)  # the renderer encodes with gamma 2


# Texture patterns per surface kind: pattern -> (relative weight, range of its period in metres). Floor boards,
# tiles and wallpaper stripes come in realistic sizes, so the texture itself is a ruler for the absolute scale.
OBJECT_PATTERNS = {"plain": (3, (1.0, 1.0)), "checker": (2, (0.05, 0.3)), "stripes": (2, (0.05, 0.3)),
                   "noise": (2, (0.1, 0.5)), "planks": (1, (0.05, 0.2))}
FLOOR_PATTERNS = {"planks": (4, (0.1, 0.25)), "checker": (2, (0.3, 0.6)), "noise": (3, (0.3, 1.0)),
                  "plain": (1, (1.0, 1.0))}
WALL_PATTERNS = {"plain": (6, (1.0, 1.0)), "noise": (2, (0.3, 1.0)), "stripes": (1, (0.1, 0.4))}
CEILING_PATTERNS = {"plain": (3, (1.0, 1.0)), "noise": (1, (0.5, 1.2))}


def _material(rng: np.random.Generator, patterns: dict[str, tuple[float, tuple[float, float]]],
              value: tuple[float, float], saturation: tuple[float, float],
              contrast: tuple[float, float]) -> Material:
    """A random material; its second colour is either another random colour or the first one darkened."""
    names = list(patterns)
    weights = np.array([patterns[name][0] for name in names], dtype=np.float64)
    pattern = names[rng.choice(len(names), p=weights / weights.sum())]
    scale = float(rng.uniform(*patterns[pattern][1]))
    a = _colour(rng, value, saturation)
    if rng.uniform() < 0.3:
        b = _colour(rng, value, saturation)
    else:
        f = rng.uniform(*contrast)
        b = tuple(c * f for c in a)
    return Material(pattern, a, b, scale, noise_lattice(rng))


def _random_objects(rng: np.random.Generator, room: Room, camera: Camera) -> tuple[Primitive, ...]:
    """2-7 boxes, balls and cylinders on the floor inside the field of view.

    Each stands at least 0.8 m in front of the camera, apart from the others and from the walls; some stand against
    the far wall like furniture.
    """
    top_limit = min(2.0, room.ceiling_m - 0.5)  # keeps every object below the light
    placed: list[tuple[float, float, float]] = []  # (x, z, footprint radius)
    objects: list[Primitive] = []
    half_fov = math.atan(NYU_INTRINSICS.cx / NYU_INTRINSICS.fx) * 0.9
    yaw = math.radians(camera.yaw_deg)
    for _ in range(int(rng.integers(2, 8))):
        kind = int(rng.choice(3, p=[0.5, 0.25, 0.25]))
        material = _material(rng, OBJECT_PATTERNS, (0.15, 0.95), (0.0, 0.9), (0.3, 0.8))
        if kind == 0:
            size = (rng.uniform(0.3, 1.6), rng.uniform(0.3, 1.2), rng.uniform(0.2, top_limit))
            box_yaw = 0.0 if rng.uniform() < 0.5 else rng.uniform(-45, 45)
            radius = 0.5 * math.hypot(size[0], size[1])
        elif kind == 1:
            radius = rng.uniform(0.12, 0.5)
        else:
            radius, height = rng.uniform(0.1, 0.4), rng.uniform(0.2, top_limit)
        for _attempt in range(12):
            z = rng.uniform(1.0 + radius, max(1.1 + radius, room.far_m - radius))
            x = camera.x_m + z * math.tan(yaw + rng.uniform(-half_fov, half_fov))
            if rng.uniform() < 0.3:
                z = room.far_m - radius - 0.02
            inside = -room.left_m + radius < x < room.right_m - radius and 0.8 + radius < z < room.far_m - radius
            free = all(math.hypot(x - px, z - pz) > radius + pr + 0.05 for px, pz, pr in placed)
            if inside and free:
                break
        else:
            continue
        placed.append((x, z, radius))
        if kind == 0:
            objects.append(Box(x, z, size[0], size[1], size[2], box_yaw, material))
        elif kind == 1:
            objects.append(Sphere(x, z, radius, material))
        else:
            objects.append(Cylinder(x, z, radius, height, material))
    return tuple(objects)


# Ranges of the camera and ceiling heights (metres). Together they fix the depth scale that a network has to infer
# from one image; NYU's handheld Kinect was held at about chest height. With 1.0-1.7 m and 2.4-3.2 m, a small network
# trained for minutes on 2 CPU cores reached d1 0.54 where these ranges gave 0.67 at the same step.
CAMERA_HEIGHT_M = (1.3, 1.5)
CEILING_HEIGHT_M = (2.6, 3.0)


def sample_scene(rng: np.random.Generator) -> Scene:
    """A random NYU-like room.

    Far wall 2.5-8 m away, width 3-7 m, ceiling 2.6-3.0 m, camera 1.3-1.5 m high with
    pitch -5..12 deg (down), roll +-3 deg and yaw +-20 deg, a doorway into a corridor in 40 % of rooms (its end often
    beyond the sensor range), 2-7 objects, a light near the ceiling and a randomised depth sensor.
    """
    width = rng.uniform(3.0, 7.0)
    ceiling = rng.uniform(*CEILING_HEIGHT_M)
    far = rng.uniform(2.5, 8.0)
    left = width * rng.uniform(0.25, 0.75)
    back = rng.uniform(0.3, 1.5)
    door = None
    if rng.uniform() < 0.4:
        door_width = rng.uniform(0.8, 1.6)
        x0 = rng.uniform(-left + 0.2, width - left - 0.2 - door_width)
        door = Doorway(x0, x0 + door_width, rng.uniform(2.0, 2.2), rng.uniform(1.5, 8.0))
    room = Room(left_m=left, right_m=width - left, far_m=far, back_m=back, ceiling_m=ceiling, door=door)
    camera = Camera(height_m=rng.uniform(*CAMERA_HEIGHT_M), x_m=0.0, pitch_deg=rng.uniform(-5.0, 12.0),
                    roll_deg=rng.uniform(-3.0, 3.0), yaw_deg=rng.uniform(-20.0, 20.0))
    floor = _material(rng, FLOOR_PATTERNS, (0.25, 0.75), (0.1, 0.6), (0.6, 0.9))
    walls = _material(rng, WALL_PATTERNS, (0.6, 0.95), (0.0, 0.35), (0.85, 0.97))
    ceiling_material = _material(rng, CEILING_PATTERNS, (0.75, 0.98), (0.0, 0.1), (0.9, 0.98))
    light = Light(
        position=(rng.uniform(-left + 0.3, width - left - 0.3), ceiling - rng.uniform(0.05, 0.4),
                  rng.uniform(0.5, far - 0.2)),
        ambient=rng.uniform(0.2, 0.45),
        gain=rng.uniform(0.9, 1.6),
        tint=tuple(rng.uniform(0.9, 1.0, 3)),
    )
    sensor = SensorModel(max_range_m=rng.uniform(8.0, 10.0), grazing_cos=rng.uniform(0.06, 0.14),
                         edge_px=rng.uniform(0.6, 2.4), speckle_fraction=rng.uniform(0.0002, 0.002),
                         blobs=int(rng.integers(0, 5)))
    objects = _random_objects(rng, room, camera)
    return Scene(camera=camera, room=room, floor=floor, walls=walls, ceiling=ceiling_material, light=light,
                 objects=objects, sensor=sensor, noise_std=rng.uniform(0.5, 2.5))


# ----------------------------------------------------------------------------------------------------------------------
# One image
# ----------------------------------------------------------------------------------------------------------------------
def _image_streams(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent random streams for the scene and for the sensor/noise of image ``index`` of ``seed``.

    The per-image seed is ``SeedSequence(seed, spawn_key=(index,))``, i.e. child ``index`` of ``SeedSequence(seed)``.
    """
    seed, index = check_int("seed", seed, 0), check_int("index", index, 0)
    scene_seq, noise_seq = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(2)
    return np.random.default_rng(scene_seq), np.random.default_rng(noise_seq)


def random_scene(seed: int, index: int) -> Scene:
    """The room of image ``index`` for ``seed`` (independent of the output size)."""
    return sample_scene(_image_streams(seed, index)[0])


def render_scene(seed: int, index: int, height: int = 240, width: int = 320
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render image ``index`` of ``seed``.

    Returns RGB uint8 (H, W, 3), filled z-depth float32 (H, W) in metres, and the raw depth float32 (H, W) equal to
    the filled depth except at Kinect-like holes, which are 0.
    """
    check_int("height", height, MIN_IMAGE_SIDE)
    check_int("width", width, MIN_IMAGE_SIDE)
    scene_rng, noise_rng = _image_streams(seed, index)
    out = render(sample_scene(scene_rng), height, width, noise_rng)
    return out.rgb, out.depth, out.raw
