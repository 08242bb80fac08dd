"""``FolderDataModule`` (alias ``CustomDataModule``): train, validate and test on your own RGB-D files.

The data is checked before the first training step (:meth:`FolderDataModule.check`): unmatched pairs, images and
depth maps of different sizes, and depth that looks like the wrong unit each stop the run with an error naming the
files and the fix.
"""

from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from depthzoo.datamodules.base import DepthDataModule, Split, split_positions
from depthzoo.datasets.base import DepthDataset, SampleTransform
from depthzoo.datasets.errors import DatasetNotFoundError, ShapeMismatchError
from depthzoo.datasets.folder import (
    FOLDER_LAYOUT,
    FolderDataset,
    PairEntry,
    check_template,
    pairs_from_folders,
    pairs_from_list,
)
from depthzoo.datasets.imageio import default_depth_scale, read_depth_raw
from depthzoo.errors import DataError, InvalidArgumentError, listing
from depthzoo.metrics.crops import check_crop_name
from depthzoo.transforms.resize import Interpolation

CHECKED_DEPTH_FILES = 32
"""How many depth files (evenly spread over the training pairs) the unit and range checks read."""
MEDIAN_DEPTH_RANGE = (0.01, 100.0)
"""Median valid depths outside this range (metres) are taken for a wrong ``depth_scale``."""
SPARSE_FRACTION = 0.1
"""Ground truth with fewer valid pixels than this (LiDAR-like) is sparse."""


