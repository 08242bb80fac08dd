"""DPT beside FCRN: parameters, forward GFLOPs, CPU forward and forward+backward time, peak memory.

Cases: Depth Anything V2 Small's architecture (``vit_small_patch14_dinov2`` + ``dpt``, the release's position rule) at
518x518 and 266x350, ``resnet50`` + ``dpt`` at 228x304, and FCRN (``resnet50`` + ``fast_upproj``) at 228x304. Each
case runs in its own process (so its peak RSS is its own): forward (eval, no gradients) and forward+backward (train
mode) at batch 1 and 4, median of ``--repeats`` after one warm-up. GFLOPs count matmuls, convolutions and attention
(2 FLOPs per multiply-add, batch 1; interpolations are not counted). Prints a table and each time's ratio to FCRN.

    python benchmarks/bench_dpt.py [--repeats 3] [--threads 2] [--cases vits518,vits266,r50dpt,fcrn]
    python benchmarks/bench_dpt.py --quickstart     # one training step of quickstart_dpt's model beside quickstart's
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

CASES = {
    "vits518": ("DPT + ViT-S/14 (Depth Anything V2 Small)", (518, 518)),
    "vits266": ("DPT + ViT-S/14 (Depth Anything V2 Small)", (266, 350)),
    "r50dpt": ("DPT + ResNet-50", (228, 304)),
    "fcrn": ("FCRN-ResNet50 fast_upproj", (228, 304)),
}


def build(case: str):
    from depthzoo.models import create_model

    if case.startswith("vits"):
        from depthzoo.weights.depth_anything import VARIANTS, create_release_model

        return create_release_model(VARIANTS[0], max_depth=20.0)
    if case == "r50dpt":
        return create_model("resnet50", "dpt")
    return create_model("resnet50", "fast_upproj")


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def median_time(run, repeats: int) -> float:
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        run()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_case(case: str, repeats: int, threads: int) -> dict[str, float]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(threads)
    model = build(case)
    size = CASES[case][1]
    result: dict[str, float] = {"params_m": sum(p.numel() for p in model.parameters()) / 1e6}
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.rand(1, 3, *size))
    result["gflops"] = counter.get_total_flops() / 1e9
    result["rss_model_mb"] = current_rss_mb()
    for batch in (1, 4):
        images = torch.rand(batch, 3, *size)
        model.eval()

        def forward(images: torch.Tensor = images) -> None:
            with torch.no_grad():
                model(images)

        result[f"fwd_{batch}"] = median_time(forward, repeats)
        model.train()

        def forward_backward(images: torch.Tensor = images) -> None:
            model(images).mean().backward()
            model.zero_grad(set_to_none=True)

        result[f"fwdbwd_{batch}"] = median_time(forward_backward, repeats)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def quickstart_steps(repeats: int, threads: int) -> None:
    """AdamW steps of the two quickstart models as their configs train them: batch 16 at 64x96, bf16 autocast."""
    import torch

    from depthzoo.models import create_model

    torch.set_num_threads(threads)
    models = {
        "quickstart: resnet18 (depth 4) + fast_upproj": create_model("resnet18", "fast_upproj", encoder_depth=4),
        "quickstart_dpt: resnet18 + dpt (features 32)": create_model("resnet18", "dpt", features=32, max_depth=10.0),
        "resnet18 + dpt (features 64)": create_model("resnet18", "dpt", features=64, max_depth=10.0),
    }
    images, depth = torch.rand(16, 3, 64, 96), torch.rand(16, 1, 64, 96) * 5 + 1
    times = {}
    for name, model in models.items():
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def step(model: torch.nn.Module = model, optimizer: torch.optim.Optimizer = optimizer) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                pred = model(images)
            target = torch.nn.functional.interpolate(depth, size=pred.shape[-2:], mode="nearest")
            (pred.float() - target).abs().mean().backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        times[name] = median_time(step, repeats)
    first = next(iter(times.values()))
    print("| model | params (M) | train step, batch 16 (s) | ratio |")
    print("|---|--:|--:|--:|")
    for name, seconds in times.items():
        params = sum(p.numel() for p in models[name].parameters()) / 1e6
        print(f"| {name} | {params:.1f} | {seconds:.3f} | {seconds / first:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    parser.add_argument("--quickstart", action="store_true", help="compare the two quickstart models' train steps")
    args = parser.parse_args()
    if args.quickstart:
        from machine import machine_line

        print(f"# {machine_line()}, {args.threads} threads, bf16 autocast, median of {args.repeats}")
        quickstart_steps(args.repeats, args.threads)
        return
    if args.case:
        print(json.dumps(run_case(args.case, args.repeats, args.threads)))
        return
    import torch
    from machine import machine_line

    print(f"# {machine_line()}, torch {torch.__version__}, {args.threads} threads, fp32, median of {args.repeats}")
    results = {}
    for case in args.cases.split(","):
        command = [sys.executable, __file__, "--case", case, "--repeats", str(args.repeats),
                   "--threads", str(args.threads)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[case] = json.loads(output.strip().splitlines()[-1])
    reference = results.get("fcrn")
    print("| model | input | params (M) | GFLOPs | fwd b1 (s) | fwd b4 (s) | fwd+bwd b1 (s) | fwd+bwd b4 (s) "
          "| peak RSS (MB) | over the built model (MB) |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for case, r in results.items():
        name, (height, width) = CASES[case]
        cells = []
        for key in ("fwd_1", "fwd_4", "fwdbwd_1", "fwdbwd_4"):
            ratio = f" ({r[key] / reference[key]:.1f}x)" if reference and case != "fcrn" else ""
            cells.append(f"{r[key]:.2f}{ratio}")
        print(f"| {name} | {height}x{width} | {r['params_m']:.1f} | {r['gflops']:.1f} | " + " | ".join(cells)
              + f" | {r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] - r['rss_model_mb']:.0f} |")


if __name__ == "__main__":
    main()
