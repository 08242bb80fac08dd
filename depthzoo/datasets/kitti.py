"""KITTI Eigen-split reader: raw left-camera images plus the annotated depth PNGs, KB-cropped to 352 x 1216.

Annotated depth is uint16 with ``metres = value / 256`` and 0 = invalid. Both image and depth are cropped to
the KITTI-benchmark ("KB") window: bottom-aligned, horizontally centred, ``top = H - 352``,
``left = (W - 1216) // 2`` -- the crop BTS, AdaBins and the Toolbox train and evaluate on.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import ListDataset, Sample, SampleTransform
from depthzoo.datasets.errors import DatasetNotFoundError, ShapeMismatchError, SplitListError
from depthzoo.datasets.imageio import valid_depth
from depthzoo.datasets.splits import MissingPolicy, read_list, resolve_entries

KB_CROP_HEIGHT = 352
KB_CROP_WIDTH = 1216
KITTI_UNITS_PER_METRE = 256.0

KITTI_LAYOUT = """\
<raw_root>/                                   KITTI raw data (synced + rectified)
  2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069.png
  ...
<gt_root>/                                    data_depth_annotated, train/ and val/ drive folders MERGED
  2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02/0000000069.png   uint16, metres = value / 256"""
KITTI_SOURCE = (
    "raw data: https://www.cvlibs.net/datasets/kitti/raw_data.php ; annotated depth (data_depth_annotated.zip): "
    "https://www.cvlibs.net/datasets/kitti/eval_depth.php?benchmark=depth_prediction"
)


def kb_crop_box(height: int, width: int) -> tuple[int, int]:
    """(top, left) of the 352 x 1216 KB crop for an image of the given size."""
    if height < KB_CROP_HEIGHT or width < KB_CROP_WIDTH:
        raise ShapeMismatchError(
            f"KITTI image of shape ({height}, {width}) is smaller than the {KB_CROP_HEIGHT} x {KB_CROP_WIDTH} KB crop"
        )
    return height - KB_CROP_HEIGHT, (width - KB_CROP_WIDTH) // 2


def kb_crop(array: np.ndarray) -> np.ndarray:
    """The KB crop of an (H, W, ...) array (a view)."""
    top, left = kb_crop_box(array.shape[0], array.shape[1])
    return array[top : top + KB_CROP_HEIGHT, left : left + KB_CROP_WIDTH]


class KITTIEigen(ListDataset):
    """KITTI Eigen split with annotated ground truth, KB-cropped.

    Args:
        raw_root: KITTI raw root (``<date>/<drive>/image_02/data/%010d.png``).
        gt_root: annotated-depth root with train/ and val/ drives merged (``<drive>/proj_depth/groundtruth/...``).
        split: which shipped Eigen list to use when ``list_file`` is None ("train": 23,158, "test": 697 lines).
        list_file: a list of your own in the BTS format (``rgb gt|None focal``).
        missing_files: "raise" (default) or "skip" lines naming missing files; reported once with line numbers.

    Lines whose GT is ``None`` (45 of the 697 Eigen test lines) cannot be evaluated: they are skipped and their
    count is reported once, in a warning at construction and in ``num_without_gt`` (652 test images remain).
    The focal length of each sample is the one on its list line (the crop does not change it).
    """

    units_per_metre = KITTI_UNITS_PER_METRE

    def __init__(
        self,
        raw_root: str | Path,
        gt_root: str | Path,
        split: Literal["train", "test"] = "test",
        list_file: str | Path | None = None,
        transform: SampleTransform | None = None,
        missing_files: MissingPolicy = "raise",
    ) -> None:
        super().__init__(split, list_file, f"kitti_eigen_{split}", transform)
        self.raw_root = self.rgb_root = Path(raw_root).expanduser()
        self.gt_root = Path(gt_root).expanduser()
        for name, root in (("raw images", self.raw_root), ("annotated depth", self.gt_root)):
            if not root.is_dir():
                raise DatasetNotFoundError(f"KITTI {name}", root, KITTI_LAYOUT, KITTI_SOURCE)
        entries = read_list(self.list_file)
        with_gt = [e for e in entries if e.depth is not None]
        self.num_without_gt = len(entries) - len(with_gt)
        if self.num_without_gt:
            warnings.warn(
                f"{self.list_file}: {self.num_without_gt} of {len(entries)} lines have no ground truth ('None') "
                f"and are skipped; {len(with_gt)} samples remain.",
                UserWarning,
                stacklevel=2,
            )
        if not with_gt:
            raise SplitListError(f"{self.list_file}: no line has ground truth; nothing to train or evaluate on")
        self.entries = resolve_entries(with_gt, self.list_file, self.raw_root, self.gt_root, missing_files)

    @override
    def load(self, position: int) -> Sample:
        image, depth, entry, where = self.read_entry(position)
        try:
            image, depth = np.ascontiguousarray(kb_crop(image)), np.ascontiguousarray(kb_crop(depth))
        except ShapeMismatchError as exc:
            raise ShapeMismatchError(f"{where}: {exc}") from exc
        depth, valid = valid_depth(depth)
        return {"image": image, "depth": depth, "valid": valid, "index": position, "focal": entry.focal}
