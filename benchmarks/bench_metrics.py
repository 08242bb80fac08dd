"""Cost of DepthMetrics.update next to a network forward pass, as a table.

Times ``DepthMetrics.update`` on a batch of 8 NYU-sized (480x640) float32 depth maps with the Eigen crop, in
per-image and pixel-pooled mode, plus a prediction that needs upsampling, a sparse KITTI-like batch and the
depth-boundary errors on rendered rooms, and compares them with the forward pass of a timm ResNet-50 *encoder*
(``features_only``, no decoder) on a batch of 8 FCRN inputs (228x304) under ``torch.inference_mode``. The full
FCRN model is slower than its encoder, so the printed ratio overstates the real evaluation overhead. Each figure is
the median of ``--repeats`` interleaved runs.

Usage: python benchmarks/bench_metrics.py [--repeats 11] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import timm
import torch
from machine import cpu_name

from depthzoo.metrics import DepthMetrics


def interleaved_medians_ms(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median time of each case over ``rounds`` rounds that run every case once (after one warm-up round).

    Interleaving gives every case the same share of any background load, which keeps the ratios meaningful
    on a shared machine.
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_index in range(rounds + 1):
        for name, function in cases.items():
            start = time.perf_counter()
            function()
            if round_index:
                times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(values) for name, values in times.items()}


def nyu_batch(batch: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(batch, 1, height, width, generator=generator) * 9.5 + 0.5
    target[torch.rand(target.shape, generator=generator) < 0.05] = 0.0  # Kinect-style holes
    pred = target.clamp(min=0.5) * (0.8 + 0.4 * torch.rand(target.shape, generator=generator))
    return pred, target


def room_batch(batch: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rendered rooms (real depth edges, unlike noise) and a blurred prediction: the depth-boundary errors' case."""
    from depthzoo.synthetic import render_scene

    target = torch.stack([torch.from_numpy(render_scene(0, i, height, width)[1]) for i in range(batch)])[:, None]
    pred = torch.nn.functional.avg_pool2d(target, 5, stride=1, padding=2, count_include_pad=False) * 1.05
    return pred, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    pred, target = nyu_batch(8, 480, 640)
    low_res_pred = torch.nn.functional.interpolate(pred, size=(228, 304), mode="bilinear")
    kitti_target = torch.rand(8, 1, 352, 1216, generator=torch.Generator().manual_seed(1)) * 79 + 1
    kitti_target[torch.rand(kitti_target.shape, generator=torch.Generator().manual_seed(2)) < 0.85] = 0.0
    kitti_pred = kitti_target.clamp(min=1.0) * 1.1

    nyu, kitti = "eigen_nyu crop, 8x480x640", "garg crop, sparse KITTI 8x352x1216"
    median_scaled = DepthMetrics(crop="eigen_nyu", median_scaling=True)
    room_pred, room_target = room_batch(8, 480, 640)
    boundary = DepthMetrics(crop="eigen_nyu", boundary=True)
    cases = [
        (f"update, image mode, {nyu}", DepthMetrics(crop="eigen_nyu"), pred, target),
        (f"update, pixel mode, {nyu}", DepthMetrics(crop="eigen_nyu", average="pixel"), pred, target),
        (f"update, image mode, {nyu}, pred 228x304 upsampled", DepthMetrics(crop="eigen_nyu"), low_res_pred, target),
        (f"update, image mode, median scaling, {nyu}", median_scaled, pred, target),
        (f"update, image mode, {kitti}", DepthMetrics(crop="garg", max_depth=80.0), kitti_pred, kitti_target),
        (f"update, image mode, boundary=True, {nyu} of synthetic rooms", boundary, room_pred, room_target),
    ]

    encoder = timm.create_model("resnet50", features_only=True, pretrained=False).eval()
    images = torch.rand(8, 3, 228, 304)

    def encoder_forward() -> None:
        with torch.inference_mode():
            encoder(images)

    reference = "reference: timm resnet50 features_only forward, 8x3x228x304 (encoder only)"
    functions = {reference: encoder_forward}
    functions.update({name: (lambda m=m, p=p, t=t: m.update(p, t)) for name, m, p, t in cases})
    timings = interleaved_medians_ms(functions, args.repeats)
    forward_ms = timings.pop(reference)

    print(f"machine: {cpu_name()}, {args.threads} threads, torch {torch.__version__}")
    print(f"medians of {args.repeats} interleaved runs\n")
    print("| case | time (ms) | share of the encoder forward |")
    print("|---|---:|---:|")
    print(f"| {reference} | {forward_ms:.1f} | 100 % |")
    for name, milliseconds in timings.items():
        print(f"| {name} | {milliseconds:.1f} | {100 * milliseconds / forward_ms:.1f} % |")


if __name__ == "__main__":
    main()
