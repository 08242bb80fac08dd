"""The synthetic dataset as a file in the layout of NYU Depth v2's labelled .mat, so the NYU reader serves it.

The file is MATLAB v7.3 (HDF5 with a 512-byte MATLAB header) with the official file's dataset names and axis order
(h5py sees MATLAB's H x W x C x N reversed): ``images`` (N, 3, W, H) uint8 RGB, ``depths`` (N, W, H) float32 filled
z-depth in metres, ``rawDepths`` (N, W, H) float32 with Kinect-like holes (0), and the split as ``trainNdxs`` and
``testNdxs``: 1-based indices saved as MATLAB saves a K x 1 double column vector (h5py shape (1, K), float64).
The split is the tail: the last ``round(N * test_fraction)`` images (at least 1, at most N - 1) are the test set and
the rest train. Since all images are drawn independently, a tail split is as random as any other.

Depths are stored rounded to 14 mantissa bits (relative error at most 2**-15, i.e. 0.25 mm at 8 m; see
:func:`round_mantissa`), which makes them compress much better; :func:`~depthzoo.synthetic.rooms.render_scene`
returns them unrounded. The intrinsics used are stored as JSON in the root attribute ``depthzoo_synthetic`` together
with the generator arguments.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import h5py
import numpy as np

from depthzoo.errors import ArgumentTypeError, InvalidArgumentError
from depthzoo.geometry import NYU_INTRINSICS
from depthzoo.synthetic.rooms import MIN_IMAGE_SIDE, render_scene
from depthzoo.utils.files import atomic_path
from depthzoo.utils.validation import check_int

MAT_USERBLOCK_BYTES = 512
GENERATOR_VERSION = 1
STORED_MANTISSA_BITS = 14  # depth precision in the file: relative error <= 2**-15 (0.25 mm at 8 m)


def split_indices(num: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """1-based (train, test) indices.

    The last ``round(num * test_fraction)`` images (at least 1, at most num - 1) are the test set.
    """
    check_int("num", num, 2)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.floating)):
        raise ArgumentTypeError(f"test_fraction must be a number, got {test_fraction!r}")
    if not 0.0 < test_fraction < 1.0:
        raise InvalidArgumentError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    n_test = min(max(1, round(num * test_fraction)), num - 1)
    everything = np.arange(1, num + 1)
    return everything[: num - n_test], everything[num - n_test:]


def mat_header(created: _dt.datetime) -> bytes:
    """The 512-byte MATLAB 7.3 userblock.

    116 bytes of text, 8 bytes of subsystem offset (none), version 0x0200 and the endian indicator "IM", zero padded.
    """
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
        raise InvalidArgumentError(f"bits must be between 1 and 23, got {bits}")
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


def write_synthetic_nyu(path: str | os.PathLike[str], num: int = 600, seed: int = 0, height: int = 240,
                        width: int = 320, test_fraction: float = 0.1, *, overwrite: bool = False,
                        progress: bool = False) -> Path:
    """Render ``num`` random rooms and save them as an NYU-v2-style MATLAB v7.3 file at ``path``; returns the path.

    The file appears atomically: it is written to a hidden temporary file in the same folder, flushed to disk and
    renamed onto ``path``, so an interrupted run leaves no partial file (the temporary file is removed). Missing
    parent folders are created. An existing file is replaced only with ``overwrite=True``.
    """
    for name, value in (("height", height), ("width", width)):
        check_int(name, value, MIN_IMAGE_SIDE)
    check_int("seed", seed, 0)
    train, test = split_indices(num, test_fraction)
    k = NYU_INTRINSICS.scaled(height, width)
    meta = dict(generator="depthzoo.synthetic", version=GENERATOR_VERSION, num=num, seed=seed, height=height,
                width=width, test_fraction=test_fraction, fx=k.fx, fy=k.fy, cx=k.cx, cy=k.cy)
    with atomic_path(path, overwrite) as temporary:
        with h5py.File(temporary, "w-", userblock_size=MAT_USERBLOCK_BYTES) as f:
            f.attrs["depthzoo_synthetic"] = json.dumps(meta, sort_keys=True)
            images, depths, raw_depths = _create_images_datasets(f, num, height, width)
            for i in _progress(range(num), num, progress):
                rgb, depth, raw = render_scene(seed, i, height, width)
                images[i] = rgb.transpose(2, 1, 0)
                depths[i] = round_mantissa(depth).T
                raw_depths[i] = round_mantissa(raw).T
            _write_index_vector(f, "trainNdxs", train)
            _write_index_vector(f, "testNdxs", test)
        with open(temporary, "r+b") as handle:
            handle.write(mat_header(_creation_time()))
    return Path(path).expanduser()
