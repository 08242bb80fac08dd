"""Writers of small fake datasets in the exact real on-disk formats, generated at test time.

- NYU labeled .mat: MATLAB v7.3 = HDF5 with a 512-byte userblock holding the MATLAB text header, a
  ``MATLAB_class`` attribute on every variable, and MATLAB's column-major axis order as h5py sees it
  (images (N, 3, W, H) uint8, depths/rawDepths (N, W, H) float32, split vectors (1, K) float64).
- NYU BTS "sync" folders: JPEG RGB + 16-bit PNG depth in millimetres, list files ``rgb depth focal``.
- KITTI raw + annotated depth: PNG RGB at the per-date sizes, 16-bit PNG GT (metres * 256, 0 = invalid),
  Eigen-style list lines, including ``None`` GT lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import h5py
import numpy as np

MATLAB_HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  4 12:00:00 2024 HDF5 schema 1.00 ."

KITTI_DATE_SIZES = {
    "2011_09_26": (375, 1242),
    "2011_09_28": (370, 1224),
    "2011_09_29": (374, 1238),
    "2011_09_30": (370, 1226),
    "2011_10_03": (376, 1241),
}
KITTI_DATE_FOCALS = {
    "2011_09_26": 721.5377,
    "2011_09_28": 707.0493,
    "2011_09_29": 718.3351,
    "2011_09_30": 707.0912,
    "2011_10_03": 718.856,
}
NYU_FOCAL = 518.8579


def _userblock(text: bytes) -> bytes:
    """MATLAB's 128-byte header (116 text bytes, subsystem offset, version 0x0200, endian 'IM'), zero-padded."""
    header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    return header.ljust(512, b"\x00")


def write_v73_mat(
    path: str | Path,
    datasets: dict[str, tuple[np.ndarray, str]],
    compression: str | None = "gzip",
) -> Path:
    """Write ``{name: (array as h5py stores it, MATLAB class)}`` as a v7.3 MAT file (HDF5 + userblock).

    Arrays of ndim >= 3 are chunked one leading index (one image) per chunk, as is cheapest to read.
    """
    path = Path(path)
    with h5py.File(path, "w", userblock_size=512) as handle:
        handle.create_group("#refs#")
        for name, (array, matlab_class) in datasets.items():
            chunks = (1, *array.shape[1:]) if array.ndim >= 3 else None
            dset = handle.create_dataset(
                name, data=array, chunks=chunks, compression=compression if chunks else None
            )
            dset.attrs["MATLAB_class"] = np.bytes_(matlab_class)
    with open(path, "r+b") as raw:
        raw.write(_userblock(MATLAB_HEADER))
    return path


def write_nyu_mat(
    path: str | Path,
    images: np.ndarray,
    depths: np.ndarray,
    raw_depths: np.ndarray,
    split: tuple[list[int], list[int]] | None = None,
    compression: str | None = "gzip",
) -> Path:
    """Write (N, H, W, 3) uint8 images and (N, H, W) depths in the labeled-.mat layout.

    ``split`` = (trainNdxs, testNdxs), 1-based, stored as MATLAB stores a K x 1 double: h5py shape (1, K).
    """
    datasets: dict[str, tuple[np.ndarray, str]] = {
        "images": (np.ascontiguousarray(images.transpose(0, 3, 2, 1)), "uint8"),
        "depths": (np.ascontiguousarray(depths.transpose(0, 2, 1), dtype=np.float32), "single"),
        "rawDepths": (np.ascontiguousarray(raw_depths.transpose(0, 2, 1), dtype=np.float32), "single"),
        "labels": (np.zeros((images.shape[0], images.shape[2], images.shape[1]), np.uint16), "uint16"),
    }
    if split is not None:
        for name, indices in zip(("trainNdxs", "testNdxs"), split):
            datasets[name] = (np.asarray(indices, dtype=np.float64).reshape(1, -1), "double")
    return write_v73_mat(path, datasets, compression)


