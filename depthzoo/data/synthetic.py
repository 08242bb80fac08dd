"""The built-in synthetic indoor dataset: random NYU-like rooms saved in the layout of NYU Depth v2's labelled .mat.

Every image is an independent random room (see :func:`random_scene`) rendered by the ray caster in
:mod:`depthzoo.data.synthetic_scene`. Image ``i`` of seed ``s`` depends only on ``(s, i)`` and the output size,
never on how many images are written, so a larger file extends a smaller one.

The file is MATLAB v7.3 (HDF5 with a 512-byte MATLAB header) with the official file's dataset names and axis order
(h5py sees MATLAB's H x W x C x N reversed): ``images`` (N, 3, W, H) uint8 RGB, ``depths`` (N, W, H) float32 filled
z-depth in metres, ``rawDepths`` (N, W, H) float32 with Kinect-like holes (0), and the split as ``trainNdxs`` and
``testNdxs``: 1-based indices saved as MATLAB saves a K x 1 double column vector (h5py shape (1, K), float64).
The split is the tail: the last ``round(N * test_fraction)`` images (at least 1, at most N - 1) are the test set and
the rest train. Since all images are drawn independently, a tail split is as random as any other.

Depths are stored rounded to 14 mantissa bits (relative error at most 2**-15, i.e. 0.25 mm at 8 m; see
:func:`round_mantissa`), which makes them compress much better; :func:`render_scene` returns them unrounded.
The camera is NYU's (fx 518.8579 px at 640x480) scaled to the output size; the intrinsics used are stored as JSON in
the root attribute ``depthzoo_synthetic`` together with the generator arguments.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import h5py
import numpy as np

from depthzoo.data.synthetic_scene import (
    NYU_CX,
    NYU_FX,
    Box,
    Camera,
    Cylinder,
    Doorway,
    Intrinsics,
    Light,
    Material,
    Primitive,
    Room,
    Scene,
    SensorModel,
    Sphere,
    noise_lattice,
    render,
)

MAT_USERBLOCK_BYTES = 512
GENERATOR_VERSION = 1
MIN_IMAGE_SIDE = 8
STORED_MANTISSA_BITS = 14  # depth precision in the file: relative error <= 2**-15 (0.25 mm at 8 m)


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
    """2-7 boxes, balls and cylinders on the floor inside the field of view, at least 0.8 m in front of the camera,
    apart from each other and from the walls; some stand against the far wall like furniture."""
    top_limit = min(2.0, room.ceiling_m - 0.5)  # keeps every object below the light
    placed: list[tuple[float, float, float]] = []  # (x, z, footprint radius)
    objects: list[Primitive] = []
    half_fov = math.atan(NYU_CX / NYU_FX) * 0.9
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
    """A random NYU-like room: far wall 2.5-8 m away, width 3-7 m, ceiling 2.6-3.0 m, camera 1.3-1.5 m high with
    pitch -5..12 deg (down), roll +-3 deg and yaw +-20 deg, a doorway into a corridor in 40 % of rooms (its end often
    beyond the sensor range), 2-7 objects, a light near the ceiling and a randomised depth sensor."""
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
def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _image_streams(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent random streams for the scene and for the sensor/noise of image ``index`` of ``seed``.

    The per-image seed is ``SeedSequence(seed, spawn_key=(index,))``, i.e. child ``index`` of ``SeedSequence(seed)``.
    """
    seed, index = _check_int("seed", seed, 0), _check_int("index", index, 0)
    scene_seq, noise_seq = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(2)
    return np.random.default_rng(scene_seq), np.random.default_rng(noise_seq)


def random_scene(seed: int, index: int) -> Scene:
    """The room of image ``index`` for ``seed`` (independent of the output size)."""
    return sample_scene(_image_streams(seed, index)[0])


