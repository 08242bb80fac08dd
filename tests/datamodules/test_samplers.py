"""DistributedEvalSampler: every sample exactly once across ranks, no padding, BTS' split sizes."""

from __future__ import annotations

import socket

import pytest
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler

from depthzoo.datamodules.samplers import DistributedEvalSampler, make_eval_sampler


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
@pytest.mark.parametrize("length", [0, 1, 5, 7, 8, 652, 654])
def test_ranks_partition_the_dataset_without_padding(length: int, world_size: int) -> None:
    dataset = list(range(length))
    samplers = [DistributedEvalSampler(dataset, num_replicas=world_size, rank=rank) for rank in range(world_size)]
    per_rank = [list(sampler) for sampler in samplers]
    assert sorted(index for indices in per_rank for index in indices) == list(range(length))
    remainder = length % world_size
    for rank, (sampler, indices) in enumerate(zip(samplers, per_rank)):
        # BTS' DistributedSamplerNoEvenlyDivisible: floor(N / R), plus one for ranks below the remainder.
        assert len(sampler) == len(indices) == length // world_size + (rank < remainder)
        assert indices == sorted(indices)  # no shuffling


def test_the_torch_sampler_would_duplicate_samples() -> None:
    dataset = list(range(7))
    padded = [index for rank in range(2) for index in DistributedSampler(dataset, 2, rank, shuffle=False)]
    assert len(padded) == 8  # one image counted twice: the reason for DistributedEvalSampler
    ours = [index for rank in range(2) for index in DistributedEvalSampler(dataset, 2, rank)]
    assert sorted(ours) == list(range(7))


def test_it_is_a_distributed_sampler_and_works_in_a_dataloader() -> None:
    sampler = DistributedEvalSampler(list(range(10)), num_replicas=3, rank=2)
    assert isinstance(sampler, DistributedSampler)  # so Lightning keeps it instead of inserting its own
    sampler.set_epoch(5)
    loaded = [int(index) for batch in DataLoader(list(range(10)), batch_size=2, sampler=sampler) for index in batch]
    assert loaded == [2, 5, 8]


def test_an_invalid_rank_is_rejected() -> None:
    with pytest.raises(ValueError, match="Invalid rank"):
        DistributedEvalSampler(list(range(4)), num_replicas=2, rank=2)


def test_make_eval_sampler_needs_more_than_one_process() -> None:
    assert not dist.is_initialized()
    assert make_eval_sampler(list(range(5))) is None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        assert make_eval_sampler(list(range(5))) is None  # a single process needs no sampler
    finally:
        dist.destroy_process_group()