def make_nyu_arrays(num: int, height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random images, filled depth in [0.5, 9.5) m, and a raw copy with ~20 % holes (0)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(num, height, width, 3), dtype=np.uint8)
    depths = rng.uniform(0.5, 9.5, size=(num, height, width)).astype(np.float32)
    raw = np.where(rng.random((num, height, width)) < 0.2, np.float32(0), depths).astype(np.float32)
    return images, depths, raw


@dataclass
class SyncFake:
    """What ``write_nyu_sync`` wrote: the root, the two lists, and per-line arrays for checking."""

    root: Path
    train_list: Path
    test_list: Path
    train_depth_mm: list[np.ndarray] = field(default_factory=list)
    test_depth_mm: list[np.ndarray] = field(default_factory=list)
    train_rgb: list[np.ndarray] = field(default_factory=list)
    test_rgb: list[np.ndarray] = field(default_factory=list)


def _smooth_rgb(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth colour image (survives JPEG almost unchanged)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(40, 200, size=3).astype(np.float32)
    slope = rng.uniform(-0.2, 0.2, size=(3, 2)).astype(np.float32)
    image = base + slope[:, 0] * y[..., None] + slope[:, 1] * x[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def _write_rgb(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if path.suffix == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)


def _write_png16(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert values.dtype == np.uint16
    assert cv2.imwrite(str(path), values, [cv2.IMWRITE_PNG_COMPRESSION, 1])


def write_nyu_sync(
    root: str | Path,
    num_train: int = 4,
    num_test: int = 3,
    height: int = 48,
    width: int = 64,
    seed: int = 0,
) -> SyncFake:
    """Write ``<root>/sync/<scene>/...`` and ``<root>/official_splits/test/<type>/...`` plus both list files.

    Train lines have a leading ``/``; test lines are relative to ``official_splits/test``; the test list has
    no trailing newline (as the shipped one).
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    fake = SyncFake(root, root / "train_list.txt", root / "test_list.txt")
    train_lines, test_lines = [], []
    for k in range(num_train):
        scene = f"kitchen_{k // 2:04d}a"
        rgb, depth = f"/{scene}/rgb_{k:05d}.jpg", f"/{scene}/sync_depth_{k:05d}.png"
        image = _smooth_rgb(rng, height, width)
        mm = rng.integers(500, 9500, size=(height, width)).astype(np.uint16)
        mm[rng.random((height, width)) < 0.2] = 0
        _write_rgb(root / "sync" / rgb[1:], image)
        _write_png16(root / "sync" / depth[1:], mm)
        fake.train_rgb.append(image)
        fake.train_depth_mm.append(mm)
        train_lines.append(f"{rgb} {depth} {NYU_FOCAL}")
    for k in range(num_test):
        scene = ("bathroom", "bedroom", "kitchen")[k % 3]
        rgb, depth = f"{scene}/rgb_{k:05d}.jpg", f"{scene}/sync_depth_{k:05d}.png"
        image = _smooth_rgb(rng, height, width)
        mm = rng.integers(500, 9500, size=(height, width)).astype(np.uint16)
        _write_rgb(root / "official_splits" / "test" / rgb, image)
        _write_png16(root / "official_splits" / "test" / depth, mm)
        fake.test_rgb.append(image)
        fake.test_depth_mm.append(mm)
        test_lines.append(f"{rgb} {depth} {NYU_FOCAL}")
    fake.train_list.write_text("\n".join(train_lines) + "\n")
    fake.test_list.write_text("\n".join(test_lines))
    return fake


@dataclass
class KittiFake:
    """What ``write_kitti`` wrote: roots, the list, and the full-size arrays of each line with GT."""

    raw_root: Path
    gt_root: Path
    list_file: Path
    rgb: dict[int, np.ndarray] = field(default_factory=dict)
    gt_units: dict[int, np.ndarray] = field(default_factory=dict)
    dates: dict[int, str] = field(default_factory=dict)


def write_kitti(
    root: str | Path,
    frames: list[tuple[str, int, bool]],
    seed: int = 0,
    list_name: str = "eigen_list.txt",
) -> KittiFake:
    """Write raw images and annotated GT for ``(date, frame, has_gt)`` tuples, plus an Eigen-style list.

    Image sizes and focal lengths follow the per-date table; GT PNGs hold ~5 % valid pixels (metres * 256).
    The dict keys of the returned arrays are the 1-based list line numbers.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    fake = KittiFake(root / "raw", root / "gt", root / list_name)
    lines = []
    for line, (date, frame, has_gt) in enumerate(frames, start=1):
        height, width = KITTI_DATE_SIZES[date]
        drive = f"{date}_drive_{line:04d}_sync"
        rgb_rel = f"{date}/{drive}/image_02/data/{frame:010d}.png"
        gt_rel = f"{drive}/proj_depth/groundtruth/image_02/{frame:010d}.png"
        image = _smooth_rgb(rng, height, width)
        _write_rgb(fake.raw_root / rgb_rel, image)
        fake.rgb[line] = image
        fake.dates[line] = date
        if has_gt:
            units = np.zeros((height, width), np.uint16)
            hits = rng.random((height, width)) < 0.05
            units[hits] = rng.integers(256, 80 * 256, size=int(hits.sum()))
            _write_png16(fake.gt_root / gt_rel, units)
            fake.gt_units[line] = units
        lines.append(f"{rgb_rel} {gt_rel if has_gt else 'None'} {KITTI_DATE_FOCALS[date]}")
    fake.gt_root.mkdir(parents=True, exist_ok=True)
    fake.list_file.write_text("\n".join(lines))
    return fake


def write_exr(path: str | Path, depth: np.ndarray, channel: str = "Y") -> Path:
    """A minimal OpenEXR file written from the specification: one FLOAT channel, scan lines, no compression.

    OpenCV reads the channels Y (grey) and R, G, B; a lone Z channel reads as zeros.

    Header attributes (name, type, size, value), an offset table of one uint64 per scan line, then each line as
    (int32 y, int32 byte count, float32 values), all little-endian.
    """
    import struct

    depth = np.ascontiguousarray(depth, dtype="<f4")
    height, width = depth.shape

    def attribute(name: str, kind: str, value: bytes) -> bytes:
        return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value

    box = struct.pack("<iiii", 0, 0, width - 1, height - 1)
    channels = channel.encode() + b"\0" + struct.pack("<iB3xii", 2, 0, 1, 1) + b"\0"
    header = b"".join([
        b"\x76\x2f\x31\x01", struct.pack("<i", 2),
        attribute("channels", "chlist", channels),
        attribute("compression", "compression", b"\0"),
        attribute("dataWindow", "box2i", box),
        attribute("displayWindow", "box2i", box),
        attribute("lineOrder", "lineOrder", b"\0"),
        attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
        attribute("screenWindowCenter", "v2f", struct.pack("<ff", 0.0, 0.0)),
        attribute("screenWindowWidth", "float", struct.pack("<f", 1.0)),
        b"\0",
    ])
    line_bytes = 8 + 4 * width
    first = len(header) + 8 * height
    offsets = struct.pack(f"<{height}Q", *(first + y * line_bytes for y in range(height)))
    lines = b"".join(struct.pack("<ii", y, 4 * width) + depth[y].tobytes() for y in range(height))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + offsets + lines)
    return path


def write_depth_file(path: str | Path, depth: np.ndarray, depth_scale: float = 1000.0) -> Path:
    """``depth`` (metres, float) in the format the suffix names: 16-bit PNG/TIFF as depth * depth_scale, float32
    TIFF (``.tif``), ``.npy`` or ``.exr`` as metres."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        np.save(path, depth.astype(np.float32))
    elif suffix == ".exr":
        write_exr(path, depth)
    elif suffix == ".tif":
        assert cv2.imwrite(str(path), depth.astype(np.float32))
    else:  # .png / .tiff: 16-bit integers
        values = np.clip(np.rint(np.nan_to_num(depth, nan=0.0, posinf=0.0) * depth_scale), 0, 65535)
        assert cv2.imwrite(str(path), values.astype(np.uint16))
    return path
