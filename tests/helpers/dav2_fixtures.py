"""Test helpers: the Depth Anything V2 release layout (names and shapes) and random weights written in it.

``data/dav2_vits_state_dict.txt`` lists the 239 tensors of the released ViT-S file (a fact copied from the release).
:func:`release_layout` derives the layout of any size from the architecture facts (encoder width, blocks, DPT
widths); the test suite checks that it reproduces the ViT-S listing exactly before trusting it for Base and Large.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import torch

LISTING = Path(__file__).parent / "data" / "dav2_vits_state_dict.txt"

# width, blocks, DPT features, out_channels, intermediate blocks (the facts table of the releases).
SIZES = {
    "vits": (384, 12, 64, (48, 96, 192, 384), (2, 5, 8, 11)),
    "vitb": (768, 12, 128, (96, 192, 384, 768), (2, 5, 8, 11)),
    "vitl": (1024, 24, 256, (256, 512, 1024, 1024), (4, 11, 17, 23)),
}


def vits_listing() -> dict[str, tuple[int, ...]]:
    """The released ViT-S names and shapes, in the file's order."""
    out: dict[str, tuple[int, ...]] = {}
    for line in LISTING.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, shape = line.split("\t")
        out[name] = tuple(ast.literal_eval(shape))
    return out


def release_layout(size: str, readout: bool = False) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a release of ``size`` ("vits", "vitb", "vitl"), built from the architecture facts."""
    width, blocks, features, out_channels, _ = SIZES[size]
    layout: dict[str, tuple[int, ...]] = {
        "pretrained.cls_token": (1, 1, width),
        "pretrained.pos_embed": (1, 1 + 37 * 37, width),
        "pretrained.mask_token": (1, width),
        "pretrained.patch_embed.proj.weight": (width, 3, 14, 14),
        "pretrained.patch_embed.proj.bias": (width,),
    }
    for b in range(blocks):
        p = f"pretrained.blocks.{b}."
        layout.update({
            p + "norm1.weight": (width,), p + "norm1.bias": (width,),
            p + "attn.qkv.weight": (3 * width, width), p + "attn.qkv.bias": (3 * width,),
            p + "attn.proj.weight": (width, width), p + "attn.proj.bias": (width,),
            p + "ls1.gamma": (width,),
            p + "norm2.weight": (width,), p + "norm2.bias": (width,),
            p + "mlp.fc1.weight": (4 * width, width), p + "mlp.fc1.bias": (4 * width,),
            p + "mlp.fc2.weight": (width, 4 * width), p + "mlp.fc2.bias": (width,),
            p + "ls2.gamma": (width,),
        })
    layout["pretrained.norm.weight"] = (width,)
    layout["pretrained.norm.bias"] = (width,)
    h = "depth_head."
    for i, c in enumerate(out_channels):
        layout[f"{h}projects.{i}.weight"] = (c, width, 1, 1)
        layout[f"{h}projects.{i}.bias"] = (c,)
    if readout:
        for i in range(4):
            layout[f"{h}readout_projects.{i}.0.weight"] = (width, 2 * width)
            layout[f"{h}readout_projects.{i}.0.bias"] = (width,)
    c0, c1, _, c3 = out_channels
    layout.update({
        f"{h}resize_layers.0.weight": (c0, c0, 4, 4), f"{h}resize_layers.0.bias": (c0,),
        f"{h}resize_layers.1.weight": (c1, c1, 2, 2), f"{h}resize_layers.1.bias": (c1,),
        f"{h}resize_layers.3.weight": (c3, c3, 3, 3), f"{h}resize_layers.3.bias": (c3,),
    })
    for i, c in enumerate(out_channels, start=1):
        layout[f"{h}scratch.layer{i}_rn.weight"] = (features, c, 3, 3)
    for k in range(1, 5):
        r = f"{h}scratch.refinenet{k}."
        layout[r + "out_conv.weight"] = (features, features, 1, 1)
        layout[r + "out_conv.bias"] = (features,)
        for unit in ("resConfUnit1", "resConfUnit2"):
            for conv in ("conv1", "conv2"):
                layout[f"{r}{unit}.{conv}.weight"] = (features, features, 3, 3)
                layout[f"{r}{unit}.{conv}.bias"] = (features,)
    layout.update({
        f"{h}scratch.output_conv1.weight": (features // 2, features, 3, 3),
        f"{h}scratch.output_conv1.bias": (features // 2,),
        f"{h}scratch.output_conv2.0.weight": (32, features // 2, 3, 3),
        f"{h}scratch.output_conv2.0.bias": (32,),
        f"{h}scratch.output_conv2.2.weight": (1, 32, 1, 1),
        f"{h}scratch.output_conv2.2.bias": (1,),
    })
    return layout


def random_release(size: str = "vits", seed: int = 0, readout: bool = False) -> dict[str, torch.Tensor]:
    """Float32 tensors in the release layout, scaled so that activations stay O(1) and the output varies.

    Linear and conv weights ~ N(0, 1/fan_in), norms near identity, LayerScale 0.1-0.3, a position embedding large
    enough that its interpolation rule visibly changes the output, and a last conv whose output spans a few units
    (so neither the ReLU nor the sigmoid of the head saturates everywhere).
    """
    rng = np.random.default_rng(seed)
    out: dict[str, torch.Tensor] = {}
    for name, shape in release_layout(size, readout).items():
        last = name.rsplit(".", 1)[-1]
        if name.endswith(("cls_token", "mask_token")):
            value = rng.normal(0.0, 0.5, shape)
        elif name.endswith("pos_embed"):
            value = rng.normal(0.0, 1.0, shape)
        elif last == "gamma":
            value = rng.uniform(0.1, 0.3, shape)
        elif ("norm" in name) and last == "weight":
            value = 1.0 + rng.normal(0.0, 0.1, shape)
        elif last == "bias":
            value = rng.normal(0.0, 0.05, shape)
        elif "resize_layers.0" in name or "resize_layers.1" in name:  # transposed convs: (in, out, k, k)
            value = rng.normal(0.0, 1.0 / np.sqrt(shape[0]), shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        out[name] = torch.from_numpy(np.asarray(value, dtype=np.float32))
    out["depth_head.scratch.output_conv2.2.bias"] = torch.tensor([0.3])
    return out


def save_release(path: Path, tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``tensors`` as the release does: ``torch.save(state_dict)``."""
    torch.save(tensors, path)
    return path
