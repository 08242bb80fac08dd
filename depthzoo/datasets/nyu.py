"""NYU Depth v2 readers: the official labeled ``.mat`` (MATLAB v7.3 = HDF5) and the BTS "sync" folders.

The ``.mat`` stores MATLAB's H x W x C x N arrays column-major, so h5py sees them reversed: ``images`` is
(N, 3, W, H) uint8 and ``depths``/``rawDepths`` are (N, W, H) float32 metres. A sample is converted back with
``images[i].transpose(2, 1, 0)`` and ``depths[i].T`` (made contiguous). ``depths`` is the in-painted (dense)
depth; ``rawDepths`` is the projected Kinect depth with holes (0 = invalid).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import cv2
import h5py
import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import DepthDataset, ListDataset, Sample, SampleTransform
from depthzoo.datasets.errors import CorruptDataError, DatasetNotFoundError, ShapeMismatchError, SplitListError
from depthzoo.datasets.imageio import valid_depth
from depthzoo.datasets.sample_cache import SharedSampleCache
from depthzoo.datasets.splits import (
    NYU_NUM_LABELED,
    MissingPolicy,
    official_nyu_split,
    read_list,
    resolve_entries,
)
from depthzoo.errors import InvalidArgumentError
from depthzoo.formats.hdf5_chunks import slab_reader
from depthzoo.geometry import NYU_INTRINSICS, Intrinsics
from depthzoo.transforms.resize import Interpolation, Size, check_interpolation
from depthzoo.utils.files import atomic_path
from depthzoo.utils.validation import check_size

NYUDepthKey = Literal["depths", "rawDepths"]
NYUSplit = Literal["train", "test", "all"]

NYU_MAT_NAME = "nyu_depth_v2_labeled.mat"
NYU_FOCAL_PX = NYU_INTRINSICS.fx
"""Horizontal focal length in pixels at NYU's native 640-pixel width (BTS lists, Toolbox intrinsics)."""
NYU_NATIVE_WIDTH = NYU_INTRINSICS.width
NYU_SYNC_MM_PER_M = 1000.0

NYU_MAT_LAYOUT = f"""\
<root>                              a path to the file itself, or a folder holding it
  {NYU_MAT_NAME}       MATLAB v7.3 (HDF5), 2,972,037,809 bytes
    images     (N, 3, W, H) uint8     RGB
    depths     (N, W, H)    float32   filled depth, metres
    rawDepths  (N, W, H)    float32   raw depth, 0 = hole
    trainNdxs, testNdxs (optional)    1-based split; without them N must be 1449 (official split built in)"""
NYU_MAT_SOURCE = (
    "http://horatio.cs.nyu.edu/mit/silberman/nyu_depth_v2/nyu_depth_v2_labeled.mat "
    "(no dataset at hand: use format='synthetic' to generate a small file in the same layout)"
)
NYU_SYNC_LAYOUT = """\
<root>/
  sync/                            training frames (BTS sync.zip), list lines '/<scene>/rgb_00045.jpg ...'
    <scene>/rgb_%05d.jpg
    <scene>/sync_depth_%05d.png    uint16 millimetres, 0 = hole
  official_splits/test/            the 654 official test frames, list lines '<sceneType>/rgb_00045.jpg ...'
    <sceneType>/rgb_%05d.jpg
    <sceneType>/sync_depth_%05d.png"""
NYU_SYNC_SOURCE = (
    "sync.zip is linked from cleinc/bts pytorch/README.md; official_splits/test is written by BTS "
    "utils/extract_official_train_test_set_from_mat.py from nyu_depth_v2_labeled.mat and splits.mat"
)


def resolve_mat_path(root: str | Path) -> Path:
    """Accept the .mat file itself or a folder holding ``nyu_depth_v2_labeled.mat``."""
    path = Path(root).expanduser()
    if path.is_dir():
        path = path / NYU_MAT_NAME
    if not path.is_file():
        raise DatasetNotFoundError("NYU Depth v2 labeled .mat", path, NYU_MAT_LAYOUT, NYU_MAT_SOURCE)
    return path


def _read_split_vector(handle: h5py.File, name: str, num_images: int, path: Path) -> np.ndarray:
    """Read a MATLAB K x 1 double index vector (1-based; h5py shape (1, K)) as 0-based int64."""
    values = np.asarray(handle[name][()], dtype=np.float64).ravel()
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 1) | (values > num_images)
    if bad.any():
        raise CorruptDataError(
            f"{path}: dataset '{name}' must hold 1-based whole indices in 1..{num_images}, "
            f"got {values[bad][:5].tolist()} among its {values.size} values"
        )
    return values.astype(np.int64) - 1


