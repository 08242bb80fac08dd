"""``depthzoo export SOURCE OUT``: a model for deployment as ONNX, ``torch.export`` (.pt2) or TorchScript."""

from __future__ import annotations

import argparse

from depthzoo.cli.commands import command
from depthzoo.cli.convert import parse
from depthzoo.export import export_model
from depthzoo.utils.files import check_output_path
from depthzoo.weights.loader import load


def export_parser() -> argparse.ArgumentParser:
    """The options of ``depthzoo export``."""
    parser = argparse.ArgumentParser(
        prog="depthzoo export",
        description="Export a depth model (any source depthzoo.load accepts) for deployment. The exported graph maps "
        "a float32 (B, 3, H, W) RGB batch in [0, 1] (input 'image') to float32 depth (B, 1, H, W) at the input size "
        "(output 'depth'), with the model's normalisation and BatchNorm folded in. The file is checked against "
        "PyTorch after writing (ONNX in onnxruntime, when installed).",
    )
    parser.add_argument("source", help="a known checkpoint name, model file, .ckpt, save_pretrained folder, ...")
    parser.add_argument("out", help="output file: .onnx, .pt2 (torch.export) or .pt (TorchScript)")
    parser.add_argument("--format", choices=("onnx", "pt2", "torchscript"), help="default: from OUT's suffix")
    parser.add_argument("--height", type=int, default=240, help="example (or, not dynamic, fixed) height; 240")
    parser.add_argument("--width", type=int, default=320, help="example (or, not dynamic, fixed) width; 320")
    parser.add_argument("--batch", type=int, default=2, help="example (or, not dynamic, fixed) batch size; 2")
    parser.add_argument(
        "--dynamic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="free batch, height and width (default); --no-dynamic fixes the example's shape",
    )
    parser.add_argument("--native", action="store_true", help="output depth at the decoder's resolution")
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (18 or higher); 18")
    parser.add_argument("--no-verify", action="store_true", help="skip running the file against PyTorch")
    parser.add_argument("--overwrite", "--force", action="store_true", help="replace OUT if it exists")
    return parser


@command("export", "export SOURCE OUT [--format onnx|pt2|torchscript] [--height H --width W]",
         "export a model to ONNX, torch.export (.pt2) or TorchScript", 25)
def export_command(argv: list[str]) -> int:
    """Run ``depthzoo export``; returns the exit status."""
    args = parse(export_parser(), argv)
    if isinstance(args, int):
        return args
    check_output_path(args.out, args.overwrite)  # before the model is read
    model = load(args.source)
    result = export_model(
        model,
        args.out,
        format=args.format,
        height=args.height,
        width=args.width,
        batch=args.batch,
        dynamic=args.dynamic,
        native=args.native,
        opset=args.opset,
        overwrite=args.overwrite,
        verify=not args.no_verify,
    )
    print(result.summary())
    return 0


__all__ = ["export_command", "export_parser"]
