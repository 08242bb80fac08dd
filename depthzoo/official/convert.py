"""``depthzoo convert-fcrn SRC OUT``: the official FCRN weights -> a depthzoo model file or a Lightning checkpoint.

OUT's suffix picks the format:
- ``.safetensors``: a depthzoo model file (``depthzoo.io.load_model``, ``--model.weights OUT``);
- ``.ckpt``: a Lightning-style checkpoint of a DepthTask (``state_dict`` with the ``model.`` prefix and the
  task's hyper-parameters), for ``depthzoo test --ckpt_path OUT`` and ``DepthTask.load_from_checkpoint``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from depthzoo.models.depth_model import DepthModel

SUFFIXES = (".safetensors", ".ckpt")


def save_lightning_checkpoint(model: DepthModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a checkpoint of a DepthTask whose ``model`` attribute it is (atomically)."""
    import lightning

    path = Path(path).expanduser()
    config = model.config
    checkpoint = {
        "state_dict": {f"model.{key}": value.detach().cpu() for key, value in model.state_dict().items()},
        "hyper_parameters": {
            "encoder": config["encoder"],
            "decoder": config["decoder"],
            "decoder_kwargs": dict(config.get("decoder_kwargs") or {}),
            "pretrained": False,
        },
        "pytorch-lightning_version": lightning.__version__,
        "epoch": 0,
        "global_step": 0,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(checkpoint, partial)
    os.replace(partial, path)
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="depthzoo convert-fcrn",
        description="Convert the official FCRN NYU weights (TensorFlow checkpoint or .npy) to a depthzoo file. "
        "No TensorFlow needed; the .npy is read without running pickled code.",
    )
    parser.add_argument(
        "src",
        help="NYU_FCRN-checkpoint.zip, the checkpoint prefix NYU_FCRN.ckpt (or its .index file or folder), "
        "or NYU_ResNet-UpProj.npy",
    )
    parser.add_argument("out", help="output file: .safetensors (depthzoo model file) or .ckpt (Lightning checkpoint)")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument(
        "--no-verify-checksums", action="store_true", help="skip the TF checkpoint's CRC-32C checks (saves ~1 s)"
    )
    return parser


def convert_command(argv: Sequence[str] | None = None) -> int:
    """Run ``depthzoo convert-fcrn``; returns the exit status (0 ok, 1 failed, 2 bad arguments)."""
    parser = _parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help or a usage error: argparse has printed the message
        return int(exc.code or 0)
    out = Path(args.out).expanduser()
    if out.suffix not in SUFFIXES:
        parser.print_usage(sys.stderr)
        print(f"error: OUT must end in .safetensors or .ckpt, got {out.name!r}", file=sys.stderr)
        return 2
    if out.exists() and not args.force:
        print(f"error: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    from depthzoo.official.fcrn import from_fcrn_official

    try:
        model = from_fcrn_official(args.src, verify_checksums=not args.no_verify_checksums)
    except (OSError, ValueError) as exc:  # missing files, malformed or refused content: the message says which
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if out.suffix == ".safetensors":
        from depthzoo.io import save_model

        save_model(model, out)
        how = f"load it with depthzoo.io.load_model('{out}') or --model.weights {out}"
    else:
        save_lightning_checkpoint(model, out)
        how = f"use it with --ckpt_path {out} or DepthTask.load_from_checkpoint('{out}')"
    params = sum(p.numel() for p in model.parameters())
    config = model.config
    print(
        f"wrote {out}: {config['encoder']} + {config['decoder']}({config.get('decoder_kwargs')}), {params:,} params; "
        f"RGB in [0, 1] at 228x304 -> depth in metres at 128x160; {how}"
    )
    return 0


__all__ = ["convert_command", "save_lightning_checkpoint"]
