"""LightningDataModules for NYU Depth v2 (labeled .mat, BTS sync folders, or the built-in synthetic file) and KITTI.

Every argument is explicit and typed, so LightningCLI/jsonargparse can build them from YAML. Each module carries
its dataset's evaluation defaults as attributes (``min_depth``, ``max_depth``, ``eval_crop``) for the task to
pass to ``DepthMetrics``.

Batches are dicts: ``image`` float32 (B,3,h,w) in [0,1] at the network input size; ``depth`` float32 (B,1,H,W)
metres and ``valid`` bool (B,1,H,W); ``index`` int64 (B,); ``focal`` float64 (B,) in pixels of ``image``.
Training batches have depth at the input size; evaluation batches keep the protocol's ground truth
(NYU: full resolution, 480x640 for the real data; KITTI: the 352x1216 KB crop).
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Literal

import h5py
import lightning.pytorch as pl
import numpy as np
from torch.utils.data import DataLoader, Dataset, Subset

from depthzoo.data.base import DepthDataset, SampleTransform
from depthzoo.data.errors import DatasetNotFoundError
from depthzoo.data.kitti import KITTIEigen
from depthzoo.data.nyu import NYU_MAT_LAYOUT, NYUDepthKey, NYUv2Mat, NYUv2Sync
from depthzoo.data.splits import MissingPolicy
from depthzoo.data.transforms import EvalTransform, Interpolation, TrainTransform

Split = Literal["train", "test"]


def split_positions(size: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train, val) positions: a seeded random ``fraction`` of ``size`` (at least 1) for val.

    Both are returned sorted, which keeps HDF5 reads in increasing order.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1) to hold out part of the train split, got {fraction!r}")
    num_val = max(1, int(round(size * fraction)))
    if num_val >= size:
        raise ValueError(f"val_fraction={fraction} leaves no training sample out of {size}")
    order = np.random.default_rng(seed).permutation(size)
    return np.sort(order[num_val:]), np.sort(order[:num_val])


_SHARED_ARGS = (
    "batch_size",
    "eval_batch_size",
    "num_workers",
    "pin_memory",
    "input_size",
    "resize",
    "interpolation",
    "augment",
    "scale_range",
    "rotation_deg",
    "color_range",
    "flip_p",
    "val_fraction",
    "split_seed",
    "missing_files",
)


def _shared_args(arguments: dict[str, object]) -> dict[str, object]:
    """The subset of a subclass's ``__init__`` arguments that the base class takes."""
    return {name: arguments[name] for name in _SHARED_ARGS}


