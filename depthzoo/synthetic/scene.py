"""What a synthetic room is made of: camera, room, materials, light, sensor and primitives (boxes, spheres, cylinders).

A scene is a box-shaped room (floor, ceiling, side walls, a far wall with an optional doorway into a corridor, and a
back wall behind the camera) with boxes, spheres and cylinders standing on the floor, procedural world-scale textures
and Lambertian shading from an ambient term plus a point light near the ceiling; objects cast shadows on the floor.
The camera is a pinhole with NYU Depth v2's intrinsics scaled to the output size, so the monocular cues
(floor/ceiling perspective, texture gradients, object size, contact points and shadows) match NYU's geometry.

World frame: x to the right, y up, z forward; the floor is y = 0 and the camera looks roughly along +z.
Camera frame (OpenCV): x right, y down, z along the optical axis. A ray through pixel (u, v) has camera-frame
direction ((u - cx) / fx, (v - cy) / fy, 1), so its hit parameter t is the z-depth directly (not the ray length).

Each primitive intersects rays and describes its surface; :mod:`depthzoo.synthetic.render` casts the rays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
from typing_extensions import override

PATTERNS = ("plain", "checker", "stripes", "noise", "planks")
_NOISE_LATTICE = 32  # value-noise lattice size (cells, a power of two), tiled periodically
Origin = tuple[float, float, float] | np.ndarray  # ray origin(s): three floats, or (3, n) arrays of origins
_ENTRY_EPS = 1e-4  # smallest ray parameter that counts as a hit (keeps shadow rays off their own surface)

# Surface ids of the room. Object faces get ids from FIRST_OBJECT_ID upwards.
FLOOR, CEILING, LEFT_WALL, RIGHT_WALL, FAR_WALL, BACK_WALL = range(6)
CORRIDOR_FLOOR, CORRIDOR_CEILING, CORRIDOR_LEFT, CORRIDOR_RIGHT, CORRIDOR_END = range(6, 11)
FIRST_OBJECT_ID = 11


# ----------------------------------------------------------------------------------------------------------------------
# Scene description
# ----------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Camera:
    """Camera pose: position on the floor plan, height above the floor and small orientation angles (degrees).

    Positive ``pitch_deg`` tilts the view down, positive ``yaw_deg`` turns it to the right and ``roll_deg`` turns
    the camera about its optical axis.
    """

    height_m: float
    x_m: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    yaw_deg: float = 0.0

    @property
    def position(self) -> np.ndarray:
        """The camera centre in world coordinates (x, y, z)."""
        return np.array([self.x_m, self.height_m, 0.0])

    def rotation(self) -> np.ndarray:
        """3x3 matrix taking camera-frame (x right, y down, z forward) vectors to the world frame (y up)."""
        p, r, y = (math.radians(a) for a in (self.pitch_deg, self.roll_deg, self.yaw_deg))
        flip = np.diag([1.0, -1.0, 1.0])
        yaw = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
        pitch = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
        roll = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
        return yaw @ pitch @ roll @ flip


@dataclass(frozen=True, eq=False)
class Material:
    """A procedural texture in world units.

    Two colours (linear RGB in [0, 1]) mixed by a pattern whose period (tile,
    stripe pair, board width, noise cell) is ``scale_m``. "plain" is ``colour_a`` only; ``lattice`` holds the
    value-noise cells used by "noise" and "planks".
    """

    pattern: str
    colour_a: tuple[float, float, float]
    colour_b: tuple[float, float, float]
    scale_m: float
    lattice: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise ValueError(f"unknown texture pattern {self.pattern!r}; choose one of {PATTERNS}")
        if not self.scale_m > 0:
            raise ValueError(f"texture scale_m must be positive, got {self.scale_m}")
        shape = (_NOISE_LATTICE, _NOISE_LATTICE)
        if self.lattice.shape != shape or self.lattice.dtype != np.float32:
            raise ValueError(f"lattice must be a float32 array of shape {shape} (see noise_lattice), "
                             f"got {self.lattice.dtype} {self.lattice.shape}")

    def albedo(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Linear RGB albedo (3, n) float32 at surface coordinates ``u``, ``v`` (metres)."""
        su = (u / self.scale_m).astype(np.float32)
        sv = (v / self.scale_m).astype(np.float32)
        if self.pattern == "checker":
            mix = ((np.floor(su) + np.floor(sv)) % 2).astype(np.float32)
        elif self.pattern == "stripes":
            mix = (np.floor(su * 2.0) % 2).astype(np.float32)
        elif self.pattern == "noise":
            mix = 0.65 * _value_noise(self.lattice, su, sv) + 0.35 * _value_noise(self.lattice, 3.1 * su, 3.1 * sv)
        elif self.pattern == "planks":
            # Boards of width scale_m along v, each with its own tone, plus fine grain along the board.
            board = np.floor(sv)
            tone = self.lattice[board.astype(np.intp) & (_NOISE_LATTICE - 1), 0]
            grain = _value_noise(self.lattice, su * 0.7, sv * 9.0 + 17.0)
            mix = 0.6 * tone + 0.4 * grain
        else:  # plain
            return np.broadcast_to(np.asarray(self.colour_a, dtype=np.float32)[:, None], (3, su.size))
        a = np.asarray(self.colour_a, dtype=np.float32)[:, None]
        b = np.asarray(self.colour_b, dtype=np.float32)[:, None]
        return a + (b - a) * mix.astype(np.float32)


