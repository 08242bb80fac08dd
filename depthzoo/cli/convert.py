"""``depthzoo convert-*``: a released model's weights -> a depthzoo model file or a Lightning checkpoint.

``convert-fcrn`` takes the official FCRN NYU weights, ``convert-depth-anything`` a Depth Anything V2 release.

OUT's suffix picks the format (:func:`write_model`):
- ``.safetensors``: a depthzoo model file (``depthzoo.load_model``, ``--model.weights OUT``);
- ``.ckpt``: a Lightning checkpoint of a DepthTask, for ``depthzoo test --ckpt_path OUT`` and
  ``DepthTask.load_from_checkpoint``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.models.depth_model import DepthModel
from depthzoo.utils.files import check_output_path

SUFFIXES = (".safetensors", ".ckpt")


def checked_output(out: str | os.PathLike[str], overwrite: bool) -> Path:
    """The output path of a conversion, checked before anything is read: a known suffix, nothing overwritten."""
    path = Path(out).expanduser()
    if path.suffix not in SUFFIXES:
        raise CommandLineError(
            f"OUT must end in .safetensors or .ckpt, got {path.name!r}",
            fix=".safetensors writes a depthzoo model file, .ckpt a Lightning checkpoint",
        )
    return check_output_path(path, overwrite)


def write_model(model: DepthModel, out: str | os.PathLike[str], overwrite: bool = False) -> str:
    """Write ``model`` in the format OUT's suffix names; returns how to use the file."""
    out = checked_output(out, overwrite)
    if out.suffix == ".safetensors":
        from depthzoo.weights.model_file import save_model

        save_model(model, out, overwrite=overwrite)
        return f"load it with depthzoo.load_model('{out}') or --model.weights {out}"
    from depthzoo.weights.lightning import save_lightning_checkpoint

    save_lightning_checkpoint(model, out, overwrite=overwrite)
    return f"use it with --ckpt_path {out} or DepthTask.load_from_checkpoint('{out}')"


def convert(
    args: argparse.Namespace, load: Callable[[], DepthModel], summary: Callable[[DepthModel], str]
) -> int:
    """The steps every ``convert-*`` command shares: check OUT, load, write, and print one line about the result.

    Args:
        args: the parsed ``src``, ``out`` and ``overwrite``.
        load: reads the release (called after OUT is checked, since reading is the slow part).
        summary: what the written model is, for the printed line.
    """
    checked_output(args.out, args.overwrite)  # before the slow read
    model = load()
    how = write_model(model, args.out, args.overwrite)
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: {summary(model)}; {params:,} params; {how}")
    return 0


def conversion_parser(prog: str, description: str, src_help: str) -> argparse.ArgumentParser:
    """The arguments every ``convert-*`` command shares: SRC, OUT and ``--overwrite``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("src", help=src_help)
    parser.add_argument("out", help="output file: .safetensors (depthzoo model file) or .ckpt (Lightning checkpoint)")
    parser.add_argument("--overwrite", "--force", action="store_true", help="replace OUT if it exists")
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """Parsed arguments, or the exit status when argparse has answered itself (``--help``, a usage error)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@command("convert-fcrn", "convert-fcrn SRC OUT", "convert the official FCRN NYU weights (no TensorFlow needed)", 20)
def convert_fcrn_command(argv: list[str]) -> int:
    """Run ``depthzoo convert-fcrn``; returns the exit status."""
    parser = conversion_parser(
        "depthzoo convert-fcrn",
        "Convert the official FCRN NYU weights (TensorFlow checkpoint or .npy) to a depthzoo file. "
        "No TensorFlow needed; the .npy is read without running pickled code.",
        "NYU_FCRN-checkpoint.zip, the checkpoint prefix NYU_FCRN.ckpt (or its .index file or folder), "
        "or NYU_ResNet-UpProj.npy",
    )
    parser.add_argument(
        "--no-verify-checksums", action="store_true", help="skip the TF checkpoint's CRC-32C checks (saves ~1 s)"
    )
    args = parse(parser, argv)
    if isinstance(args, int):
        return args
    from depthzoo.weights.fcrn import from_fcrn_official

    def summary(model: DepthModel) -> str:
        config = model.config
        return (
            f"{config['encoder']} + {config['decoder']}({config.get('decoder_kwargs')}); RGB in [0, 1] at 228x304 -> "
            f"depth in metres at 128x160"
        )

    return convert(args, lambda: from_fcrn_official(args.src, verify_checksums=not args.no_verify_checksums), summary)


@command(
    "convert-depth-anything",
    "convert-depth-anything SRC OUT [--max-depth M]",
    "convert a Depth Anything V2 release (.pth, relative or metric)",
    21,
)
def convert_depth_anything_command(argv: list[str]) -> int:
    """Run ``depthzoo convert-depth-anything``; returns the exit status."""
    parser = conversion_parser(
        "depthzoo convert-depth-anything",
        "Convert a Depth Anything V2 release (Small, Base or Large; relative or metric) to a depthzoo file. The "
        "relative and metric files have the same tensor names, so --max-depth alone picks the head: without it the "
        "relative head (ReLU, affine-invariant inverse depth), with it the metric head (sigmoid x max-depth metres). "
        "The .pth is read with weights_only=True: a pickle with code in it is refused and nothing runs.",
        "depth_anything_v2_vit{s,b,l}.pth (relative) or depth_anything_v2_metric_{hypersim,vkitti}_vit{s,b,l}.pth",
    )
    parser.add_argument(
        "--max-depth",
        type=float,
        default=None,
        help="build the metric head, sigmoid x MAX_DEPTH metres: 20 for the Hypersim (indoor) releases, 80 for the "
        "VKITTI (outdoor) ones; omit it for the relative releases",
    )
    args = parse(parser, argv)
    if isinstance(args, int):
        return args
    from depthzoo.weights.depth_anything import describe_head, from_depth_anything_v2

    def summary(model: DepthModel) -> str:
        chosen = "--max-depth chose it" if args.max_depth is not None else "pass --max-depth for a metric release"
        return (
            f"{model.config['weights_from']}, {model.config['encoder']} + dpt, licence {model.config['license']}; "
            f"built the {describe_head(model)} (the file cannot tell: {chosen}); RGB in [0, 1], any size "
            f"(multiples of 14 as released; others padded and cropped)"
        )

    return convert(args, lambda: from_depth_anything_v2(args.src, max_depth=args.max_depth), summary)


__all__ = [
    "checked_output",
    "conversion_parser",
    "convert",
    "convert_depth_anything_command",
    "convert_fcrn_command",
    "parse",
    "write_model",
]