class _DepthDataModule(pl.LightningDataModule):
    """Shared dataloader logic; subclasses say how to build a reader for a split."""

    min_depth: float = 1e-3
    max_depth: float
    eval_crop: str
    crop_eval_image: bool
    """Whether evaluation images are centre-cropped to ``input_size`` (NYU/FCRN) or kept whole (KITTI KB crop)."""

    def __init__(
        self,
        *,
        batch_size: int,
        eval_batch_size: int | None,
        num_workers: int,
        pin_memory: bool,
        input_size: tuple[int, int],
        resize: tuple[int, int] | None,
        interpolation: Interpolation,
        augment: bool,
        scale_range: tuple[float, float],
        rotation_deg: float,
        color_range: tuple[float, float],
        flip_p: float,
        val_fraction: float,
        split_seed: int,
        missing_files: MissingPolicy,
    ) -> None:
        super().__init__()
        if batch_size < 1 or (eval_batch_size is not None and eval_batch_size < 1):
            raise ValueError(f"batch sizes must be >= 1, got batch_size={batch_size}, eval_batch_size={eval_batch_size}")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.missing_files = missing_files
        self.interpolation: Interpolation = interpolation
        self.train_transform = TrainTransform(
            input_size, resize, augment, scale_range, rotation_deg, color_range, flip_p, interpolation
        )
        eval_crop_size = input_size if self.crop_eval_image else None
        self.eval_transform = EvalTransform(resize=resize, crop=eval_crop_size, interpolation=interpolation)
        self.train_dataset: Dataset | None = None
        self.val_dataset: Dataset | None = None
        self.test_dataset: Dataset | None = None

    def _reader(
        self, split: Split, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        """The reader of ``split``; ``training`` picks the training depth. ``train_loader`` says it feeds the
        training DataLoader: a reader may then apply the training transform's deterministic ``resize`` while
        reading (cheaper) and cache what it decodes."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if stage in ("fit", "validate", None):
            if self.val_fraction > 0:
                train = self._reader("train", self.train_transform, training=True, train_loader=True)
                held_out = self._reader("train", self.eval_transform, training=False)
                train_positions, val_positions = split_positions(len(train), self.val_fraction, self.split_seed)
                self.train_dataset = Subset(train, train_positions.tolist())
                self.val_dataset = Subset(held_out, val_positions.tolist())
            else:
                if stage != "validate":
                    self.train_dataset = self._reader("train", self.train_transform, training=True, train_loader=True)
                self.val_dataset = self._reader("test", self.eval_transform, training=False)
        if stage in ("test", None):
            self.test_dataset = self._reader("test", self.eval_transform, training=False)

    def train_median_depth(self) -> float:
        """Median valid ground-truth depth (metres) of the whole train split, to the millimetre.

        The constant-depth baseline of the quickstart table. Streams the split once through a 1 mm histogram, so
        memory stays small on the real datasets; ``np.median`` semantics (mean of the two middle values).
        """
        dataset = self._reader("train", None, training=True)
        bins = int(round(2 * self.max_depth * 1000)) + 1  # depths beyond twice the range share the last bin
        counts = np.zeros(bins, dtype=np.int64)
        for position in range(len(dataset)):
            depth = dataset.load(position)["depth"]
            valid = depth[np.isfinite(depth) & (depth > 0)]
            millimetres = np.minimum(np.rint(valid.astype(np.float64) * 1000).astype(np.int64), bins - 1)
            counts += np.bincount(millimetres, minlength=bins)
        cumulative = np.cumsum(counts)
        total = int(cumulative[-1])
        if total == 0:
            raise ValueError("the train split has no valid ground-truth pixel, so it has no median depth")
        lower = int(np.searchsorted(cumulative, (total + 1) // 2))  # the k-th smallest value lies in bin searchsorted(k)
        upper = int(np.searchsorted(cumulative, total // 2 + 1))
        return (lower + upper) / 2 / 1000

    def _require(self, dataset: Dataset | None, stage: str) -> Dataset:
        if dataset is None:
            raise RuntimeError(f"call setup('{stage}') before asking for its dataloader")
        return dataset

    def train_dataloader(self) -> DataLoader:
        dataset = self._require(self.train_dataset, "fit")
        if len(dataset) < self.batch_size:
            raise ValueError(
                f"the training set has {len(dataset)} samples, fewer than batch_size={self.batch_size}; "
                f"lower batch_size (the last incomplete batch is dropped so BatchNorm never sees a batch of 1)"
            )
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            multiprocessing_context=self._worker_start_method(dataset),
        )

    def _worker_start_method(self, dataset: Dataset) -> str | None:
        """"fork" on Linux when the dataset has a shared sample cache (fork shares it with the workers; Python
        3.14 made forkserver the default, which would give each worker an empty cache); else the default."""
        reader = dataset.dataset if isinstance(dataset, Subset) else dataset
        cached = getattr(reader, "cache", None) is not None
        if self.num_workers > 0 and cached and sys.platform.startswith("linux"):
            return "fork"
        return None

    def _eval_dataloader(self, dataset: Dataset) -> DataLoader:
        from depthzoo.data.samplers import make_eval_sampler  # no padding, no duplicates under DDP

        return DataLoader(
            dataset,
            batch_size=self.eval_batch_size,
            shuffle=False,
            sampler=make_eval_sampler(dataset),
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
        )

    def val_dataloader(self) -> DataLoader:
        return self._eval_dataloader(self._require(self.val_dataset, "fit"))

    def test_dataloader(self) -> DataLoader:
        return self._eval_dataloader(self._require(self.test_dataset, "test"))


class NYUv2DataModule(_DepthDataModule):
    """NYU Depth v2 with the FCRN protocol by default.

    Formats:
        - ``"mat"``: ``root`` is ``nyu_depth_v2_labeled.mat`` or its folder; official 795/654 split. By default
          training uses ``rawDepths`` with holes masked and evaluation uses the filled ``depths``, as the FCRN
          paper (``train_depth``/``eval_depth`` change that; "rawDepths" for eval is the BTS-style GT).
        - ``"sync"``: BTS layout under ``root`` (``sync/`` and ``official_splits/test/``, or ``train_root`` /
          ``test_root``); the shipped lists unless ``train_list`` / ``test_list`` are given. GT = PNG / 1000.
        - ``"synthetic"``: ``root`` is the path of a synthetic file in the .mat layout with its own split; if it
          does not exist, ``prepare_data`` generates it (``synthetic_num`` images of ``synthetic_size``, seeded by
          ``synthetic_seed``). An existing file is used as it is (with a warning if it differs from those args).

    Geometry: training images (and depth) are resized to ``resize`` (default halves 480x640 to 240x320, as
    FCRN), augmented, and cropped to ``input_size`` (default 228x304). Evaluation images are resized to
    ``resize`` and centre-cropped to ``input_size`` (rows 6:234, cols 8:312 by default); evaluation depth stays at
    the file's full resolution. ``interpolation`` is the image resize filter (default "nearest", as the FCRN
    evaluation code); depth is always resized nearest.

    Speed (.mat formats): the training reader resizes while reading and, with ``cache_train`` (default), keeps
    each decoded training sample in memory shared by the DataLoader workers (8 bytes per pixel: 490 MB for
    the 795 images at 240x320), so only the first epoch inflates the file's compressed chunks.

    Validation: with ``val_fraction=0`` (default) the test split is used for validation, as BTS' online
    evaluation does (NYU has no official val split); otherwise a seeded ``val_fraction`` of the train split is
    held out (evaluated with the eval depth and transform).
    """

    max_depth = 10.0
    eval_crop = "eigen_nyu"
    crop_eval_image = True

    def __init__(
        self,
        root: str,
        format: Literal["mat", "sync", "synthetic"] = "mat",
        train_list: str | None = None,
        test_list: str | None = None,
        train_root: str | None = None,
        test_root: str | None = None,
        train_depth: NYUDepthKey | None = None,
        eval_depth: NYUDepthKey | None = None,
        batch_size: int = 8,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        input_size: tuple[int, int] = (228, 304),
        resize: tuple[int, int] | None = (240, 320),
        interpolation: Interpolation = "nearest",
        augment: bool = True,
        scale_range: tuple[float, float] = (1.0, 1.5),
        rotation_deg: float = 5.0,
        color_range: tuple[float, float] = (0.8, 1.2),
        flip_p: float = 0.5,
        val_fraction: float = 0.0,
        split_seed: int = 0,
        missing_files: MissingPolicy = "raise",
        synthetic_num: int = 600,
        synthetic_seed: int = 0,
        synthetic_size: tuple[int, int] = (240, 320),
        cache_train: bool = True,
    ) -> None:
        if format not in ("mat", "sync", "synthetic"):
            raise ValueError(f"format must be 'mat', 'sync' or 'synthetic', got {format!r}")
        if format == "sync":
            given = [n for n, v in (("train_depth", train_depth), ("eval_depth", eval_depth)) if v is not None]
            if given:
                raise ValueError(f"{given} apply to the .mat formats only; sync depth is always the PNG (raw, mm)")
        else:
            given = [
                n
                for n, v in (
                    ("train_list", train_list),
                    ("test_list", test_list),
                    ("train_root", train_root),
                    ("test_root", test_root),
                )
                if v is not None
            ]
            if given:
                raise ValueError(f"{given} apply to format='sync' only, not format={format!r}")
        super().__init__(**_shared_args(locals()))
        self.save_hyperparameters()
        self.root = Path(root).expanduser()
        self.format = format
        self.train_list, self.test_list = train_list, test_list
        self.train_root = Path(train_root) if train_root else self.root / "sync"
        self.test_root = Path(test_root) if test_root else self.root / "official_splits" / "test"
        self.train_depth: NYUDepthKey = train_depth or "rawDepths"
        self.eval_depth: NYUDepthKey = eval_depth or "depths"
        self.synthetic_num = synthetic_num
        self.synthetic_seed = synthetic_seed
        self.synthetic_size = synthetic_size
        self.cache_train = cache_train

    def prepare_data(self) -> None:
        """Generate the synthetic file when ``format="synthetic"`` and it does not exist yet (atomic write)."""
        if self.format != "synthetic":
            return
        height, width = self.synthetic_size
        if self.root.exists():
            self._warn_if_synthetic_differs(height, width)
            return
        from depthzoo.data.synthetic import write_synthetic_nyu

        self.root.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_nyu(self.root, num=self.synthetic_num, seed=self.synthetic_seed, height=height, width=width)

    def _warn_if_synthetic_differs(self, height: int, width: int) -> None:
        with h5py.File(self.root, "r") as handle:
            num, _, file_width, file_height = handle["images"].shape
        if (num, file_height, file_width) != (self.synthetic_num, height, width):
            warnings.warn(
                f"{self.root} exists with {num} images of {file_height}x{file_width}; it is used as it is, not "
                f"regenerated for synthetic_num={self.synthetic_num}, synthetic_size={self.synthetic_size} "
                f"(delete it to regenerate)",
                UserWarning,
                stacklevel=2,
            )

    def _reader(
        self, split: Split, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        if self.format == "sync":
            root = self.train_root if split == "train" else self.test_root
            list_file = self.train_list if split == "train" else self.test_list
            return NYUv2Sync(root, split, list_file, transform, self.missing_files)
        if self.format == "synthetic" and not self.root.exists():
            raise DatasetNotFoundError(
                "synthetic NYU-layout file",
                self.root,
                NYU_MAT_LAYOUT,
                "generated by prepare_data() (Lightning calls it before setup); call it first",
            )
        depth = self.train_depth if training else self.eval_depth
        # The .mat reader resizes before transposing MATLAB's column-major arrays: the same samples, 4x less copying.
        resize = self.train_transform.resize if train_loader else None
        cache = train_loader and self.cache_train
        return NYUv2Mat(self.root, split, depth, transform, resize=resize, interpolation=self.interpolation, cache=cache)


class KITTIDataModule(_DepthDataModule):
    """KITTI Eigen split (annotated GT), KB-cropped to 352x1216 for training and evaluation.

    Training: KB crop, optional ``resize``, the paper's augmentation, random crop to ``input_size`` (default
    352x704, as BTS). Evaluation: the image is the KB crop (resized to ``resize`` if given); the GT is the KB crop
    at full resolution, on which the metric applies the Garg crop (the AdaBins/Toolbox protocol). Test lines
    without GT are skipped and counted (652 of the 697 Eigen test lines remain). Validation uses the test split
    unless ``val_fraction`` > 0 holds out part of the train split.
    """

    max_depth = 80.0
    eval_crop = "garg"
    crop_eval_image = False

    def __init__(
        self,
        raw_root: str,
        gt_root: str,
        train_list: str | None = None,
        test_list: str | None = None,
        batch_size: int = 4,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        input_size: tuple[int, int] = (352, 704),
        resize: tuple[int, int] | None = None,
        interpolation: Interpolation = "linear",
        augment: bool = True,
        scale_range: tuple[float, float] = (1.0, 1.5),
        rotation_deg: float = 5.0,
        color_range: tuple[float, float] = (0.8, 1.2),
        flip_p: float = 0.5,
        val_fraction: float = 0.0,
        split_seed: int = 0,
        missing_files: MissingPolicy = "raise",
    ) -> None:
        super().__init__(**_shared_args(locals()))
        self.save_hyperparameters()
        self.raw_root = Path(raw_root).expanduser()
        self.gt_root = Path(gt_root).expanduser()
        self.train_list, self.test_list = train_list, test_list

    def _reader(
        self, split: Split, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        list_file = self.train_list if split == "train" else self.test_list
        return KITTIEigen(self.raw_root, self.gt_root, split, list_file, transform, self.missing_files)
