"""``KITTIDataModule``: KITTI raw images with the annotated depth of the Eigen split, KB-cropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depthzoo.datamodules.base import DepthDataModule, Split
from depthzoo.datasets.base import DepthDataset, SampleTransform
from depthzoo.datasets.kitti import KITTIEigen
from depthzoo.transforms.resize import Interpolation


class KITTIDataModule(DepthDataModule):
    """KITTI Eigen split (annotated GT), KB-cropped to 352x1216 for training and evaluation.

    Training: KB crop, optional ``resize``, the paper's augmentation, random crop to ``input_size`` (default
    352x704, as BTS). Evaluation: the image is the KB crop (resized to ``resize`` if given); the GT is the KB crop
    at full resolution, on which the metric applies the Garg crop (the AdaBins/Toolbox protocol). Test lines
    without GT are skipped and counted (652 of the 697 Eigen test lines remain). Validation uses the test split
    unless ``val_fraction`` > 0 holds out part of the train split.

    Args:
        raw_root: the KITTI raw data folder (``<date>/<drive>/image_02/data/*.png``).
        gt_root: the annotated depth folder (``<drive>/proj_depth/groundtruth/image_02/*.png``).
        train_list: a list file of your own in the BTS format (``rgb gt|None focal``); default the shipped Eigen list.
        test_list: the same for the test split; default the shipped Eigen test list.
        batch_size: samples per training batch.
        input_size: (height, width) of the training crop out of the 352x1216 KB crop.
        resize: (height, width) images are resized to first; None keeps the KB crop's size.
        interpolation: image resize filter.
        **kwargs: the shared options of :class:`DepthDataModule` (workers, augmentation, validation).
    """

    max_depth = 80.0
    eval_crop = "garg"
    crop_eval_image = False
    dense_ground_truth = False  # projected LiDAR: no depth edges to evaluate

    def __init__(
        self,
        raw_root: str,
        gt_root: str,
        train_list: str | None = None,
        test_list: str | None = None,
        batch_size: int = 4,
        input_size: tuple[int, int] = (352, 704),
        resize: tuple[int, int] | None = None,
        interpolation: Interpolation = "linear",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            batch_size=batch_size, input_size=input_size, resize=resize, interpolation=interpolation, **kwargs
        )
        self.save_hyperparameters()
        self.raw_root = Path(raw_root).expanduser()
        self.gt_root = Path(gt_root).expanduser()
        self.train_list, self.test_list = train_list, test_list

    def _reader(
        self, split: Split, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        list_file = self.train_list if split == "train" else self.test_list
        return KITTIEigen(self.raw_root, self.gt_root, split, list_file, transform, self.missing_files)
