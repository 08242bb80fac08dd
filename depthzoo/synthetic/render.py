"""A vectorised numpy ray caster for the synthetic rooms of :mod:`depthzoo.synthetic.scene`.

The camera is a pinhole with NYU Depth v2's intrinsics scaled to the output size. A ray through pixel (u, v) has
camera-frame direction ((u - cx) / fx, (v - cy) / fy, 1), so its hit parameter t is the z-depth directly. Every
primitive is intersected with all rays of its screen-space bounding window at once; there are no per-pixel Python
loops. Shading is Lambertian (ambient + a point light near the ceiling) with floor shadows; the raw depth gets
Kinect-like holes.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from depthzoo.geometry import NYU_INTRINSICS, Intrinsics
from depthzoo.synthetic.scene import (
    BACK_WALL,
    CEILING,
    CORRIDOR_CEILING,
    CORRIDOR_END,
    CORRIDOR_FLOOR,
    CORRIDOR_LEFT,
    CORRIDOR_RIGHT,
    FAR_WALL,
    FIRST_OBJECT_ID,
    FLOOR,
    LEFT_WALL,
    RIGHT_WALL,
    Material,
    Primitive,
    Rendering,
    Room,
    Scene,
    SensorModel,
)


@functools.lru_cache(maxsize=8)
def camera_rays(height: int, width: int) -> np.ndarray:
    """Camera-frame ray directions (3, H, W) with unit z, through each pixel index, for the NYU-like intrinsics."""
    k = NYU_INTRINSICS.scaled(height, width)
    x = (np.arange(width, dtype=np.float64) - k.cx) / k.fx
    y = (np.arange(height, dtype=np.float64) - k.cy) / k.fy
    rays = np.empty((3, height, width))
    rays[0] = x[None, :]
    rays[1] = y[:, None]
    rays[2] = 1.0
    rays.setflags(write=False)
    return rays


@functools.lru_cache(maxsize=8)
def _inverse_ray_lengths(height: int, width: int) -> np.ndarray:
    """1 / |ray| (H*W,) float32 for the unit-z camera rays (rotation does not change lengths)."""
    rays = camera_rays(height, width).reshape(3, -1)
    inv = (1.0 / np.sqrt((rays * rays).sum(0))).astype(np.float32)
    inv.setflags(write=False)
    return inv


def _slab_exit(o: tuple[float, ...], d: np.ndarray, lo: tuple[float, ...], hi: tuple[float, ...]
               ) -> list[np.ndarray]:
    """Per-axis parameters at which rays starting inside the box [lo, hi] leave each slab."""
    exits = []
    for k in range(3):
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / d[k]
            exits.append(np.fmax((lo[k] - o[k]) * inv, (hi[k] - o[k]) * inv))
    return exits


def _nearest_face(exits: list[np.ndarray], d: np.ndarray, faces: tuple[int, int, int, int, int, int]):
    """Nearest exit parameter and its face id; ``faces`` = (-x, +x, -y, +y, -z, +z) ids of the walls hit."""
    tx, ty, tz = exits
    t = np.minimum(np.minimum(tx, ty), tz)
    face = np.where(
        (tx <= ty) & (tx <= tz),
        np.where(d[0] < 0, faces[0], faces[1]),
        np.where(ty <= tz, np.where(d[1] < 0, faces[2], faces[3]), np.where(d[2] < 0, faces[4], faces[5])),
    ).astype(np.int16)
    return t, face


def _cast_room(room: Room, o: tuple[float, ...], d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z-depth and surface id of the room (and corridor) for all rays; every ray hits something."""
    lo = (-room.left_m, 0.0, -room.back_m)
    hi = (room.right_m, room.ceiling_m, room.far_m)
    t, face = _nearest_face(_slab_exit(o, d, lo, hi), d,
                            (LEFT_WALL, RIGHT_WALL, FLOOR, CEILING, BACK_WALL, FAR_WALL))
    door = room.door
    if door is not None:
        on_far = face == FAR_WALL
        x = o[0] + t * d[0]
        y = o[1] + t * d[1]
        through = on_far & (x > door.x0_m) & (x < door.x1_m) & (y < door.height_m)
        if through.any():
            dd = d[:, through]
            c_lo = (door.x0_m, 0.0, room.far_m)
            c_hi = (door.x1_m, door.height_m, room.far_m + door.depth_m)
            tc, fc = _nearest_face(_slab_exit(o, dd, c_lo, c_hi), dd,
                                   (CORRIDOR_LEFT, CORRIDOR_RIGHT, CORRIDOR_FLOOR, CORRIDOR_CEILING, -1, CORRIDOR_END))
            t[through] = tc
            face[through] = fc
    return t, face