def render_scene(seed: int, index: int, height: int = 240, width: int = 320
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render image ``index`` of ``seed``: RGB uint8 (H, W, 3), filled z-depth float32 (H, W) in metres, and the
    raw depth float32 (H, W) equal to the filled depth except at Kinect-like holes, which are 0."""
    _check_int("height", height, MIN_IMAGE_SIDE)
    _check_int("width", width, MIN_IMAGE_SIDE)
    scene_rng, noise_rng = _image_streams(seed, index)
    out = render(sample_scene(scene_rng), height, width, noise_rng)
    return out.rgb, out.depth, out.raw


# ----------------------------------------------------------------------------------------------------------------------
# The .mat file
# ----------------------------------------------------------------------------------------------------------------------
def split_indices(num: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """1-based (train, test) indices: the last ``round(num * test_fraction)`` images (at least 1, at most num - 1)
    are the test set."""
    _check_int("num", num, 2)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.floating)):
        raise TypeError(f"test_fraction must be a number, got {test_fraction!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    n_test = min(max(1, round(num * test_fraction)), num - 1)
    everything = np.arange(1, num + 1)
    return everything[: num - n_test], everything[num - n_test:]


def mat_header(created: _dt.datetime) -> bytes:
    """The 512-byte MATLAB 7.3 userblock: 116 bytes of text, 8 bytes of subsystem offset (none), version 0x0200
    and the endian indicator "IM", zero padded."""
    text = (f"MATLAB 7.3 MAT-file, Platform: depthzoo, Created on: {created:%a %b %d %H:%M:%S %Y} "
            "HDF5 schema 1.00 .").encode("ascii")
    header = text.ljust(116, b" ") + bytes(8) + b"\x00\x02IM"
    return header.ljust(MAT_USERBLOCK_BYTES, b"\x00")


def _creation_time() -> _dt.datetime:
    """Now, or SOURCE_DATE_EPOCH (UTC) when set, so builds can be byte-for-byte reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc)
    return _dt.datetime.now()


def _set_matlab_class(obj: h5py.HLObject, name: str) -> None:
    """Attach MATLAB's type tag: a scalar fixed-length ASCII string (h5py reads it back as bytes, e.g. b"single")."""
    obj.attrs["MATLAB_class"] = np.bytes_(name)


def round_mantissa(values: np.ndarray, bits: int = STORED_MANTISSA_BITS) -> np.ndarray:
    """float32 ``values`` rounded half away from zero to ``bits`` explicit mantissa bits (float32 has 23).

    The file stores depths this way: the relative error is at most 2**-(bits + 1), far below any depth sensor's
    precision, and the zeroed low mantissa bits let deflate shrink the depth maps about 2.5x and run 2x faster.
    Zeros (holes) stay zero.
    """
    if not 1 <= bits <= 23:
        raise ValueError(f"bits must be between 1 and 23, got {bits}")
    drop = 23 - bits
    as_int = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = (as_int + np.uint32(1 << (drop - 1) if drop else 0)) & np.uint32((0xFFFFFFFF << drop) & 0xFFFFFFFF)
    return rounded.view(np.float32)


def _create_images_datasets(f: h5py.File, num: int, height: int, width: int) -> tuple[h5py.Dataset, ...]:
    """Empty ``images``, ``depths`` and ``rawDepths``, one image per deflate-compressed chunk."""
    options = dict(compression="gzip", compression_opts=1, shuffle=True, track_times=False)
    images = f.create_dataset("images", shape=(num, 3, width, height), dtype=np.uint8,
                              chunks=(1, 3, width, height), **options)
    _set_matlab_class(images, "uint8")
    depth_sets = []
    for name in ("depths", "rawDepths"):
        dset = f.create_dataset(name, shape=(num, width, height), dtype=np.float32, chunks=(1, width, height),
                                **options)
        _set_matlab_class(dset, "single")
        depth_sets.append(dset)
    return (images, *depth_sets)


def _write_index_vector(f: h5py.File, name: str, indices: np.ndarray) -> None:
    """A K x 1 MATLAB double column vector (h5py shape (1, K))."""
    dset = f.create_dataset(name, data=indices.astype(np.float64)[None, :], track_times=False)
    _set_matlab_class(dset, "double")


