"""The Lightning plumbing every depth data module shares: splits, loaders, evaluation defaults and arguments.

A data module subclasses :class:`DepthDataModule` and says how to build the reader of a split (``_reader``). Its
dataset-specific arguments are its own; the shared ones (batch sizes, geometry, augmentation, validation split) are
documented once here and reach the base class through ``**kwargs``, which LightningCLI follows, so
``depthzoo fit --help`` lists and explains all of them. Each module carries its dataset's evaluation defaults as
attributes (``min_depth``, ``max_depth``, ``eval_crop``) for the task to pass to ``DepthMetrics``.

Batches are dicts: ``image`` float32 (B,3,h,w) in [0,1] at the network input size; ``depth`` float32 (B,1,H,W)
metres and ``valid`` bool (B,1,H,W); ``index`` int64 (B,); ``focal`` float64 (B,) in pixels of ``image``.
Training batches have depth at the input size; evaluation batches keep the protocol's ground truth
(NYU: full resolution, 480x640 for the real data; KITTI: the 352x1216 KB crop) and, where the dataset knows its
camera, ``intrinsics`` float64 (B,4) (fx, fy, cx, cy) of ``image``. ``depthzoo predict`` on a data module predicts
the test split: its batches hold ``image``, ``index``, ``name``, the ground truth's ``height`` and ``width`` (the
size the outputs are written at) and ``intrinsics`` at that size.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset
from typing_extensions import override

from depthzoo.datamodules import samplers
from depthzoo.datasets.base import DepthDataset, SampleTransform
from depthzoo.datasets.errors import NoValidDataError
from depthzoo.datasets.splits import MissingPolicy
from depthzoo.errors import InvalidArgumentError
from depthzoo.geometry import Intrinsics
from depthzoo.transforms.pipelines import EvalTransform, TrainTransform
from depthzoo.transforms.resize import Interpolation
from depthzoo.utils.validation import check_int

Split = Literal["train", "test"]


def split_positions(size: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train, val) positions: a seeded random ``fraction`` of ``size`` (at least 1) for val.

    Both are returned sorted, which keeps HDF5 reads in increasing order.
    """
    if not 0.0 < fraction < 1.0:
        raise InvalidArgumentError(
            f"val_fraction must be in (0, 1) to hold out part of the train split, got {fraction!r}"
        )
    num_val = max(1, int(round(size * fraction)))
    if num_val >= size:
        raise InvalidArgumentError(f"val_fraction={fraction} leaves no training sample out of {size}")
    order = np.random.default_rng(seed).permutation(size)
    return np.sort(order[num_val:]), np.sort(order[:num_val])


