"""The common shape of every depth reader: ``load`` gives a raw numpy sample, ``__getitem__`` transforms it.

A raw sample is a dict::

    image  uint8   (H, W, 3)  RGB
    depth  float32 (H, W)     metres, 0 where invalid
    valid  bool    (H, W)     depth is finite and > 0
    index  int                position in the dataset (0 .. len-1), unique per sample
    focal  float              focal length in pixels of ``image`` (NaN where the dataset does not know it)
    intrinsics  float64 (4,)  optional: fx, fy, cx, cy of ``image`` in pixels (see ``depthzoo.geometry``)

Transforms (``depthzoo.transforms.pipelines``) turn it into tensors: image float32 (3,H,W) in [0,1], depth
float32 (1,H,W), valid bool (1,H,W), with the same ``index``, a ``focal`` scaled with any resize and, for
evaluation, ``intrinsics`` as float64 (fx, fy, cx, cy) following the resize and crop of the image.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from torch.utils.data import Dataset

from depthzoo.datasets.imageio import read_pair
from depthzoo.datasets.splits import ResolvedEntry, shipped_list
from depthzoo.errors import InvalidArgumentError

Sample = dict[str, Any]
SampleTransform = Callable[[Sample], Sample]


class DepthDataset(Dataset):
    """Base class of the readers. Subclasses implement ``__len__`` and ``load``."""

    def __init__(self, transform: SampleTransform | None = None) -> None:
        self.transform = transform

    def __len__(self) -> int:
        raise NotImplementedError

    def load(self, position: int) -> Sample:
        """Read sample ``position`` (0 <= position < len) as a raw numpy sample."""
        raise NotImplementedError

    def sample_name(self, position: int) -> str:
        """A name for the outputs written for sample ``position`` (``depthzoo predict``): its position by default."""
        return f"{position:06d}"

    def __getitem__(self, position: int) -> Sample:
        size = len(self)
        if position < 0:
            position += size
        if not 0 <= position < size:
            raise IndexError(f"{type(self).__name__} index {position} out of range for {size} samples")
        sample = self.load(int(position))
        return sample if self.transform is None else self.transform(sample)


class ListDataset(DepthDataset):
    """Readers of ``rgb depth focal`` list files (NYU sync, KITTI): one sample per resolved list line.

    Subclasses set ``entries`` (:func:`depthzoo.datasets.splits.resolve_entries`) and the class attribute
    ``units_per_metre`` of their 16-bit depth PNGs, and build samples with :meth:`read_entry`.

    Args:
        split: "train" or "test".
        list_file: a list file of the user's; None takes the shipped list named ``shipped``.
        shipped: the name of the shipped list to use by default (see :func:`depthzoo.datasets.splits.shipped_list`).
        transform: applied to each raw sample.
    """

    units_per_metre: ClassVar[float]
    entries: list[ResolvedEntry]
    rgb_root: Path | None = None
    """The folder the list's RGB paths are relative to (output names keep the sub-folders below it)."""

    def __init__(
        self, split: str, list_file: str | Path | None, shipped: str, transform: SampleTransform | None = None
    ) -> None:
        super().__init__(transform)
        if split not in ("train", "test"):
            raise InvalidArgumentError(f"split must be 'train' or 'test', got {split!r}")
        self.split = split
        self.list_file = Path(list_file) if list_file is not None else shipped_list(shipped)

    def __len__(self) -> int:
        return len(self.entries)

    def sample_name(self, position: int) -> str:
        """The RGB file's path as the list writes it, without its suffix (sub-folders kept)."""
        path = self.entries[position].rgb_path
        if self.rgb_root is not None and path.is_relative_to(self.rgb_root):
            return str(path.relative_to(self.rgb_root).with_suffix(""))
        return f"{position:06d}_{path.stem}"

    def read_entry(self, position: int) -> tuple[np.ndarray, np.ndarray, ResolvedEntry, str]:
        """(RGB uint8, depth float32 metres, the entry, "list, line N") of line ``position``; errors name the line."""
        entry = self.entries[position]
        where = f"{self.list_file}, line {entry.line}"
        image, depth = read_pair(entry.rgb_path, entry.depth_path, self.units_per_metre, where)
        return image, depth, entry, where