def _screen_window(lo: np.ndarray, hi: np.ndarray, o: np.ndarray, rot: np.ndarray, k: Intrinsics,
                   height: int, width: int) -> tuple[int, int, int, int] | None:
    """Pixel rectangle (v0, v1, u0, u1) containing the projection of a world box, None if it is off screen.

    The projection of a convex body in front of the camera lies in the convex hull of its bounding box's
    projected corners; a box reaching behind the near plane falls back to the whole image.
    """
    corners = np.array(np.meshgrid(*zip(lo, hi), indexing="ij")).reshape(3, -1)
    cam = rot.T @ (corners - o[:, None])
    if (cam[2] < 1e-3).all():
        return None
    if (cam[2] < 1e-3).any():
        return 0, height, 0, width
    u = k.fx * cam[0] / cam[2] + k.cx
    v = k.fy * cam[1] / cam[2] + k.cy
    u0, u1 = max(0, math.floor(u.min())), min(width, math.ceil(u.max()) + 1)
    v0, v1 = max(0, math.floor(v.min())), min(height, math.ceil(v.max()) + 1)
    if u0 >= u1 or v0 >= v1:
        return None
    return v0, v1, u0, u1


def _room_surface(sid: int, p: np.ndarray):
    """Normal (3, 1) and texture coordinates u, v (metres) of a room/corridor surface at points p (3, n)."""
    x, y, z = p
    table = {
        FLOOR: ((0, 1, 0), x, z), CORRIDOR_FLOOR: ((0, 1, 0), x, z),
        CEILING: ((0, -1, 0), x, z), CORRIDOR_CEILING: ((0, -1, 0), x, z),
        LEFT_WALL: ((1, 0, 0), z, y), CORRIDOR_LEFT: ((1, 0, 0), z, y),
        RIGHT_WALL: ((-1, 0, 0), z, y), CORRIDOR_RIGHT: ((-1, 0, 0), z, y),
        FAR_WALL: ((0, 0, -1), x, y), CORRIDOR_END: ((0, 0, -1), x, y),
        BACK_WALL: ((0, 0, 1), x, y),
    }
    normal, u, v = table[sid]
    return np.array(normal, dtype=np.float64)[:, None], u, v


def _room_material(scene: Scene, sid: int) -> Material:
    if sid in (FLOOR, CORRIDOR_FLOOR):
        return scene.floor
    if sid in (CEILING, CORRIDOR_CEILING):
        return scene.ceiling
    return scene.walls


def _floor_shadow(scene: Scene, p: np.ndarray) -> np.ndarray:
    """Boolean (n,) mask of floor points p (3, n) from which some object hides the light."""
    light = np.asarray(scene.light.position, dtype=np.float32)
    shadow = np.zeros(p.shape[1], dtype=bool)
    for obj in scene.objects:
        lo, hi = obj.bounds()
        corners = np.array(np.meshgrid(*zip(lo, hi), indexing="ij")).reshape(3, -1)
        if (corners[1] < light[1]).all():
            # The shadow on y = 0 lies within the hull of the corners projected from the light.
            s = light[1] / (light[1] - corners[1])
            fx = light[0] + (corners[0] - light[0]) * s
            fz = light[2] + (corners[2] - light[2]) * s
            x0, x1, z0, z1 = (float(f) for f in (fx.min(), fx.max(), fz.min(), fz.max()))
            near = (p[0] >= x0) & (p[0] <= x1) & (p[2] >= z0) & (p[2] <= z1)
        else:
            near = np.ones(p.shape[1], dtype=bool)
        idx = np.flatnonzero(near & ~shadow)
        if idx.size == 0:
            continue
        q = p[:, idx]
        t, _ = obj.intersect(q, light[:, None] - q)
        shadow[idx[t < 1.0]] = True
    return shadow