class DepthDataModule(pl.LightningDataModule):
    """Shared dataloader logic of the depth data modules; subclasses say how to build a reader for a split.

    Geometry: training images (and depth) are resized to ``resize``, augmented, and cropped to ``input_size``.
    Evaluation images are resized to ``resize`` and, where the dataset's protocol says so (``crop_eval_image``),
    centre-cropped to ``input_size``; evaluation depth stays at the protocol's resolution.

    Validation: with ``val_fraction=0`` (default) the test split is used for validation, as BTS' online
    evaluation does; otherwise a seeded ``val_fraction`` of the train split is held out and evaluated like the
    test split.

    Args:
        batch_size: samples per training batch (the last incomplete batch is dropped).
        eval_batch_size: samples per validation/test batch; default ``batch_size``.
        num_workers: DataLoader worker processes (0 reads in the training process).
        pin_memory: pin batches in page-locked memory (faster copies to a GPU).
        input_size: (height, width) the network sees in training: the crop after augmentation.
        resize: (height, width) every image is resized to before augmentation and evaluation; None keeps the size.
        interpolation: image resize filter, "nearest", "linear", "area" or "cubic"; depth is always resized nearest.
        augment: apply the training augmentation (otherwise training images are centre-cropped only).
        scale_range: the zoom factor s ~ U(low, high); depth is divided by s (FCRN); (1, 1) turns zoom off.
        rotation_deg: rotation ~ U(-rotation_deg, rotation_deg) degrees; 0 turns it off.
        color_range: per-channel colour scale ~ U(low, high).
        flip_p: probability of a horizontal flip.
        val_fraction: fraction of the train split held out for validation; 0 validates on the test split.
        split_seed: seed of the held-out validation split.
        missing_files: what a list line naming a missing file does: "raise" or "skip" (counted and reported once).
        crop_eval_image: centre-crop evaluation images to ``input_size`` (True) or keep the whole resized frame
            (False); default the dataset's protocol (NYU/FCRN: crop; KITTI: whole). Models trained on square crops
            but evaluated on whole frames (Depth Anything V2) set False.
    """

    min_depth: float = 1e-3
    max_depth: float
    eval_crop: str | None
    crop_eval_image: bool
    """Whether evaluation images are centre-cropped to ``input_size`` (NYU/FCRN) or kept whole (KITTI KB crop)."""
    sparse_depth: bool = False
    """Whether the ground truth is sparse (LiDAR-like): the task then computes the training loss at its resolution."""

    @property
    def dense_ground_truth(self) -> bool:
        """Whether the evaluation ground truth is dense enough for depth-boundary errors (NYU yes, KITTI's LiDAR no)."""
        return not self.sparse_depth

    def __init__(
        self,
        *,
        batch_size: int = 8,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        input_size: tuple[int, int] = (228, 304),
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
        crop_eval_image: bool | None = None,
    ) -> None:
        super().__init__()
        check_int("batch_size", batch_size, minimum=1)
        if eval_batch_size is not None:
            check_int("eval_batch_size", eval_batch_size, minimum=1)
        check_int("num_workers", num_workers, minimum=0)
        if not 0.0 <= val_fraction < 1.0:
            raise InvalidArgumentError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
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
        if crop_eval_image is not None:
            self.crop_eval_image = bool(crop_eval_image)
        eval_crop_size = input_size if self.crop_eval_image else None
        self.eval_transform = EvalTransform(resize=resize, crop=eval_crop_size, interpolation=interpolation)
        self.train_dataset: Dataset | None = None
        self.val_dataset: Dataset | None = None
        self.test_dataset: Dataset | None = None
        self.predict_dataset: Dataset | None = None

    def _reader(
        self, split: Split, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        """The reader of ``split``; ``training`` picks the training depth.

        ``train_loader`` says it feeds the training DataLoader: a reader may then apply the training transform's
        deterministic ``resize`` while reading (cheaper) and cache what it decodes.
        """
        raise NotImplementedError

    @override
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
        if stage in ("predict", None):
            self.predict_dataset = PredictionSamples(self._reader("test", self.eval_transform, training=False))

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
            raise NoValidDataError("the train split has no valid ground-truth pixel, so it has no median depth")
        lower = int(
            np.searchsorted(cumulative, (total + 1) // 2)
        )  # the k-th smallest value lies in bin searchsorted(k)
        upper = int(np.searchsorted(cumulative, total // 2 + 1))
        return (lower + upper) / 2 / 1000

    def _require(self, dataset: Dataset | None, stage: str) -> Dataset:
        if dataset is None:
            raise RuntimeError(f"call setup('{stage}') before asking for its dataloader")
        return dataset

    @override
    def train_dataloader(self) -> DataLoader:
        dataset = self._require(self.train_dataset, "fit")
        if len(dataset) < self.batch_size:
            raise InvalidArgumentError(
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
        """The DataLoader workers' start method: "fork" on Linux for a dataset with a shared sample cache.

        Fork shares the cache with the workers (Python 3.14 made forkserver the default, which would give each
        worker an empty cache); other datasets and systems keep the default.
        """
        reader = dataset.dataset if isinstance(dataset, Subset) else dataset
        cached = getattr(reader, "cache", None) is not None
        if self.num_workers > 0 and cached and sys.platform.startswith("linux"):
            return "fork"
        return None

    def _eval_dataloader(self, dataset: Dataset) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.eval_batch_size,
            shuffle=False,
            sampler=samplers.make_eval_sampler(dataset),  # no padding, no duplicates under DDP
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
        )

    @override
    def val_dataloader(self) -> DataLoader:
        return self._eval_dataloader(self._require(self.val_dataset, "fit"))

    @override
    def test_dataloader(self) -> DataLoader:
        return self._eval_dataloader(self._require(self.test_dataset, "test"))

    @override
    def predict_dataloader(self) -> DataLoader:
        return self._eval_dataloader(self._require(self.predict_dataset, "predict"))


class PredictionSamples(Dataset):
    """Evaluation samples as ``depthzoo predict`` wants them: the image, a name and where to write the outputs.

    Outputs are written at the ground truth's size (``height``, ``width``), which is the image's own size unless the
    protocol crops it; ``intrinsics`` (when the dataset has them) are scaled from the network input to that size, so
    a point cloud back-projected from the written depth map uses the camera of that map.

    Args:
        dataset: a reader with an evaluation transform (or a ``Subset`` of one).
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, position: int) -> dict[str, Any]:
        sample = self.dataset[position]
        reader, index = self.dataset, position
        if isinstance(reader, Subset):
            reader, index = reader.dataset, reader.indices[position]
        height, width = sample["depth"].shape[-2:]
        out = {
            "image": sample["image"], "index": sample["index"], "name": reader.sample_name(index),
            "height": height, "width": width,
        }
        if sample.get("intrinsics") is not None:
            camera = Intrinsics(*sample["intrinsics"].tolist(), *sample["image"].shape[-2:])
            out["intrinsics"] = torch.from_numpy(camera.resized(height, width).as_array())
        return out


