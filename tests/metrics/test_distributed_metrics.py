"""Two real gloo processes over halves of a dataset give the single-process metrics (sum reduction, no padding)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader, Dataset

from depthzoo.datamodules.samplers import DistributedEvalSampler, make_eval_sampler
from depthzoo.metrics import DepthMetrics

WORLD_SIZE = 2
AVERAGES = ("image", "pixel")


class Scenes(Dataset):
    """7 samples (odd, so a padding sampler would repeat one) with different valid counts; two have none."""

    def __len__(self) -> int:
        return 7

    def __getitem__(self, index: int) -> tuple[int, torch.Tensor, torch.Tensor]:
        generator = torch.Generator().manual_seed(100 + index)
        target = torch.rand(1, 12, 16, generator=generator, dtype=torch.float64) * 9 + 0.5
        target[torch.rand(target.shape, generator=generator) < index / 8] = 0.0
        if index in (2, 5):
            target[:] = 0.0
        pred = target.clamp(min=1.0) * (0.8 + 0.4 * torch.rand(target.shape, generator=generator, dtype=torch.float64))
        return index, pred, target


class EdgeScenes(Dataset):
    """7 dense scenes with depth steps at different places, for the boundary errors; one flat, one all invalid."""

    def __len__(self) -> int:
        return 7

    def __getitem__(self, index: int) -> tuple[int, torch.Tensor, torch.Tensor]:
        generator = torch.Generator().manual_seed(200 + index)
        target = torch.full((1, 24, 32), 2.0, dtype=torch.float64)
        target[..., 8 + index :] = 4.0 + index / 4
        target[..., 18:, :12] = 1.5  # a near box in the corner
        if index == 3:
            target[:] = 3.0  # no edge
        if index == 5:
            target[:] = 0.0  # no valid pixel
        pred = torch.roll(target, shifts=index % 3, dims=-1).clamp(min=1.0)
        pred = pred * (1 + 0.02 * torch.rand(target.shape, generator=generator, dtype=torch.float64))
        return index, pred, target


DATASETS = {"standard": Scenes, "boundary": EdgeScenes}


def evaluate(
    loader: DataLoader, boundary: bool = False
) -> tuple[dict[str, dict[str, float]], dict[str, int], list[int]]:
    metrics = {average: DepthMetrics(average=average, boundary=boundary) for average in AVERAGES}
    seen: list[int] = []
    for indices, pred, target in loader:
        seen.extend(indices.tolist())
        for metric in metrics.values():
            metric.update(pred, target)
    values = {average: {k: float(v) for k, v in metric.compute().items()} for average, metric in metrics.items()}
    return values, metrics["image"].summary(), seen


def run_rank(rank: int, port: int, out_dir: str, case: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE)
    try:
        dataset = DATASETS[case]()
        sampler = make_eval_sampler(dataset)
        assert isinstance(sampler, DistributedEvalSampler)
        values, summary, seen = evaluate(DataLoader(dataset, batch_size=2, sampler=sampler), case == "boundary")
        gathered: list = [None] * WORLD_SIZE
        dist.all_gather_object(gathered, {"values": values, "summary": summary, "seen": seen})
        if rank == 0:
            torch.save(gathered, Path(out_dir) / "ranks.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("case", list(DATASETS))
def test_two_processes_reduce_to_the_single_process_result(tmp_path: Path, case: str) -> None:
    # fork, not spawn: the children inherit the imported torch and torchmetrics instead of spending
    # several seconds each importing them again; gloo is initialised only inside the children.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.start_processes(run_rank, args=(port, str(tmp_path), case), nprocs=WORLD_SIZE, join=True, start_method="fork")
    ranks = torch.load(tmp_path / "ranks.pt", weights_only=True)

    loader = DataLoader(DATASETS[case](), batch_size=2)
    single_values, single_summary, single_seen = evaluate(loader, case == "boundary")
    skipped = {"standard": 2, "boundary": 1}[case]
    assert (single_summary["images_seen"], single_summary["images_skipped"]) == (7, skipped)
    if case == "boundary":  # 6 evaluated, one without an edge
        assert (single_summary["boundary_images"], single_summary["boundary_images_without_edges"]) == (5, 1)
        assert single_values["image"]["dbe_acc"] > 0.3  # most predictions are shifted by 1-2 pixels
    seen = [rank["seen"] for rank in ranks]
    assert seen == [[0, 2, 4, 6], [1, 3, 5]]  # every sample exactly once, rank 0 takes the odd one out
    assert sorted(seen[0] + seen[1]) == single_seen
    for rank in ranks:
        assert rank["summary"] == single_summary  # int64 counters: exactly equal
        for average in AVERAGES:
            # float64 sums added in another order: equal up to rounding of the last bits
            assert rank["values"][average] == pytest.approx(single_values[average], rel=1e-13)
    assert ranks[0]["values"]["image"] != pytest.approx(ranks[0]["values"]["pixel"], rel=1e-6)