class DepthUnitError(DataError, ValueError):
    """Depth values that look like another unit than metres after ``depth_scale``."""


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is greater than ``value`` (a guessed depth cap).

    >>> nice_ceiling(9.3), nice_ceiling(10.0), nice_ceiling(74.0)
    (10.0, 20.0, 100.0)
    """
    exponent = math.floor(math.log10(value))
    for power in (exponent, exponent + 1):
        for step in (1.0, 2.0, 5.0):
            candidate = step * 10.0**power
            if candidate > value:
                return float(f"{candidate:.12g}")
    return 10.0 ** (exponent + 2)


class FolderDataModule(DepthDataModule):
    """Your own RGB-D data: pairs from list files or from two folders, 16-bit PNG / .npy / TIFF / EXR depth.

    Pairs: with ``train_list`` / ``val_list`` / ``test_list`` the splits are those lists (lines
    ``rgb_path depth_path [focal [cx cy]]`` relative to ``root``, the format of the shipped NYU and KITTI lists).
    Without lists, every image under ``root/rgb_dir`` pairs with ``root/depth_dir/<same sub-folders>/<depth_template>``
    (``{stem}`` is the image's name without suffix), and a seeded ``test_fraction`` of the pairs is the test split.
    Validation: ``val_list``, else a seeded ``val_fraction`` of the training pairs, else the test split.

    Depth: metres = stored value / ``depth_scale``. By default 16-bit files are millimetres (1000) and float files
    metres (1); KITTI-style PNGs need 256. OpenEXR is read where the installed OpenCV can (set the environment variable
    ``OPENCV_IO_ENABLE_OPENEXR=1`` before starting; builds without OpenEXR say so). Pixels whose stored value is
    ``invalid_value``, NaN, infinite or not positive are invalid, and so are the zeros of the optional masks.

    Intrinsics: a focal on each list line, or ``focal`` (with ``cx``, ``cy``, default the image centre) for all, in
    pixels of the files as stored; they follow every resize and crop like the NYU and KITTI focal lengths, and give
    ``depthzoo predict --writer.point_cloud true`` its camera.

    Checks before training (:meth:`check`; ``check_data=False`` skips the reading ones): unmatched pairs (listed),
    images, depths and masks of different sizes, a median depth outside 1 cm .. 100 m (a wrong ``depth_scale``),
    and files without any valid pixel. The same reading guesses ``max_depth`` when it is not given (the next of 1, 2,
    5 x 10^k above the largest depth read, announced in a warning) and tells sparse (LiDAR-like, < 10 % valid) ground
    truth, for which the task computes the training loss at the ground truth's resolution so no point is dropped.

    Geometry and augmentation are the NYU module's (resize, then the FCRN augmentation, crop to ``input_size``);
    evaluation images are resized to ``resize`` whole and the ground truth stays as stored.

    Args:
        root: the dataset folder; list paths and the folders below are relative to it.
        rgb_dir: folder of the colour images (searched recursively), relative to ``root``.
        depth_dir: folder of the depth maps, mirroring ``rgb_dir``'s sub-folders.
        depth_template: name of an image's depth file, with ``{stem}``: ``{stem}.png``, ``{stem}_depth.npy``, ...
        mask_dir: optional folder of validity masks (non-zero = valid), mirroring ``rgb_dir``.
        mask_template: name of an image's mask file, with ``{stem}``.
        train_list: list file of the training pairs (then the splits come from lists).
        val_list: list file of the validation pairs.
        test_list: list file of the test pairs.
        test_fraction: without lists: the seeded fraction of the pairs held out as the test split.
        depth_scale: stored units per metre; None: 1000 for integer files, 1 for float files.
        invalid_value: the stored value that marks missing depth (0 by default).
        focal: focal length in pixels of the stored images, for pairs whose list line has none.
        cx: principal point column for all pairs (default the image centre).
        cy: principal point row for all pairs (default the image centre).
        min_depth: evaluation: ground truth must be deeper than this (metres); the model's ``min_depth`` wins.
        max_depth: evaluation: ground truth must be nearer than this (metres); None guesses it from the data; the
            model's ``max_depth`` wins.
        eval_crop: evaluation crop name (``depthzoo.metrics.CROP_NAMES``) or None, used with the model's "auto".
        sparse: the ground truth is sparse (LiDAR-like); None decides from the data (< 10 % valid pixels).
        check_data: read a sample of the depth files before training to check units and guess the range.
        input_size: (height, width) of the training crop; also the evaluation size when ``resize`` is None.
        resize: (height, width) every image is resized to before augmentation and evaluation.
        interpolation: image resize filter; depth is always resized nearest.
        **kwargs: the shared options of :class:`DepthDataModule` (batch sizes, workers, augmentation, validation).
    """

    crop_eval_image = False

    def __init__(
        self,
        root: str = ".",
        rgb_dir: str = "rgb",
        depth_dir: str = "depth",
        depth_template: str = "{stem}.png",
        mask_dir: str | None = None,
        mask_template: str = "{stem}.png",
        train_list: str | None = None,
        val_list: str | None = None,
        test_list: str | None = None,
        test_fraction: float = 0.1,
        depth_scale: float | None = None,
        invalid_value: float = 0.0,
        focal: float | None = None,
        cx: float | None = None,
        cy: float | None = None,
        min_depth: float = 1e-3,
        max_depth: float | None = None,
        eval_crop: str | None = None,
        sparse: bool | None = None,
        check_data: bool = True,
        input_size: tuple[int, int] = (228, 304),
        resize: tuple[int, int] | None = None,
        interpolation: Interpolation = "linear",
        **kwargs: Any,
    ) -> None:
        super().__init__(input_size=input_size, resize=resize, interpolation=interpolation, **kwargs)
        # The evaluation range and crop are also DepthTask arguments (which win when given); Lightning refuses to
        # log two different values under one name, so these stay out of the data module's logged hyper-parameters.
        self.save_hyperparameters(ignore=["min_depth", "max_depth", "eval_crop"])
        check_template(depth_template, "depth_template")
        check_template(mask_template, "mask_template")
        check_crop_name(eval_crop)
        if not 0.0 <= test_fraction < 1.0:
            raise InvalidArgumentError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
        if max_depth is not None and not (math.isfinite(max_depth) and max_depth > min_depth > 0):
            raise InvalidArgumentError(
                f"need 0 < min_depth < max_depth (metres), got min_depth={min_depth}, max_depth={max_depth}"
            )
        self.root = Path(root).expanduser()
        self.rgb_dir, self.depth_dir, self.mask_dir = rgb_dir, depth_dir, mask_dir
        self.depth_template, self.mask_template = depth_template, mask_template
        self.lists = {"train": train_list, "val": val_list, "test": test_list}
        self.test_fraction = test_fraction
        self.depth_scale, self.invalid_value = depth_scale, invalid_value
        self.focal, self.cx, self.cy = focal, cx, cy
        self.min_depth = float(min_depth)
        self._max_depth = None if max_depth is None else float(max_depth)
        self.eval_crop = eval_crop
        self._sparse = sparse
        self.check_data = check_data
        self._pairs: dict[str, list[PairEntry]] | None = None
        self.report: dict[str, Any] | None = None

    # ---------------------------------------------------------------------------------------------- evaluation
    @property
    def max_depth(self) -> float:
        """The evaluation depth cap: ``max_depth`` as given, else guessed by :meth:`check` from the data."""
        if self._max_depth is None:
            reason = "the data check is off (check_data=False)" if not self.check_data else "the data was not read yet"
            raise InvalidArgumentError(
                f"FolderDataModule has no max_depth and cannot guess the data's range: {reason}",
                fix="pass max_depth (metres; e.g. 10 indoors, 80 for driving) to the data module or to the model",
            )
        return self._max_depth

    @property
    def sparse_depth(self) -> bool:
        """Whether the ground truth is sparse (given as ``sparse``, else found by :meth:`check`)."""
        return bool(self._sparse)

    # ------------------------------------------------------------------------------------------------- pairs
    def _path(self, name: str) -> Path:
        """``name`` relative to ``root`` (or as given, when absolute or found only relative to the working folder)."""
        path = Path(name).expanduser()
        below_root = self.root / path
        return path if path.is_absolute() or (path.exists() and not below_root.exists()) else below_root

    def pairs(self) -> dict[str, list[PairEntry]]:
        """The pairs of each split ("train", "val", "test"; a split may be empty), built once."""
        if self._pairs is not None:
            return self._pairs
        mask_dir = None if self.mask_dir is None else self._path(self.mask_dir)
        if any(self.lists.values()):
            self._pairs = {
                split: [] if name is None else pairs_from_list(
                    self._path(name), self.root, mask_dir, self.mask_template, self.missing_files
                )
                for split, name in self.lists.items()
            }
            return self._pairs
        if not self.root.is_dir():
            raise DatasetNotFoundError("your RGB-D folder", self.root, FOLDER_LAYOUT, "your own RGB-D data")
        everything = pairs_from_folders(
            self._path(self.rgb_dir), self._path(self.depth_dir), self.depth_template, mask_dir, self.mask_template,
            self.missing_files,
        )
        if self.test_fraction > 0:
            rest, test = split_positions(len(everything), self.test_fraction, self.split_seed)
        else:
            rest, test = np.arange(len(everything)), np.arange(0)
        self._pairs = {
            "train": [everything[i] for i in rest], "val": [], "test": [everything[i] for i in test]
        }
        return self._pairs

    def _reader(
        self, split: Split | str, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        entries = self.pairs()[split]
        if not entries:
            hint = {
                "train": "pass train_list, or drop the lists to pair the folders",
                "val": "pass val_list, val_fraction > 0, or a test split to validate on",
                "test": "pass test_list, or test_fraction > 0 without lists",
            }[split]
            raise InvalidArgumentError(f"FolderDataModule has no {split} pairs", source=self.root, fix=hint)
        return FolderDataset(
            entries, transform, self.depth_scale, self.invalid_value, self.focal, self.cx, self.cy
        )

    def setup(self, stage: str | None = None) -> None:
        """Build the splits, check the data once (before any training step), then the datasets."""
        if self.report is None:
            self.report = self.check()
        if self.lists["val"] and stage in ("fit", "validate", None):
            if self.val_fraction > 0:
                raise InvalidArgumentError("pass either val_list or val_fraction, not both")
            if stage != "validate":
                self.train_dataset = self._reader("train", self.train_transform, training=True, train_loader=True)
            self.val_dataset = self._reader("val", self.eval_transform, training=False)
            if stage is None:
                super().setup("test")
                super().setup("predict")
            return
        super().setup(stage)

    # ------------------------------------------------------------------------------------------------- checks
    def check(self) -> dict[str, Any]:
        """Check the data before training; returns what it found, raises a :class:`DataError` naming the fix.

        Always: the pairs match (see :func:`~depthzoo.datasets.folder.pairs_from_folders`) and every image has the
        size of its depth map and mask (read from the file headers). With ``check_data``: up to
        :data:`CHECKED_DEPTH_FILES` depth files spread over the training pairs are read for their median valid
        depth (1 cm .. 100 m, else a wrong ``depth_scale``), their valid fraction (sparse below 10 %) and their
        largest depth (the guess of ``max_depth``); files without a valid pixel are counted and reported once.
        """
        pairs = self.pairs()
        every = [entry for split in ("train", "val", "test") for entry in pairs[split]]
        sizes = self._check_sizes(every)
        report: dict[str, Any] = {"pairs": {split: len(entries) for split, entries in pairs.items()}, "sizes": sizes}
        if not self.check_data:
            return report
        checked = pairs["train"] or every
        positions = np.unique(np.linspace(0, len(checked) - 1, min(CHECKED_DEPTH_FILES, len(checked))).round())
        reader = FolderDataset(checked, None, self.depth_scale, self.invalid_value, self.focal, self.cx, self.cy)
        values, fractions, empty = [], [], []
        for position in positions.astype(int).tolist():
            depth, valid = reader.read_depth(position)
            fractions.append(float(valid.mean()))
            if valid.any():
                values.append(depth[valid])
            else:
                empty.append(checked[position].where)
        if not values:
            raise DataError(
                f"none of the {len(positions)} depth files checked has a valid pixel (e.g. {checked[0].depth_path})",
                fix=f"check invalid_value (now {self.invalid_value:g}), the masks and depth_scale",
            )
        valid_depths = np.concatenate(values)
        median, largest = float(np.median(valid_depths)), float(valid_depths.max())
        self._check_unit(median, checked[int(positions[0])], len(positions))
        report.update(median_depth=median, max_depth_seen=largest, valid_fraction=float(np.mean(fractions)),
                      checked_files=len(positions), files_without_valid_depth=len(empty))
        if empty:
            warnings.warn(
                f"{len(empty)} of {len(positions)} checked depth files have no valid pixel ({listing(empty, 3)}); "
                "they add nothing to training or evaluation (evaluation counts and reports such images)",
                UserWarning, stacklevel=2,
            )
        if self._sparse is None:
            self._sparse = report["valid_fraction"] < SPARSE_FRACTION
        if self._sparse and self.train_transform.resize is not None:
            warnings.warn(
                "the ground truth is sparse and resize is set: nearest down-sampling drops depth points; "
                "prefer training at the stored size (resize: null, a smaller input_size crop)",
                UserWarning, stacklevel=2,
            )
        if self._max_depth is None:
            self._max_depth = nice_ceiling(largest)
            warnings.warn(
                f"max_depth not given: evaluating ground truth below {self._max_depth:g} m, the next round number "
                f"above the largest depth in {len(positions)} checked files ({largest:.3g} m); pass max_depth to "
                "set it",
                UserWarning, stacklevel=2,
            )
        return report

    def _check_unit(self, median: float, first: PairEntry, count: int) -> None:
        low, high = MEDIAN_DEPTH_RANGE
        if low <= median <= high:
            return
        raw = read_depth_raw(first.depth_path)
        scale = self.depth_scale if self.depth_scale is not None else default_depth_scale(raw)
        given = "depth_scale" if self.depth_scale is not None else f"the default depth_scale for {raw.dtype} files"
        if median > high:
            guess = "millimetres: depth_scale 1000" if scale < 1000 else "a finer unit: a larger depth_scale"
        else:
            guess = "metres: depth_scale 1" if scale > 1 else "a coarser unit: a smaller depth_scale"
        raise DepthUnitError(
            f"the median valid depth of {count} checked files is {median:.4g} m with {given} = {scale:g} "
            f"(e.g. {first.depth_path}); that looks like the wrong unit",
            fix=f"if the files hold {guess}; if the range is right, pass check_data=False",
        )

    def _check_sizes(self, entries: list[PairEntry]) -> list[tuple[int, int]]:
        """Every image the size of its depth map and mask; returns the distinct image sizes (height, width)."""
        mismatched, sizes = [], set()
        for entry in entries:
            image = _file_size(entry.rgb_path)
            sizes.add(image)
            others = [(entry.depth_path, _file_size(entry.depth_path))]
            if entry.mask_path is not None:
                others.append((entry.mask_path, _file_size(entry.mask_path)))
            for path, size in others:
                if size != image:
                    mismatched.append(f"{entry.rgb_path.name} {image[0]}x{image[1]} vs {path.name} {size[0]}x{size[1]}")
        if mismatched:
            raise ShapeMismatchError(
                f"{len(mismatched)} of {len(entries)} pairs have an image and a depth map (or mask) of different "
                f"sizes (height x width): {listing(mismatched, 5)}; depth must be registered to its image pixel for "
                "pixel: resize or re-project the depth maps (nearest, never averaging depth)"
            )
        if len(sizes) > 1 and self.eval_batch_size > 1:
            shown = [f"{h}x{w}" for h, w in sorted(sizes)]
            raise ShapeMismatchError(
                f"the images come in {len(sizes)} sizes ({listing(shown, 5)}), and an evaluation batch keeps each "
                "ground truth at its own size",
                fix="pass eval_batch_size 1 (and resize, so training crops fit every image)",
            )
        if self.train_transform.resize is None:
            small = [f"{h}x{w}" for h, w in sizes if h < self.train_transform.input_size[0]
                     or w < self.train_transform.input_size[1]]
            if small and self.train_transform.scale_range[0] >= 1.0:
                raise ShapeMismatchError(
                    f"images of {listing(small, 5)} are smaller than input_size {self.train_transform.input_size}",
                    fix="lower input_size or set resize",
                )
        return sorted(sizes)


def _file_size(path: Path) -> tuple[int, int]:
    """(height, width) of an image or depth file, from its header where the format allows."""
    if path.suffix.lower() == ".npy":
        shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
        return int(shape[0]), int(shape[1])
    try:
        with Image.open(path) as handle:
            width, height = handle.size
            return height, width
    except OSError:  # OpenEXR, PFM and anything else PIL cannot open: decode it
        raw = read_depth_raw(path)
        return int(raw.shape[0]), int(raw.shape[1])


class CustomDataModule(FolderDataModule):  # noqa: D101 (the docstring is FolderDataModule's, set below)
    pass


CustomDataModule.__doc__ = (
    "``FolderDataModule`` under the name other depth toolboxes use (``--data CustomDataModule``).\n\n"
    + inspect.cleandoc(FolderDataModule.__doc__ or "")
)

__all__ = ["CustomDataModule", "DepthUnitError", "FolderDataModule", "nice_ceiling"]
