"""``depthzoo data synth``: write the built-in synthetic dataset (random NYU-like rooms), as a .mat or a folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.synthetic import split_indices, write_synthetic_folder, write_synthetic_nyu


def synth_parser() -> argparse.ArgumentParser:
    """The options of ``depthzoo data synth``."""
    parser = argparse.ArgumentParser(
        prog="depthzoo data synth",
        description="Render a synthetic indoor depth dataset of random NYU-like rooms into a MATLAB v7.3 file "
        "with the layout of NYU Depth v2's labelled .mat (images, depths, rawDepths, trainNdxs, "
        "testNdxs). The last test-fraction of the images is the test split.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output .mat file (or folder with --layout folder)")
    parser.add_argument(
        "--layout",
        choices=("mat", "folder"),
        default="mat",
        help="'mat': one file in the NYU labelled .mat layout (default); 'folder': rgb/, depth/, raw_depth/ files "
        "with train.txt and test.txt lists, the layout FolderDataModule reads",
    )
    parser.add_argument(
        "--depth-format",
        choices=("png", "npy", "tiff"),
        default="png",
        help="--layout folder: depth files as 16-bit PNG millimetres (default), or float32 .npy or TIFF metres",
    )
    parser.add_argument("--num", type=int, default=600, help="number of images (default: 600)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; image i depends only on (seed, i)")
    parser.add_argument("--height", type=int, default=240, help="image height in pixels (default: 240)")
    parser.add_argument("--width", type=int, default=320, help="image width in pixels (default: 320)")
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=0.1,
        help="fraction of images, taken from the end, in the test split (default: 0.1)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


@command("data", "data synth --out PATH [--num N] [--seed S]", "write the built-in synthetic dataset", order=30)
def data_command(argv: list[str]) -> int:
    """``depthzoo data synth``: write the synthetic dataset; prints the file path. Returns the exit status."""
    if argv[:1] in (["-h"], ["--help"]):
        synth_parser().print_help()
        return 0
    if argv[:1] != ["synth"]:
        raise CommandLineError(
            "usage: depthzoo data synth --out PATH [--num N] [--seed S] [--height H] [--width W]",
            fix="'synth' is the only data subcommand",
        )
    parser = synth_parser()
    try:
        args = parser.parse_args(argv[1:])
    except SystemExit as exc:
        return int(exc.code or 0)
    start = time.perf_counter()
    options = dict(num=args.num, seed=args.seed, height=args.height, width=args.width,
                   test_fraction=args.test_fraction, overwrite=args.overwrite, progress=not args.quiet)
    if args.layout == "folder":
        path = write_synthetic_folder(args.out, depth_format=args.depth_format, **options)
        size_mb = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    else:
        path = write_synthetic_nyu(args.out, **options)
        size_mb = path.stat().st_size / 1e6
    train, test = split_indices(args.num, args.test_fraction)
    print(
        f"wrote {path} ({args.num} images of {args.height}x{args.width}: {train.size} train, {test.size} test; "
        f"{size_mb:.1f} MB in {time.perf_counter() - start:.1f} s)",
        file=sys.stderr,
    )
    print(path)
    return 0


__all__ = ["data_command", "synth_parser"]
