"""``depthzoo convert SOURCE OUT``, ``convert-fcrn`` and ``convert-depth-anything``: weights -> a depthzoo file.

``convert`` takes any source, ``convert-fcrn`` the official FCRN NYU weights, ``convert-depth-anything`` a Depth
Anything V2 release.

Every command reads its source through :func:`depthzoo.load` (``convert-fcrn`` forces the official FCRN format).
OUT picks what is written (:func:`write_model`):
- ``.safetensors``: a depthzoo model file (``depthzoo.load``, ``--model.weights OUT``);
- ``.ckpt``: a Lightning checkpoint of a DepthTask, for ``depthzoo test --ckpt_path OUT`` and
  ``DepthTask.load_from_checkpoint``;
- a path without a suffix: a ``save_pretrained`` folder (``config.json``, ``model.safetensors`` and a model card
  ``README.md``), ready for ``push_to_hub`` or ``huggingface-cli upload``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.hub import check_pretrained_folder
from depthzoo.models.depth_model import DepthModel
from depthzoo.utils.files import check_output_path
from depthzoo.weights import loader
from depthzoo.weights.depth_anything import describe_head
from depthzoo.weights.lightning import save_lightning_checkpoint
from depthzoo.weights.model_file import save_model

SUFFIXES = (".safetensors", ".ckpt")
OUT_HELP = (
    "output: .safetensors (depthzoo model file), .ckpt (Lightning checkpoint) or a folder path without a suffix "
    "(save_pretrained folder with a model card)"
)


def checked_output(out: str | os.PathLike[str], overwrite: bool) -> Path:
    """The output path of a conversion, checked before anything is read: a known suffix, nothing overwritten."""
    path = Path(out).expanduser()
    if not path.suffix:
        return check_pretrained_folder(path, overwrite)
    if path.suffix not in SUFFIXES:
        raise CommandLineError(
            f"OUT must end in .safetensors or .ckpt, or be a folder path without a suffix, got {path.name!r}",
            fix=".safetensors writes a depthzoo model file, .ckpt a Lightning checkpoint, a folder a save_pretrained "
            "folder",
        )
    return check_output_path(path, overwrite)


def write_model(model: DepthModel, out: str | os.PathLike[str], overwrite: bool = False) -> str:
    """Write ``model`` in the format OUT names; returns how to use the result."""
    out = checked_output(out, overwrite)
    if not out.suffix:
        model.save_pretrained(out, overwrite=overwrite)
        return f"load it with depthzoo.load('{out}'), or upload the folder to the Hugging Face Hub"
    if out.suffix == ".safetensors":
        save_model(model, out, overwrite=overwrite)
        return f"load it with depthzoo.load('{out}') or --model.weights {out}"
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
    parser.add_argument("out", help=OUT_HELP)
    parser.add_argument("--overwrite", "--force", action="store_true", help="replace OUT if it exists")
    return parser


def load_and_write(
    src: str, out: str, overwrite: bool, edit: Callable[[DepthModel], None] | None = None, **options: Any
) -> tuple[DepthModel, str]:
    """What every ``convert-*`` command does; returns the model and how to use the result.

    Checks OUT first, reads SRC through :func:`depthzoo.load` (``options`` are its options), lets ``edit`` adjust the
    model, and writes it.
    """
    checked_output(out, overwrite)  # before the slow read
    model = loader.load(src, **options)
    if edit is not None:
        edit(model)
    return model, write_model(model, out, overwrite)


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
    model, how = load_and_write(
        args.src, args.out, args.overwrite, format="fcrn-official", verify_checksums=not args.no_verify_checksums
    )
    params = sum(p.numel() for p in model.parameters())
    config = model.config
    print(
        f"wrote {args.out}: {config['encoder']} + {config['decoder']}({config.get('decoder_kwargs')}), {params:,} "
        f"params; RGB in [0, 1] at 228x304 -> depth in metres at 128x160; {how}"
    )
    return 0


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
    model, how = load_and_write(
        args.src, args.out, args.overwrite, format="depth-anything-v2", max_depth=args.max_depth
    )
    chosen = "--max-depth chose it" if args.max_depth is not None else "pass --max-depth for a metric release"
    print(
        f"wrote {args.out}: {model.config['weights_from']}, {model.config['encoder']} + dpt, licence "
        f"{model.config['license']}; built the {describe_head(model)} (the file cannot tell: {chosen}); "
        f"{sum(p.numel() for p in model.parameters()):,} params; RGB in [0, 1], any size (multiples of 14 as "
        f"released; others padded and cropped); {how}"
    )
    return 0


@command("convert", "convert SOURCE OUT", "convert any weight source (see depthzoo.load) to a file or a hub folder", 19)
def convert_command(argv: list[str]) -> int:
    """Run ``depthzoo convert``; returns the exit status."""
    parser = conversion_parser(
        "depthzoo convert",
        "Read any weight source depthzoo.load accepts and write it as a depthzoo model file, a Lightning checkpoint "
        "or a save_pretrained folder with a model card.",
        "a known checkpoint name, a save_pretrained folder, a .safetensors model file, a Lightning .ckpt, the "
        "official FCRN release, or a Hugging Face repository id",
    )
    parser.add_argument("--license", help="licence for the model card of a folder output (e.g. mit, apache-2.0)")
    args = parse(parser, argv)
    if isinstance(args, int):
        return args
    def set_license(model: DepthModel) -> None:
        if args.license:
            model.config["license"] = args.license

    model, how = load_and_write(args.src, args.out, args.overwrite, edit=set_license)
    config = model.config
    print(
        f"wrote {args.out}: {config['encoder']} + {config['decoder']} ({config['output_kind']}), "
        f"{sum(p.numel() for p in model.parameters()):,} params; {how}"
    )
    return 0


__all__ = [
    "checked_output",
    "conversion_parser",
    "convert_command",
    "convert_depth_anything_command",
    "convert_fcrn_command",
    "load_and_write",
    "parse",
    "write_model",
]