def noise_lattice(rng: np.random.Generator) -> np.ndarray:
    """Random value-noise cells for a :class:`Material`."""
    return rng.random((_NOISE_LATTICE, _NOISE_LATTICE), dtype=np.float32)


def _value_noise(lattice: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Smooth periodic value noise in [0, 1]: bilinear interpolation of lattice cells with a smoothstep fade."""
    x = x.astype(np.float32)
    y = y.astype(np.float32)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    fx = fx * fx * (3.0 - 2.0 * fx)
    fy = fy * fy * (3.0 - 2.0 * fy)
    mask = _NOISE_LATTICE - 1
    i0 = x0.astype(np.intp) & mask
    j0 = y0.astype(np.intp) & mask
    row0, row1 = i0 * _NOISE_LATTICE, ((i0 + 1) & mask) * _NOISE_LATTICE
    j1 = (j0 + 1) & mask
    cells = lattice.ravel()
    c00, c10, c01, c11 = cells[row0 + j0], cells[row1 + j0], cells[row0 + j1], cells[row1 + j1]
    top = c00 + (c10 - c00) * fx
    bottom = c01 + (c11 - c01) * fx
    return top + (bottom - top) * fy


@dataclass(frozen=True)
class Doorway:
    """An opening in the far wall between ``x0_m`` and ``x1_m`` up to ``height_m``.

    It leads into a corridor of the same cross-section that is ``depth_m`` long and closed at its end.
    """

    x0_m: float
    x1_m: float
    height_m: float
    depth_m: float

    def __post_init__(self) -> None:
        if not (self.x0_m < self.x1_m and self.height_m > 0 and self.depth_m > 0):
            raise ValueError(f"a doorway needs x0_m < x1_m and positive height_m and depth_m, got {self}")


@dataclass(frozen=True)
class Room:
    """An axis-aligned room around the camera, which stands at z = 0.

    Walls at x = -left_m and x = right_m, the far wall at z = far_m, the back wall at z = -back_m (behind the camera)
    and the ceiling at y = ceiling_m.
    """

    left_m: float
    right_m: float
    far_m: float
    back_m: float
    ceiling_m: float
    door: Doorway | None = None

    def __post_init__(self) -> None:
        sizes = dict(left_m=self.left_m, right_m=self.right_m, far_m=self.far_m, back_m=self.back_m,
                     ceiling_m=self.ceiling_m)
        bad = {name: value for name, value in sizes.items() if not value > 0}
        if bad:
            raise ValueError(f"the camera (x = 0, z = 0) must be inside the room: {bad} must be positive")
        if self.door is not None and not (-self.left_m <= self.door.x0_m and self.door.x1_m <= self.right_m
                                          and self.door.height_m <= self.ceiling_m):
            raise ValueError(f"the doorway {self.door} does not fit in the far wall of {self}")


@dataclass(frozen=True)
class Light:
    """A point light plus an ambient term; radiance = albedo * (ambient + gain * cos / (1 + (dist / 3 m)^2))."""

    position: tuple[float, float, float]
    ambient: float
    gain: float
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class SensorModel:
    """How the raw (Kinect-like) depth loses pixels. Pixel sizes are for a 320-pixel-wide image and scale with width.

    - beyond ``max_range_m`` (z-depth)
    - at grazing angles: |cos(angle between surface normal and ray)| < ``grazing_cos``
    - on the background side of depth discontinuities (relative jump > ``edge_jump``), dilated by ``edge_px``, plus
      the projector shadow left of near objects, ``baseline_m * fx * (1/z_near - 1/z_far)`` pixels wide
    - random speckles: a fraction ``speckle_fraction`` of single pixels and ``blobs`` small discs
    """

    max_range_m: float = 9.0
    grazing_cos: float = 0.1
    edge_jump: float = 0.05
    edge_px: float = 1.0
    baseline_m: float = 0.075
    speckle_fraction: float = 0.001
    blobs: int = 2


class Primitive(Protocol):
    """An object on the floor: intersectable by a bundle of rays and able to describe its surface at hit points."""

    material: Material
    faces: int

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """World-space axis-aligned bounding box (min corner, max corner)."""

    def intersect(self, o: Origin, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hit parameter t (inf where missed) and local face index for rays o + t d (components broadcast)."""

    def surface(self, face: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World normals (3, n) and texture coordinates u, v (metres) of face ``face`` at points p (3, n)."""


@dataclass(frozen=True)
class Box:
    """A box standing on the floor, centred at (x_m, z_m) on the floor plan, turned by ``yaw_deg`` about the up axis."""

    x_m: float
    z_m: float
    width_m: float
    depth_m: float
    height_m: float
    yaw_deg: float
    material: Material
    faces: ClassVar[int] = 6

    def _frame(self) -> tuple[float, float, tuple[float, float, float]]:
        a = math.radians(self.yaw_deg)
        half = (self.width_m / 2, self.height_m / 2, self.depth_m / 2)
        return math.cos(a), math.sin(a), half

    def _to_local(self, x, y, z, translate: bool):
        c, s, _ = self._frame()
        if translate:
            x, y, z = x - self.x_m, y - self.height_m / 2, z - self.z_m
        return c * x - s * z, y, s * x + c * z

    @override
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c, s, half = self._frame()
        ex = abs(c) * half[0] + abs(s) * half[2]
        ez = abs(s) * half[0] + abs(c) * half[2]
        return (np.array([self.x_m - ex, 0.0, self.z_m - ez]), np.array([self.x_m + ex, self.height_m, self.z_m + ez]))

    @override
    def intersect(self, o: Origin, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, _, half = self._frame()
        ol = self._to_local(o[0], o[1], o[2], translate=True)
        dl = self._to_local(d[0], d[1], d[2], translate=False)
        near = far = None
        axis = None
        for k in range(3):
            with np.errstate(divide="ignore", invalid="ignore"):
                inv = 1.0 / dl[k]
                t1 = (-half[k] - ol[k]) * inv
                t2 = (half[k] - ol[k]) * inv
            lo, hi = np.fmin(t1, t2), np.fmax(t1, t2)
            if near is None:
                near, far, axis = lo, hi, np.zeros(np.shape(lo), dtype=np.int8)
            else:
                axis = np.where(lo > near, np.int8(k), axis)
                near, far = np.fmax(near, lo), np.fmin(far, hi)
        hit = (near <= far) & (near > _ENTRY_EPS)
        # Face 2k: +axis k (ray travelling in -k), face 2k+1: -axis k.
        d_axis = np.choose(axis, [np.broadcast_to(c, np.shape(near)) for c in dl])
        face = 2 * axis + (d_axis > 0)
        return np.where(hit, near, np.inf), face

    @override
    def surface(self, face: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c, s, half = self._frame()
        lx, ly, lz = self._to_local(p[0], p[1], p[2], translate=True)
        axis, sign = face // 2, (1.0 if face % 2 == 0 else -1.0)
        local_normal = np.zeros(3)
        local_normal[axis] = sign
        # Back to world: inverse of (c*x - s*z, y, s*x + c*z).
        nx = c * local_normal[0] + s * local_normal[2]
        nz = -s * local_normal[0] + c * local_normal[2]
        normal = np.array([[nx], [local_normal[1]], [nz]])
        uv = [(lx, ly, lz)[k] + half[k] for k in range(3) if k != axis]
        return normal, uv[0], uv[1]


def _near_root(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Smaller root of a t^2 + 2 b t + c = 0 (NaN where there is none)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (-b - np.sqrt(b * b - a * c)) / a


@dataclass(frozen=True)
class _UprightBody:
    """A body of revolution about a vertical axis through (x_m, z_m) on the floor plan, standing on the floor."""

    x_m: float
    z_m: float
    radius_m: float

    @property
    def top_m(self) -> float:
        """Height of the body's highest point above the floor."""
        raise NotImplementedError

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lower corner, upper corner) in world coordinates."""
        x, z, r = self.x_m, self.z_m, self.radius_m
        return np.array([x - r, 0.0, z - r]), np.array([x + r, self.top_m, z + r])


@dataclass(frozen=True)
class Sphere(_UprightBody):
    """A ball resting on the floor at (x_m, z_m)."""

    material: Material
    faces: ClassVar[int] = 1

    @property
    @override
    def top_m(self) -> float:
        return 2 * self.radius_m

    @override
    def intersect(self, o: Origin, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = self.radius_m
        ox, oy, oz = o[0] - self.x_m, o[1] - r, o[2] - self.z_m
        a = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
        b = d[0] * ox + d[1] * oy + d[2] * oz
        t = _near_root(a, b, ox * ox + oy * oy + oz * oz - r * r)
        return np.where(t > _ENTRY_EPS, t, np.inf), np.zeros(np.shape(t), dtype=np.int8)

    @override
    def surface(self, face: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = self.radius_m
        n = np.stack([p[0] - self.x_m, p[1] - r, p[2] - self.z_m]) / r
        u = r * np.arctan2(n[2], n[0])
        return n, u, p[1]


@dataclass(frozen=True)
class Cylinder(_UprightBody):
    """An upright cylinder standing on the floor at (x_m, z_m). Face 0 is the side, face 1 the top."""

    height_m: float
    material: Material
    faces: ClassVar[int] = 2

    @property
    @override
    def top_m(self) -> float:
        return self.height_m

    @override
    def intersect(self, o: Origin, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, h = self.radius_m, self.height_m
        ox, oz = o[0] - self.x_m, o[2] - self.z_m
        t_side = _near_root(d[0] * d[0] + d[2] * d[2], d[0] * ox + d[2] * oz, ox * ox + oz * oz - r * r)
        with np.errstate(invalid="ignore", divide="ignore"):
            y_side = o[1] + t_side * d[1]
            side = (t_side > _ENTRY_EPS) & (y_side >= 0) & (y_side <= h)
            t_top = (h - o[1]) / d[1]
            tx, tz = ox + t_top * d[0], oz + t_top * d[2]
            top = (t_top > _ENTRY_EPS) & (tx * tx + tz * tz <= r * r) & (np.asarray(o[1]) > h)
        t_side = np.where(side, t_side, np.inf)
        t_top = np.where(top, t_top, np.inf)
        face = (t_top < t_side).astype(np.int8)
        return np.fmin(t_side, t_top), face

    @override
    def surface(self, face: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if face == 1:
            normal = np.array([[0.0], [1.0], [0.0]])
            return normal, p[0] - self.x_m, p[2] - self.z_m
        r = self.radius_m
        nx, nz = (p[0] - self.x_m) / r, (p[2] - self.z_m) / r
        normal = np.stack([nx, np.zeros_like(nx), nz])
        return normal, r * np.arctan2(nz, nx), p[1]


@dataclass(frozen=True)
class Scene:
    """Everything needed to render one image; independent of the output resolution."""

    camera: Camera
    room: Room
    floor: Material
    walls: Material
    ceiling: Material
    light: Light
    objects: tuple[Primitive, ...] = ()
    sensor: SensorModel = SensorModel()
    noise_std: float = 0.0  # sensor noise on the 8-bit image, in units of 1/255

    def __post_init__(self) -> None:
        cam, room = self.camera, self.room
        if not (0 < cam.height_m < room.ceiling_m and -room.left_m < cam.x_m < room.right_m):
            raise ValueError(f"the camera {cam} must be inside the room {room}")


@dataclass(frozen=True)
class Rendering:
    """What the renderer returns.

    RGB uint8 (H, W, 3), filled z-depth and raw depth float32 (H, W) in metres (raw is 0 at holes), and the surface
    id (int16) seen by every pixel.
    """

    rgb: np.ndarray
    depth: np.ndarray
    raw: np.ndarray
    surface_id: np.ndarray


