"""What the zero-shot benchmark readers share: a sorted list of samples found on disk, and the not-found error.

Each benchmark set has its own reader module (:mod:`.eth3d`, :mod:`.diode`, :mod:`.ibims`, :mod:`.sintel`,
:mod:`.scannet`); each reads the set in the layout its authors distribute, and never downloads anything. A sample is
the common raw sample of :mod:`depthzoo.datasets.base`, plus where the set has them ``edges`` (annotated depth
edges, bool) and ``masks`` (named bool masks such as iBims-1's planes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from depthzoo.datasets.base import DepthDataset, SampleTransform
from depthzoo.datasets.errors import DatasetNotFoundError
from depthzoo.errors import InvalidArgumentError


@dataclass(frozen=True)
class DatasetInfo:
    """How to tell a user where a set comes from: its name, the layout expected, where to get it, its licence."""

    name: str
    layout: str
    source: str
    licence: str

    def not_found(self, missing: str | Path) -> DatasetNotFoundError:
        """The error for a missing root or file: what is missing, where to download the set, its licence."""
        return DatasetNotFoundError(self.name, missing, self.layout, f"{self.source} (licence: {self.licence})")


class EvaluationDataset(DepthDataset):
    """A test-only reader over ``samples`` (a sorted list of per-sample paths), optionally cut to ``limit``.

    Args:
        root: the folder the set was extracted to.
        transform: applied to each raw sample.
        limit: read only the first ``limit`` samples (quick runs); None: all.
    """

    info: DatasetInfo
    samples: list

    def __init__(self, root: str | Path, transform: SampleTransform | None = None, limit: int | None = None) -> None:
        super().__init__(transform)
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise self.info.not_found(self.root)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise InvalidArgumentError(f"limit must be a positive whole number, got {limit!r}")
        self.limit = limit

    def _found(self, samples: list, what: str) -> None:
        """Keep ``samples`` (sorted, cut to the limit); none found is the not-found error naming ``what``."""
        if not samples:
            raise self.info.not_found(self.root / what)
        self.samples = sorted(samples)[: self.limit]

    def __len__(self) -> int:
        return len(self.samples)

    def sample_name(self, position: int) -> str:
        """The sample's first file, relative to the root and without its suffix."""
        first = self.samples[position][0]
        return str(Path(first).relative_to(self.root).with_suffix(""))


def camera(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """Intrinsics as the float64 (fx, fy, cx, cy) vector of a raw sample."""
    return np.array([fx, fy, cx, cy], dtype=np.float64)
