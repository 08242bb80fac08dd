"""Forward+backward time of each decoder, and of the whole model, at the FCRN paper's sizes.

Decoders get the ResNet-50 feature pyramid of a batch of 4 at 228x304 (64 x 114 x 152 ... 2048 x 8 x 10; the FCRN
decoders read only the last level, the skip-connection ones all of them); the whole model gets the images.
Prints a table with the fast/slow ratios (target: fast_upproj at most 0.4x upproj).

    python benchmarks/bench_decoders.py [--repeats 7] [--threads 2] [--batch 4] [--channels-last] [--bf16]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from depthzoo.models import create_model  # noqa: E402
from depthzoo.models.decoders import build_decoder  # noqa: E402

RESNET50_CHANNELS = [64, 256, 512, 1024, 2048]
RESNET50_REDUCTIONS = [2, 4, 8, 16, 32]
RESNET50_SIZES = [(114, 152), (57, 76), (29, 38), (15, 19), (8, 10)]  # at 228x304
PAIRS = {"fast_upconv": "upconv", "fast_upproj": "upproj"}


def time_fwd_bwd(module: torch.nn.Module, make_input, repeats: int, autocast: bool) -> float:
    """Median seconds of forward + backward (after one warm-up)."""
    module.train()
    times = []
    for i in range(repeats + 1):
        inputs = make_input()
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = module(inputs)
        out.float().mean().backward()
        elapsed = time.perf_counter() - start
        module.zero_grad(set_to_none=True)
        if i:
            times.append(elapsed)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--no-model", action="store_true", help="decoders only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format

    def features():
        return [
            torch.randn(args.batch, c, h, w).to(memory_format=fmt).requires_grad_()
            for c, (h, w) in zip(RESNET50_CHANNELS, RESNET50_SIZES)
        ]

    def images():
        return torch.rand(args.batch, 3, 228, 304).to(memory_format=fmt)

    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} threads, "
          f"batch {args.batch}, 228x304 input, {'bf16 autocast' if args.bf16 else 'fp32'}, "
          f"{'channels_last' if args.channels_last else 'NCHW'}, median of {args.repeats}")
    rows = []
    decoder_times: dict[str, float] = {}
    for name in ["upconv", "fast_upconv", "upproj", "fast_upproj", "deconv", "fcrn_skip", "unet"]:
        decoder = build_decoder(name, RESNET50_CHANNELS, RESNET50_REDUCTIONS).to(memory_format=fmt)
        decoder_times[name] = time_fwd_bwd(decoder, features, args.repeats, args.bf16)
        model_time = None
        if not args.no_model:
            model = create_model("resnet50", name).to(memory_format=fmt)
            model_time = time_fwd_bwd(model, images, max(3, args.repeats // 2), args.bf16)
        rows.append((name, decoder_times[name], model_time))
    print("| decoder | decoder fwd+bwd (ms) | fast/slow | whole model fwd+bwd (ms) |")
    print("|---|---:|---:|---:|")
    for name, dec, full in rows:
        ratio = f"{dec / decoder_times[PAIRS[name]]:.2f}" if name in PAIRS else ""
        full_text = f"{full * 1000:.0f}" if full is not None else "-"
        print(f"| {name} | {dec * 1000:.0f} | {ratio} | {full_text} |")


if __name__ == "__main__":
    main()
