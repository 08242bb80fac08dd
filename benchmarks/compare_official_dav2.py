"""depthzoo's Depth Anything V2 against the official code, side by side on the same weights (run locally, not a test).

The tests prove the loader against an independent forward pass written from the published facts
(``tests/helpers/dav2_reference.py``). This script checks the same thing against the authors' own code: it builds the
official ``DepthAnythingV2`` (relative, from ``depth_anything_v2/``) and the metric one (``metric_depth/``) from a
local checkout of https://github.com/DepthAnything/Depth-Anything-V2, gives them random weights (every tensor
perturbed, so no layer is an identity), saves their ``state_dict`` as the released ``.pth`` files are saved, loads
those files with ``depthzoo.load`` and compares the depth of both on the same images at the release's sizes.

The official model takes ImageNet-normalised images whose sides are multiples of 14; a depthzoo model takes RGB in
[0, 1] and normalises itself. Nothing of the official code is copied here: it is imported from the checkout.

Usage: python benchmarks/compare_official_dav2.py --official PATH [--variant vits] [--sizes 518x518 364x490]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

import depthzoo

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
WIDTHS = {  # the released configurations (features, out_channels), from the official README
    "vits": (64, [48, 96, 192, 384]),
    "vitb": (128, [96, 192, 384, 768]),
    "vitl": (256, [256, 512, 1024, 1024]),
}


def official_class(checkout: Path, metric: bool) -> type[torch.nn.Module]:
    """``DepthAnythingV2`` of the checkout's relative or metric package (both are named ``depth_anything_v2``)."""
    root = checkout / "metric_depth" if metric else checkout
    for name in [m for m in sys.modules if m == "depth_anything_v2" or m.startswith("depth_anything_v2.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        from depth_anything_v2.dpt import DepthAnythingV2
    finally:
        sys.path.remove(str(root))
    return DepthAnythingV2


@torch.no_grad()
def perturb(model: torch.nn.Module, seed: int) -> None:
    """Random weights for every tensor: the initialisation plus noise (LayerScale, norms and biases included)."""
    generator = torch.Generator().manual_seed(seed)
    for tensor in model.state_dict().values():
        if tensor.is_floating_point():
            scale = 0.02 if tensor.ndim > 1 else 0.1
            tensor.add_(torch.randn(tensor.shape, generator=generator) * scale)


def compare(checkout: Path, variant: str, metric: bool, sizes: list[tuple[int, int]], folder: Path) -> None:
    features, out_channels = WIDTHS[variant]
    kwargs = {"encoder": variant, "features": features, "out_channels": out_channels}
    if metric:
        kwargs["max_depth"] = 20.0
    official = official_class(checkout, metric)(**kwargs).eval()
    perturb(official, seed=7)
    name = f"depth_anything_v2_metric_hypersim_{variant}.pth" if metric else f"depth_anything_v2_{variant}.pth"
    path = folder / name
    torch.save(official.state_dict(), path)
    ours = depthzoo.load(path, max_depth=20.0 if metric else None).eval()
    kind = "metric (sigmoid x 20 m)" if metric else "relative (ReLU disparity)"
    for height, width in sizes:
        image = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(height * width))
        with torch.no_grad():
            theirs = official((image - MEAN) / STD)
            mine = ours(image)[:, 0]
        difference = (mine - theirs).abs()
        print(
            f"| {variant} | {kind} | {height}x{width} | {float(theirs.abs().max()):.4g} | "
            f"{float(difference.max()):.2e} | {float(difference.max() / theirs.abs().max()):.2e} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=Path, required=True, help="a checkout of DepthAnything/Depth-Anything-V2")
    parser.add_argument("--variant", default="vits", choices=sorted(WIDTHS))
    parser.add_argument("--sizes", nargs="+", default=["518x518", "364x490"], help="HxW, multiples of 14")
    args = parser.parse_args()
    if not (args.official / "depth_anything_v2" / "dpt.py").is_file():
        parser.error(f"{args.official} is not a checkout of Depth-Anything-V2 (no depth_anything_v2/dpt.py)")
    sizes = [tuple(int(v) for v in size.lower().split("x")) for size in args.sizes]
    torch.manual_seed(0)
    torch.set_num_threads(2)
    print(f"# torch {torch.__version__}, float32, CPU; batch of 2 random images per size")
    print("| variant | head | size | max official depth | max abs difference | relative to max |")
    print("|---|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for metric in (False, True):
            compare(args.official, args.variant, metric, sizes, Path(folder))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
