"""A distributed sampler for evaluation that gives every sample to exactly one process.

``torch.utils.data.DistributedSampler`` pads the dataset by repeating samples until it divides evenly
across processes, which changes per-image means (654 NYU or 652 KITTI test images on 4 processes would count
2 or 4 images twice). :class:`DistributedEvalSampler` does what BTS' ``DistributedSamplerNoEvenlyDivisible``
does: no padding, ranks below the remainder get one extra sample, and no shuffling. It subclasses
``DistributedSampler`` so that Lightning keeps it instead of inserting its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import torch.distributed as dist
from torch.utils.data import DistributedSampler


class DistributedEvalSampler(DistributedSampler):
    """Strided, unpadded, unshuffled split of ``dataset``: rank r gets indices r, r + R, r + 2R, ...

    ``num_replicas`` and ``rank`` default to the initialised process group's world size and rank.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=False)
        self.total_size = len(dataset)
        self.num_samples = len(range(self.rank, self.total_size, self.num_replicas))

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.total_size, self.num_replicas))


def make_eval_sampler(dataset: Sized) -> DistributedEvalSampler | None:
    """A :class:`DistributedEvalSampler` when a process group with more than one process is running, else None.

    Pass the result as ``sampler=`` of validation, test and predict DataLoaders (None is the DataLoader default).
    """
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return DistributedEvalSampler(dataset)
    return None