def _split_indices(handle: h5py.File, split: str, num_images: int, path: Path) -> np.ndarray:
    """0-based indices of ``split``: from the file's trainNdxs/testNdxs if present, else the official split."""
    if split == "all":
        return np.arange(num_images, dtype=np.int64)
    present = [name for name in ("trainNdxs", "testNdxs") if name in handle]
    if len(present) == 2:
        train = _read_split_vector(handle, "trainNdxs", num_images, path)
        test = _read_split_vector(handle, "testNdxs", num_images, path)
        overlap = np.intersect1d(train, test)
        if overlap.size:
            raise CorruptDataError(
                f"{path}: trainNdxs and testNdxs share {overlap.size} indices (first 1-based: {overlap[:5] + 1})"
            )
    elif len(present) == 1:
        raise CorruptDataError(f"{path}: holds only '{present[0]}'; a split needs both trainNdxs and testNdxs")
    elif num_images == NYU_NUM_LABELED:
        train, test = official_nyu_split()
    else:
        raise SplitListError(
            f"{path} holds {num_images} images and no trainNdxs/testNdxs datasets, so the official 795/654 "
            f"split (which needs all {NYU_NUM_LABELED} labeled images) does not apply. Use the full official "
            f"file, add trainNdxs/testNdxs (1-based, as MATLAB saves a K x 1 double) to the file, "
            f"or read every image with split='all'."
        )
    return np.sort(train) if split == "train" else np.sort(test)


def _file_intrinsics(handle: h5py.File, height: int, width: int) -> Intrinsics:
    """The camera of the file's images: a synthetic file's own (stored with it), else NYU's scaled to the size."""
    meta = handle.attrs.get("depthzoo_synthetic")
    if meta is not None:
        values = json.loads(meta)
        if (values.get("height"), values.get("width")) == (height, width):
            return Intrinsics(values["fx"], values["fy"], values["cx"], values["cy"], height, width)
    return NYU_INTRINSICS.scaled(height, width)


