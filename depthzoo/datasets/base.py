"""The common shape of every depth reader: ``load`` gives a raw numpy sample, ``__getitem__`` transforms it.

A raw sample is a dict::

    image  uint8   (H, W, 3)  RGB
    depth  float32 (H, W)     metres, 0 where invalid
    valid  bool    (H, W)     depth is finite and > 0
    index  int                position in the dataset (0 .. len-1), unique per sample
    focal  float              focal length in pixels of ``image``

Transforms (``depthzoo.transforms.pipelines``) turn it into tensors: image float32 (3,H,W) in [0,1], depth
float32 (1,H,W), valid bool (1,H,W), with the same ``index`` and a ``focal`` scaled with any resize.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.utils.data import Dataset

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

    def __getitem__(self, position: int) -> Sample:
        size = len(self)
        if position < 0:
            position += size
        if not 0 <= position < size:
            raise IndexError(f"{type(self).__name__} index {position} out of range for {size} samples")
        sample = self.load(int(position))
        return sample if self.transform is None else self.transform(sample)