def _progress(items: Iterable[int], total: int, enabled: bool) -> Iterator[int]:
    """``items``, with a tqdm bar (or a plain counter line) on stderr when ``enabled``."""
    if not enabled:
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(items, total=total, desc="rendering", unit="img", file=sys.stderr)
        return
    step = max(1, total // 100)
    for done, item in enumerate(items, start=1):
        yield item
        if done % step == 0 or done == total:
            print(f"\rrendering {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def _fsync_directory(folder: Path) -> None:
    """Make a rename durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_synthetic_nyu(path: str | os.PathLike[str], num: int = 600, seed: int = 0, height: int = 240,
                        width: int = 320, test_fraction: float = 0.1, *, overwrite: bool = False,
                        progress: bool = False) -> Path:
    """Render ``num`` random rooms and save them as an NYU-v2-style MATLAB v7.3 file at ``path``; returns the path.

    The file appears atomically: it is written to a hidden temporary file in the same folder, flushed to disk and
    renamed onto ``path``, so an interrupted run leaves no partial file (the temporary file is removed). Missing
    parent folders are created. An existing file is replaced only with ``overwrite=True``.
    """
    for name, value in (("height", height), ("width", width)):
        _check_int(name, value, MIN_IMAGE_SIDE)
    _check_int("seed", seed, 0)
    train, test = split_indices(num, test_fraction)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; pass a file path such as {path / 'synthetic_nyu.mat'}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; delete it or pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    k = Intrinsics.nyu_like(height, width)
    meta = dict(generator="depthzoo.data.synthetic", version=GENERATOR_VERSION, num=num, seed=seed, height=height,
                width=width, test_fraction=test_fraction, fx=k.fx, fy=k.fy, cx=k.cx, cy=k.cy)
    try:
        with h5py.File(tmp, "w-", userblock_size=MAT_USERBLOCK_BYTES) as f:
            f.attrs["depthzoo_synthetic"] = json.dumps(meta, sort_keys=True)
            images, depths, raw_depths = _create_images_datasets(f, num, height, width)
            for i in _progress(range(num), num, progress):
                rgb, depth, raw = render_scene(seed, i, height, width)
                images[i] = rgb.transpose(2, 1, 0)
                depths[i] = round_mantissa(depth).T
                raw_depths[i] = round_mantissa(raw).T
            _write_index_vector(f, "trainNdxs", train)
            _write_index_vector(f, "testNdxs", test)
        with open(tmp, "r+b") as fh:
            fh.write(mat_header(_creation_time()))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return path


# ----------------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------------
def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="depthzoo data synth",
        description="Render a synthetic indoor depth dataset of random NYU-like rooms into a MATLAB v7.3 file "
                    "with the layout of NYU Depth v2's labelled .mat (images, depths, rawDepths, trainNdxs, "
                    "testNdxs). The last test-fraction of the images is the test split.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output .mat file")
    parser.add_argument("--num", type=int, default=600, help="number of images (default: 600)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; image i depends only on (seed, i)")
    parser.add_argument("--height", type=int, default=240, help="image height in pixels (default: 240)")
    parser.add_argument("--width", type=int, default=320, help="image width in pixels (default: 320)")
    parser.add_argument("--test-fraction", type=float, default=0.1,
                        help="fraction of images, taken from the end, in the test split (default: 0.1)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def synth_command(argv: list[str] | None = None) -> int:
    """``depthzoo data synth``: write the synthetic dataset; prints the file path. Returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        path = write_synthetic_nyu(args.out, num=args.num, seed=args.seed, height=args.height, width=args.width,
                                   test_fraction=args.test_fraction, overwrite=args.overwrite,
                                   progress=not args.quiet)
    except FileExistsError:
        parser.error(f"{args.out} already exists; pass --overwrite to replace it")
    except (ValueError, TypeError, IsADirectoryError) as err:
        parser.error(str(err))
    train, test = split_indices(args.num, args.test_fraction)
    size_mb = path.stat().st_size / 1e6
    print(f"wrote {path} ({args.num} images of {args.height}x{args.width}: {train.size} train, {test.size} test; "
          f"{size_mb:.1f} MB in {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    print(path)
    return 0