class NYUv2Mat(DepthDataset):
    """Lazy reader of ``nyu_depth_v2_labeled.mat`` (or a file in the same layout, e.g. the synthetic one).

    Args:
        path: the .mat file, or a folder holding ``nyu_depth_v2_labeled.mat``.
        split: "train" (795), "test" (654) or "all". The split comes from the file's own ``trainNdxs`` /
            ``testNdxs`` (1-based) when present, otherwise from the official ``splits.mat`` (needs 1449 images).
        depth: "depths" (filled) or "rawDepths" (holes are 0 and marked invalid).
        transform: applied to each raw sample (see ``depthzoo.datasets.base``).
        resize: (H, W) to resize every sample to as it is read (image with ``interpolation``, depth nearest,
            ``focal`` scaled), e.g. FCRN's 240x320 for training. Done before the sample is turned from MATLAB's
            column-major order into (H, W), so the transpose copies 4x fewer pixels at half size. Depth, validity
            and nearest or integer-factor area images equal resizing after reading; other image filters may
            differ by one grey level (cv2's fixed-point rounding runs along the other axis first).
        cache: keep every decoded (and resized) sample in memory shared with forked DataLoader workers, so
            only the first epoch inflates the file (``depthzoo.datasets.sample_cache``). Costs 8 bytes per pixel
            per sample once filled: 490 MB for the 795 training images at 240x320.

    The HDF5 file is opened on the first ``__getitem__`` in each process (remembering the pid), never shared
    across a fork, so the dataset pickles and works in DataLoader workers; each worker opens it once.
    Deflate-compressed chunks are inflated with libdeflate (``depthzoo.formats.hdf5_chunks``), 2x faster than
    HDF5's own zlib path; other storage layouts are read through h5py.
    """

    def __init__(
        self,
        path: str | Path,
        split: NYUSplit = "train",
        depth: NYUDepthKey = "depths",
        transform: SampleTransform | None = None,
        resize: Size | None = None,
        interpolation: Interpolation = "nearest",
        cache: bool = False,
    ) -> None:
        super().__init__(transform)
        if split not in ("train", "test", "all"):
            raise InvalidArgumentError(f"split must be 'train', 'test' or 'all', got {split!r}")
        if depth not in ("depths", "rawDepths"):
            raise InvalidArgumentError(f"depth must be 'depths' (filled) or 'rawDepths' (with holes), got {depth!r}")
        self.path = resolve_mat_path(path)
        self.split = split
        self.depth_key = depth
        with self._open_checked() as handle:
            self.num_images, self.height, self.width = self._check_layout(handle)
            self.indices = _split_indices(handle, split, self.num_images, self.path)
            self.intrinsics = _file_intrinsics(handle, self.height, self.width)
        self.focal = NYU_FOCAL_PX * self.width / NYU_NATIVE_WIDTH
        self.resize = check_size("resize", resize, optional=True)
        self.interpolation = interpolation
        self._cv2_interpolation = check_interpolation(interpolation)
        self.sample_size = self.resize or (self.height, self.width)
        if self.resize is not None:
            self.focal *= self.resize[1] / self.width
            self.intrinsics = self.intrinsics.resized(*self.resize)
        self._cache = SharedSampleCache(len(self.indices), {
            "image": ((*self.sample_size, 3), np.uint8),
            "depth": (self.sample_size, np.float32),
            "valid": (self.sample_size, np.bool_),
        }) if cache else None
        self._file: h5py.File | None = None
        self._pid: int | None = None
        self._images: Any = None
        self._depths: Any = None

    def _open_checked(self) -> h5py.File:
        if not h5py.is_hdf5(self.path):
            with open(self.path, "rb") as handle:
                head = handle.read(20)
            kind = "a MATLAB 5 file (e.g. splits.mat)" if head.startswith(b"MATLAB 5.0") else "not HDF5"
            raise CorruptDataError(
                f"{self.path} is not a MATLAB v7.3 (HDF5) file: {kind}. Expected the labeled dataset "
                f"{NYU_MAT_NAME} or a file in its layout."
            )
        try:
            # A 32 MiB chunk cache (default 1 MiB) keeps a chunk spanning several images, or one large
            # depth chunk, decompressed between consecutive reads.
            return h5py.File(self.path, "r", rdcc_nbytes=32 * 2**20)
        except OSError as exc:
            raise CorruptDataError(f"cannot open {self.path} (truncated or corrupt HDF5 file?): {exc}") from exc

    def _check_layout(self, handle: h5py.File) -> tuple[int, int, int]:
        for name in ("images", self.depth_key):
            if name not in handle:
                raise CorruptDataError(
                    f"{self.path} has no dataset '{name}' (it holds {sorted(handle.keys())}); "
                    f"expected the NYU labeled layout:\n{NYU_MAT_LAYOUT}"
                )
        images, depths = handle["images"], handle[self.depth_key]
        if images.ndim != 4 or images.shape[1] != 3 or images.dtype != np.uint8:
            raise CorruptDataError(
                f"{self.path}: 'images' must be (N, 3, W, H) uint8 as h5py sees MATLAB's H x W x 3 x N, "
                f"got {images.shape} {images.dtype}"
            )
        num, _, width, height = images.shape
        if depths.shape != (num, width, height):
            raise ShapeMismatchError(
                f"{self.path}: '{self.depth_key}' shape {depths.shape} does not match 'images' shape "
                f"{images.shape}; expected {(num, width, height)}"
            )
        if depths.dtype.kind != "f":
            raise CorruptDataError(f"{self.path}: '{self.depth_key}' must be floating point metres, got {depths.dtype}")
        return num, height, width

    def _datasets(self) -> tuple[Any, Any]:
        pid = os.getpid()
        if self._file is None or self._pid != pid:
            # A handle inherited through fork belongs to the parent's HDF5 state: forget it, open our own.
            self._file = self._open_checked()
            self._pid = pid
            self._images = slab_reader(self._file["images"])
            self._depths = slab_reader(self._file[self.depth_key])
        return self._images, self._depths

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def cache(self) -> SharedSampleCache | None:
        """The shared cache of decoded samples, or None when built without ``cache=True``."""
        return self._cache

    @override
    def load(self, position: int) -> Sample:
        cached = self._cache.get(position) if self._cache is not None else None
        if cached is None:
            cached = self._decode(int(self.indices[position]))
            if self._cache is not None:
                self._cache.put(position, cached)
        return {**cached, "index": position, "focal": self.focal, "intrinsics": self.intrinsics.as_array()}

    def _decode(self, k: int) -> dict[str, np.ndarray]:
        """Image k of the file as (H, W, 3) uint8, depth (H, W) float32 metres and its validity, resized."""
        images, depths = self._datasets()
        try:
            planes = images(k)
            depth = np.ascontiguousarray(depths(k), dtype=np.float32)
        except (OSError, RuntimeError, ValueError) as exc:
            raise CorruptDataError(
                f"{self.path}: cannot read image {k} (0-based; MATLAB index {k + 1}) from 'images'/"
                f"'{self.depth_key}': {exc}"
            ) from exc
        if self.sample_size != (self.height, self.width):
            # In the stored (W, H) orientation cv2's dsize (columns, rows) is (H, W) of the target.
            height, width = self.sample_size
            planes = [cv2.resize(plane, (height, width), interpolation=self._cv2_interpolation) for plane in planes]
            depth = cv2.resize(depth, (height, width), interpolation=cv2.INTER_NEAREST)
        # (3, W, H) -> (H, W, 3) and (W, H) -> (H, W): cv2's blocked transposes are ~10x faster than
        # numpy's strided copy of image.transpose(2, 1, 0) and give the same contiguous arrays.
        image = cv2.merge([cv2.transpose(plane) for plane in planes])
        depth, valid = valid_depth(cv2.transpose(depth))
        return {"image": image, "depth": depth, "valid": valid}

    def close(self) -> None:
        """Close this process's handle (a later read reopens it)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = self._images = self._depths = None
        self._pid = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_file=None, _pid=None, _images=None, _depths=None)
        return state

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: h5py may already be torn down
            pass


REPACKED_DATASETS = ("images", "depths", "rawDepths", "trainNdxs", "testNdxs")


def repack_mat(source: str | Path, target: str | Path) -> Path:
    """Copy the datasets NYUv2Mat reads into a new file stored uncompressed, one chunk per image.

    MATLAB v7.3 stores deflate-compressed chunks; inflating one 480x640 image plus one depth map costs about
    10-15 ms on one core, which caps a DataLoader worker below 100 training samples/s. The repacked file (about
    4 MB per image, ~5.8 GB for the 1449 labeled images) reads in about 1 ms and has the same layout, userblock
    and ``MATLAB_class`` attributes, so NYUv2Mat reads it unchanged. Written to a temporary file in the target's
    folder and renamed into place, so an interrupted run leaves no partial file. Returns the target path.
    """
    source = resolve_mat_path(source)
    with atomic_path(target) as temporary, h5py.File(source, "r") as src:
        userblock = src.userblock_size
        with h5py.File(temporary, "w", userblock_size=userblock) as dst:
            for name in (n for n in REPACKED_DATASETS if n in src):
                data = src[name]
                per_image = data.ndim >= 3
                out = dst.create_dataset(
                    name, shape=data.shape, dtype=data.dtype, chunks=(1, *data.shape[1:]) if per_image else None
                )
                out.attrs.update(dict(data.attrs))
                if per_image:
                    for i in range(data.shape[0]):
                        out[i] = data[i]
                else:
                    out[...] = data[()]
        if userblock:
            with open(source, "rb") as handle:
                header = handle.read(userblock)
            with open(temporary, "r+b") as handle:
                handle.write(header)
    return Path(target).expanduser()


class NYUv2Sync(ListDataset):
    """Reader of the BTS "sync" layout: ``rgb depth focal`` list lines, JPEG RGB, 16-bit PNG depth in mm.

    Args:
        root: the folder the list paths are relative to: ``<nyu>/sync`` for the train list (its leading ``/``
            is stripped), ``<nyu>/official_splits/test`` for the test list.
        split: which shipped list to use when ``list_file`` is None ("train": 24,231 lines, "test": 654).
        list_file: a list of your own in the same format.
        missing_files: lines naming missing files are found at construction and reported with their line
            numbers; "raise" (default) refuses the list, "skip" drops them with one warning.

    Depth is ``png / 1000`` metres (the PNG holds ``rawDepths`` truncated to mm); 0 is invalid.
    """

    units_per_metre = NYU_SYNC_MM_PER_M

    def __init__(
        self,
        root: str | Path,
        split: Literal["train", "test"] = "test",
        list_file: str | Path | None = None,
        transform: SampleTransform | None = None,
        missing_files: MissingPolicy = "raise",
    ) -> None:
        super().__init__(split, list_file, f"nyu_{split}", transform)
        self.root = self.rgb_root = Path(root).expanduser()
        if not self.root.is_dir():
            raise DatasetNotFoundError(f"NYU Depth v2 sync ({split})", self.root, NYU_SYNC_LAYOUT, NYU_SYNC_SOURCE)
        entries = read_list(self.list_file)
        without_gt = [e.line for e in entries if e.depth is None]
        if without_gt:
            raise SplitListError(
                f"{self.list_file}: NYU lines must name a depth file; 'None' on lines {without_gt[:10]}"
            )
        self.entries = resolve_entries(entries, self.list_file, self.root, self.root, missing_files)

    @override
    def load(self, position: int) -> Sample:
        image, depth, entry, _ = self.read_entry(position)
        depth, valid = valid_depth(depth)
        camera = NYU_INTRINSICS.scaled(*image.shape[:2])  # the list's focal, NYU's principal point and aspect
        intrinsics = Intrinsics(
            entry.focal, entry.focal * camera.fy / camera.fx, camera.cx, camera.cy, camera.height, camera.width
        )
        return {
            "image": image, "depth": depth, "valid": valid, "index": position, "focal": entry.focal,
            "intrinsics": intrinsics.as_array(),
        }