def _shift_or(mask: np.ndarray, dv: int, du: int) -> np.ndarray:
    """``mask`` shifted by (dv, du) pixels (zeros shifted in)."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dv, 0):h + min(dv, 0), max(du, 0):w + min(du, 0)] = \
        mask[max(-dv, 0):h + min(-dv, 0), max(-du, 0):w + min(-du, 0)]
    return out


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation with a (2r+1)^2 square, separably."""
    out = mask.copy()
    for k in range(1, radius + 1):
        out |= _shift_or(mask, 0, k) | _shift_or(mask, 0, -k)
    rows = out.copy()
    for k in range(1, radius + 1):
        out |= _shift_or(rows, k, 0) | _shift_or(rows, -k, 0)
    return out


def _raw_holes(depth: np.ndarray, sid: np.ndarray, cos_incidence: np.ndarray, sensor: SensorModel, fx: float,
               rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of pixels a Kinect-like sensor would miss (see :class:`SensorModel`)."""
    height, width = depth.shape
    scale = width / 320.0
    holes = (depth > sensor.max_range_m) | (cos_incidence < sensor.grazing_cos)

    # Depth discontinuities between different surfaces: mark the far (background) side.
    edges = np.zeros_like(holes)
    shadow_px = np.zeros(depth.shape, dtype=np.int32)
    for axis in (0, 1):
        a = depth[:-1, :] if axis == 0 else depth[:, :-1]
        b = depth[1:, :] if axis == 0 else depth[:, 1:]
        changed = (sid[:-1, :] != sid[1:, :]) if axis == 0 else (sid[:, :-1] != sid[:, 1:])
        jump = changed & (np.abs(a - b) > sensor.edge_jump * np.minimum(a, b))
        first_far = jump & (a > b)
        second_far = jump & (b > a)
        if axis == 0:
            edges[:-1, :] |= first_far
            edges[1:, :] |= second_far
        else:
            edges[:, :-1] |= first_far
            edges[:, 1:] |= second_far
            # Projector shadow: background pixels left of a nearer surface.
            width_px = sensor.baseline_m * fx * (1.0 / b - 1.0 / a)
            shadow_px[:, :-1] = np.where(first_far, np.rint(width_px).astype(np.int32), 0)
    radius = int(round(sensor.edge_px * scale))
    holes |= _dilate(edges, radius) if radius > 0 else edges
    for k in range(1, min(int(shadow_px.max(initial=0)), width)):
        holes[:, :-k] |= shadow_px[:, k:] > k

    # Random dropouts: single pixels and a few small discs.
    n_speckles = rng.poisson(sensor.speckle_fraction * height * width)
    holes[rng.integers(0, height, n_speckles), rng.integers(0, width, n_speckles)] = True
    for _ in range(sensor.blobs):
        r = max(1.0, rng.uniform(1.0, 4.0) * scale)
        cv, cu = rng.uniform(0, height), rng.uniform(0, width)
        v0, v1 = max(0, int(cv - r)), min(height, int(cv + r) + 1)
        u0, u1 = max(0, int(cu - r)), min(width, int(cu + r) + 1)
        vv, uu = np.ogrid[v0:v1, u0:u1]
        holes[v0:v1, u0:u1] |= (vv - cv) ** 2 + (uu - cu) ** 2 <= r * r
    return holes


def _cast(scene: Scene, rot: np.ndarray, d: np.ndarray, k: Intrinsics):
    """z-depth (float32) and surface id (int16) of every pixel, and the object owning each object surface id."""
    height, width = d.shape[1:]
    # Python floats keep the float32 ray arithmetic in float32.
    o = tuple(float(c) for c in scene.camera.position)
    depth, sid = _cast_room(scene.room, o, d)
    next_id = FIRST_OBJECT_ID
    owner: dict[int, tuple[int, Primitive]] = {}  # surface id -> (first id of its object, object)
    for obj in scene.objects:
        owner.update({next_id + f: (next_id, obj) for f in range(obj.faces)})
        window = _screen_window(*obj.bounds(), scene.camera.position, rot, k, height, width)
        if window is not None:
            v0, v1, u0, u1 = window
            t, face = obj.intersect(o, d[:, v0:v1, u0:u1])
            closer = t < depth[v0:v1, u0:u1]
            depth[v0:v1, u0:u1][closer] = t[closer]
            sid[v0:v1, u0:u1][closer] = next_id + face[closer]
        next_id += obj.faces
    return depth, sid, owner


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of (3, n) arrays; a (3, 1) constant vector skips its zero components."""
    if a.shape[1] == 1:
        terms = [a[k, 0] * b[k] for k in range(3) if a[k, 0] != 0]
        return functools.reduce(np.add, terms) if terms else np.zeros(b.shape[1], dtype=b.dtype)
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _shade(scene: Scene, d: np.ndarray, depth: np.ndarray, sid: np.ndarray,
           owner: dict[int, tuple[int, Primitive]]) -> tuple[np.ndarray, np.ndarray]:
    """Linear radiance (3, n) float32 of every pixel and |cos| of the angle between its ray and surface normal (n,).

    Pixels are sorted by surface id once, so each surface works on a contiguous slice and computes its normals and
    texture only where it is seen. Lambertian shading from the point light; floor points in an object's shadow keep
    only the ambient term.
    """
    height, width = depth.shape
    flat_sid = sid.ravel()
    order = np.argsort(flat_sid, kind="stable")
    ids, starts, counts = np.unique(flat_sid.take(order), return_index=True, return_counts=True)
    rays = np.take(d.reshape(3, -1), order, axis=1)
    points = scene.camera.position.astype(np.float32)[:, None] + depth.ravel().take(order) * rays
    inv_len = _inverse_ray_lengths(height, width).take(order)
    light = np.asarray(scene.light.position, dtype=np.float32)[:, None]
    albedo = np.empty((3, flat_sid.size), dtype=np.float32)
    shade = np.empty(flat_sid.size, dtype=np.float32)
    cos_incidence = np.empty(flat_sid.size, dtype=np.float32)
    for s, start, count in zip(ids.tolist(), starts.tolist(), counts.tolist()):
        part = slice(start, start + count)
        p, ray = points[:, part], rays[:, part]
        if s < FIRST_OBJECT_ID:
            n, u, v = _room_surface(s, p)
            material = _room_material(scene, s)
        else:
            base, obj = owner[s]
            n, u, v = obj.surface(s - base, p)
            material = obj.material
        n = n.astype(np.float32)
        albedo[:, part] = material.albedo(u, v)
        to_light = light - p
        dist2 = _dot(to_light, to_light)
        cos_light = np.maximum(_dot(n, to_light), 0.0) / np.sqrt(dist2)
        if s in (FLOOR, CORRIDOR_FLOOR) and scene.objects:
            cos_light[_floor_shadow(scene, p)] = 0.0
        shade[part] = scene.light.ambient + scene.light.gain * cos_light / (1.0 + dist2 / 9.0)
        cos_incidence[part] = np.abs(_dot(n, ray)) * inv_len[part]
    tint = np.asarray(scene.light.tint, dtype=np.float32)[:, None]
    radiance = albedo * shade * tint
    unsort = np.empty_like(order)
    unsort[order] = np.arange(order.size)
    return np.take(radiance, unsort, axis=1), cos_incidence.take(unsort)


def _to_srgb8(radiance: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """Gamma-encode linear radiance (3, n) to 8 bits (n, 3), with uniform noise of deviation ``noise_std``/255."""
    srgb = np.sqrt(np.clip(radiance, 0.0, 1.0)) * np.float32(255.0)  # gamma 2.0
    if noise_std > 0:
        noise = rng.random(srgb.shape, dtype=np.float32) - np.float32(0.5)
        srgb += noise * np.float32(noise_std * math.sqrt(12.0))
    return np.clip(srgb + np.float32(0.5), 0, 255).astype(np.uint8).T


def render(scene: Scene, height: int, width: int, rng: np.random.Generator | None = None) -> Rendering:
    """Ray-cast ``scene`` at ``height`` x ``width``.

    ``rng`` drives the image noise and raw-depth dropouts (a fixed default is used when omitted, so rendering is
    deterministic either way).
    """
    if height < 2 or width < 2:
        raise ValueError(f"image size must be at least 2x2 pixels, got {height}x{width}")
    rng = rng if rng is not None else np.random.default_rng(0)
    k = NYU_INTRINSICS.scaled(height, width)
    rot = scene.camera.rotation()
    d = (rot @ camera_rays(height, width).reshape(3, -1)).astype(np.float32).reshape(3, height, width)
    depth, sid, owner = _cast(scene, rot, d, k)
    radiance, cos_incidence = _shade(scene, d, depth, sid, owner)
    rgb = _to_srgb8(radiance, scene.noise_std, rng).reshape(height, width, 3)
    holes = _raw_holes(depth, sid, cos_incidence.reshape(height, width), scene.sensor, k.fx, rng)
    raw = np.where(holes, np.float32(0.0), depth)
    return Rendering(rgb=rgb, depth=depth, raw=raw, surface_id=sid)
