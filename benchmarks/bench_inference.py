"""CPU inference of FCRN-ResNet-50 ``fast_upproj``: today's fp32 path against the fast modes, side by side.

All modes run in interleaved rounds (A, B, C, ... A, B, C, ...) in one process, so the ratios hold on a shared, noisy
machine; each reports its median round (the ratios and GFLOP/s use it) and its best. Modes:

- ``fp32 NCHW (plain model)``: the model itself in eval mode, as ``predict`` ran before fast inference, and as
  ``predict(precision="fp32")`` runs;
- ``bf16 autocast + channels_last``: without folding, to show what folding adds;
- ``bf16, folded + channels_last, fp32 weights``: folded, but autocast casts every weight at every call;
- ``bf16, folded + channels_last``: ``predict()`` / ``depthzoo predict`` by default on CPUs with native bf16 (bf16
  weights, the stem in fp32);
- ``compile + bf16, folded + channels_last``: ``predict(compile=True)`` (after its one-off compilation).

The conv peaks (one large 3x3 convolution in fp32 and in bf16, channels_last, run 8 times in a row so that a round
lasts about as long as the model's) run as two more modes in the same rounds, so each "% of bf16 conv peak" compares
runs made under the same load. (A single 30 ms convolution's best round catches quiet moments that a 300 ms model
run cannot, and overstated the peak by up to 40 % on a shared VM.) Also: the model's FLOPs, and the bf16
error against fp32 (relative to the largest depth) on a test image.

Usage: python benchmarks/bench_inference.py [--rounds 7] [--threads 2] [--batch 4] [--no-compile] [--weights SRC]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from machine import machine_line  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import depthzoo  # noqa: E402
from depthzoo.inference import FastInference, cpu_flags, native_bf16  # noqa: E402

DEFAULT_SIZE = [228, 304]
SIZE = list(DEFAULT_SIZE)  # the input size, set from the command line


def interleaved(modes: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """The sorted wall times of each mode over ``rounds`` rounds, the modes taking turns within each round."""
    times: dict[str, list[float]] = {name: [] for name in modes}
    with torch.inference_mode():
        for run in modes.values():  # warm-up (and, for compiled modes, compilation)
            run()
        for _ in range(rounds):
            for name, run in modes.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    return {name: sorted(values) for name, values in times.items()}


def median(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


PEAK_REPEATS = 8
PEAK_FLOP = PEAK_REPEATS * 2 * 4 * 256 * 256 * 9 * 64 * 64  # the peak convolutions' multiply-adds, times 2


def conv_peak(dtype: torch.dtype) -> Callable[[], object]:
    """8 runs of a 3x3 256->256 convolution on a 4x256x64x64 channels_last batch (one large oneDNN kernel)."""
    conv = torch.nn.Conv2d(256, 256, 3, padding=1, bias=False).to(memory_format=torch.channels_last).eval()
    x = torch.rand(4, 256, 64, 64).contiguous(memory_format=torch.channels_last)

    def run() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            for _ in range(PEAK_REPEATS):
                conv(x)

    return run


def model_flops(model: torch.nn.Module, batch: int) -> float:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.rand(batch, 3, *SIZE))
    return float(counter.get_total_flops())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile mode")
    parser.add_argument("--weights", help="a depthzoo.load source; default: the official architecture, random")
    parser.add_argument("--size", type=int, nargs=2, default=DEFAULT_SIZE, metavar=("H", "W"), help="228 304")
    args = parser.parse_args()
    SIZE[:] = args.size
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.weights:
        model = depthzoo.load(args.weights)
    else:
        from depthzoo.weights.fcrn import create_official_model

        model = create_official_model().eval()
    print(f"# {machine_line()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    flags = sorted(cpu_flags() & {"avx512_bf16", "amx_bf16", "amx_tile", "avx512f", "avx2"})
    print(f"# CPU flags: {', '.join(flags) or 'none'}; native bf16: {native_bf16()}")
    per_image = model_flops(model, 1)
    print(f"# FCRN forward at {SIZE[0]}x{SIZE[1]}: {per_image / 1e9:.1f} GFLOP per image")

    def plain(images: torch.Tensor) -> torch.Tensor:
        return F.interpolate(model(images), size=images.shape[-2:], mode="bilinear", align_corners=False)

    runners = {
        "bf16 autocast + channels_last": FastInference(model, precision="bf16", fold=False),
        "bf16, folded + channels_last, fp32 weights": FastInference(model, precision="bf16", cast_weights=False),
        "bf16, folded + channels_last": FastInference(model, precision="bf16"),
    }
    if not args.no_compile:
        start = time.perf_counter()
        runners["compile + bf16, folded + channels_last"] = compiled = FastInference(
            model, precision="bf16", compile=True
        )
        compiled(torch.rand(args.batch, 3, *SIZE))
        print(f"# torch.compile: first call (compilation) {time.perf_counter() - start:.0f} s")
    for batch in sorted({args.batch, 1}, reverse=True):
        images = torch.rand(batch, 3, *SIZE)
        modes: dict[str, Callable[[], object]] = {"fp32 NCHW (plain model)": lambda x=images: plain(x)}
        modes.update({name: (lambda r=runner, x=images: r(x)) for name, runner in runners.items()})
        modes.update({"peak fp32": conv_peak(torch.float32), "peak bf16": conv_peak(torch.bfloat16)})
        times = interleaved(modes, args.rounds)
        peaks = {kind: PEAK_FLOP / median(times.pop(f"peak {kind}")) / 1e9 for kind in ("fp32", "bf16")}
        base = median(times["fp32 NCHW (plain model)"])
        print(f"\nbatch {batch} at {SIZE[0]}x{SIZE[1]} (median of {args.rounds} interleaved rounds; best beside it)")
        print(f"3x3 conv peak in the same rounds: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s\n")
        print(
            "| mode | ms | best ms | images/s | speed-up | GFLOP/s | % of bf16 conv peak |\n"
            "|---|---:|---:|---:|---:|---:|---:|"
        )
        for name, values in times.items():
            seconds = median(values)
            rate = per_image * batch / seconds / 1e9
            print(
                f"| {name} | {seconds * 1e3:.0f} | {values[0] * 1e3:.0f} | {batch / seconds:.1f} | "
                f"{base / seconds:.2f}x | {rate:.0f} | {100 * rate / peaks['bf16']:.0f} % |"
            )
    from depthzoo.synthetic import render_scene

    rgb, _, _ = render_scene(seed=2024, index=0, height=SIZE[0], width=SIZE[1])  # a synthetic room, unseen in training
    image = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    fp32 = model.predict(image, precision="fp32")
    with torch.no_grad():
        plain_depth = plain(image)
    print(
        f"\nfp32 mode vs the plain model: max |difference| {float((fp32 - plain_depth).abs().max()):.1e}. "
        f"Against fp32 on a {SIZE[0]}x{SIZE[1]} room image (relative differences of depths above 10 cm):"
    )
    compiled_modes = [False] if args.no_compile else [False, True]
    for compile_mode in compiled_modes:
        bf16 = model.predict(image, precision="bf16", compile=compile_mode)
        error = (bf16 - fp32).abs()
        valid = fp32 > 0.1  # a ReLU output can be 0
        per_pixel = error[valid] / fp32[valid]
        print(
            f"- bf16{', compiled' if compile_mode else ''}: mean (abs_rel) {float(per_pixel.mean()):.3%}, median "
            f"{float(per_pixel.median()):.3%}, 99th percentile {float(per_pixel.quantile(0.99)):.2%}; "
            f"max |difference| / max depth {float(error.max() / fp32.max()):.2%}"
        )

if __name__ == "__main__":
    main()
