"""``depthzoo demo``: the web demo (Gradio) on this machine's models; see :mod:`depthzoo.demo`."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.cli.convert import parse


def demo_parser() -> argparse.ArgumentParser:
    """The options of ``depthzoo demo``."""
    # deferred: the demo and picture modules import torch; `depthzoo --help` should not pay for it
    from depthzoo.demo.pipeline import DEFAULT_FOV
    from depthzoo.visualize import DEFAULT_CMAP

    parser = argparse.ArgumentParser(
        prog="depthzoo demo",
        description="Start the web demo: an image (upload, paste, webcam) or a video in, depth out, with a 3-D "
        "view, distances for metric models and downloads. It offers the models available here: the --model "
        "sources, known checkpoints and model files in the checkpoint folder, training runs under ./outputs, and "
        "depthzoo models in the Hugging Face cache. Needs the demo extra: pip install 'depthzoo[demo]'.",
    )
    parser.add_argument("--model", action="append", default=[], metavar="SRC",
                        help="a model to offer (repeatable): anything depthzoo.load takes (a model file, a .ckpt, a "
                        "known checkpoint name, a save_pretrained folder, a Hub id); listed first")
    parser.add_argument("--only-given", action="store_true",
                        help="offer only the --model sources (do not look for other models)")
    parser.add_argument("--cmap", default=DEFAULT_CMAP, help=f"colour map of the depth pictures; {DEFAULT_CMAP}")
    parser.add_argument("--max-size", type=int, default=1024,
                        help="long side in pixels of the image the model sees; larger inputs are scaled down for "
                        "the model and their depth is returned at the input's size; 1024")
    parser.add_argument("--max-frames", type=int, default=300, help="frames of a video processed at most; 300")
    parser.add_argument("--fov", type=float, default=DEFAULT_FOV,
                        help=f"horizontal field of view (degrees) for the 3-D view when no focal length is given "
                        f"or estimated; {DEFAULT_FOV:g}")
    parser.add_argument("--device", default="auto", help="where the models run: auto (a GPU when there is one), "
                        "cpu, cuda, cuda:1, ...; auto")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; 127.0.0.1 (this machine only); 0.0.0.0 for the network")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on; 7860")
    parser.add_argument("--share", action="store_true", help="also publish a temporary public link through Gradio "
                        "(off by default: the demo stays on this machine)")
    return parser


def _check(args: argparse.Namespace) -> None:
    from depthzoo.visualize import colormap  # deferred: imports torch and the colour maps

    colormap(args.cmap)  # an unknown name is an error listing the names
    for name in ("max_size", "max_frames"):
        if getattr(args, name) < 1:
            raise CommandLineError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not 0 < args.fov < 180:
        raise CommandLineError(f"--fov must be between 0 and 180 degrees, got {args.fov:g}")
    if not 0 <= args.port < 65536:
        raise CommandLineError(f"--port must be 0..65535, got {args.port}")


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def build_page(args: argparse.Namespace) -> Any:
    """The demo's page (``gr.Blocks``, queue set up) for parsed ``depthzoo demo`` options, not yet launched."""
    _check(args)
    # deferred: the demo package imports torch and the model loaders, needed only once the command runs
    from depthzoo.demo import DemoApp, DemoOptions, ModelCatalogue, discover
    from depthzoo.utils.extras import require_extra

    entries = discover(args.model, search=not args.only_given)
    if not entries:
        raise CommandLineError(
            "no model is available on this machine: pass --model SRC (a model file, a .ckpt, a known checkpoint "
            "name, a Hub id), train one with 'depthzoo fit --config quickstart', or convert a release "
            "('depthzoo convert-fcrn', 'depthzoo convert-depth-anything')"
        )
    require_extra("gradio", extra="demo", purpose="the web demo")
    catalogue = ModelCatalogue(entries, device=_device(args.device))
    options = DemoOptions(cmap=args.cmap, max_size=args.max_size, max_frames=args.max_frames, fov=args.fov)
    print(f"depthzoo demo: {len(entries)} model(s): {', '.join(catalogue.labels())}", flush=True)
    return DemoApp(catalogue, options).build()


def launch(page: Any, args: argparse.Namespace, block: bool = True) -> None:
    """Serve ``page`` at ``--host``/``--port`` (a public link only with ``--share``); ``block`` waits until stopped."""
    page.launch(server_name=args.host, server_port=args.port, share=args.share, show_error=True, inbrowser=False,
                prevent_thread_lock=not block)


@command("demo", "demo [--model SRC ...] [--port P] [--share]",
         "the web demo: image or video in, depth, 3-D view and downloads out (depthzoo[demo])", 40)
def demo_command(argv: list[str]) -> int:
    """Run ``depthzoo demo``; returns the exit status."""
    args = parse(demo_parser(), argv)
    if isinstance(args, int):
        return args
    page = build_page(args)
    # SIGTERM (kill, a service manager) exits like Ctrl-C: cleanly, removing the demo's temporary files.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    launch(page, args)
    return 0


__all__ = ["build_page", "demo_command", "demo_parser", "launch"]
