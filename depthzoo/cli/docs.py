"""``depthzoo docs``: build or serve the documentation site (MkDocs) of a source checkout."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.cli.convert import parse
from depthzoo.utils.extras import require_extra

SOURCE_ROOT = Path(__file__).resolve().parents[2]


def docs_parser() -> argparse.ArgumentParser:
    """The options of ``depthzoo docs``."""
    parser = argparse.ArgumentParser(
        prog="depthzoo docs",
        description="Serve the documentation site locally (mkdocs serve: it rebuilds on every change), or build it "
        "(mkdocs build --strict: a broken reference or link is an error). Needs a source checkout (mkdocs.yml and "
        "docs/) and the docs extra: pip install -e '.[docs]'.",
    )
    parser.add_argument("action", nargs="?", choices=("serve", "build"), default="serve", help="default: serve")
    parser.add_argument("--port", type=int, default=8000, help="serve: the port; 8000")
    parser.add_argument("--site-dir", default=None, help="build: the output folder; default site/ in the checkout")
    return parser


def mkdocs_command(action: str, port: int = 8000, site_dir: str | None = None) -> list[str]:
    """The mkdocs command line of ``depthzoo docs ACTION``, run in the checkout."""
    if action == "build":
        return [sys.executable, "-m", "mkdocs", "build", "--strict", *(["--site-dir", site_dir] if site_dir else [])]
    return [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"]


@command("docs", "docs [serve|build] [--port P]", "serve (or build) the documentation site of a source checkout", 90)
def docs_command(argv: list[str]) -> int:
    """Run ``depthzoo docs``; returns mkdocs' exit status."""
    args = parse(docs_parser(), argv)
    if isinstance(args, int):
        return args
    if not (SOURCE_ROOT / "mkdocs.yml").is_file():
        raise CommandLineError(
            "the documentation sources are not installed with the package (no mkdocs.yml beside it)",
            fix="run it in a source checkout installed with pip install -e '.[docs]'",
        )

    require_extra("mkdocs", "material", "mkdocstrings", extra="docs", purpose="the documentation site")
    site_dir = str(Path(args.site_dir).resolve()) if args.site_dir else None
    return subprocess.call(mkdocs_command(args.action, args.port, site_dir), cwd=SOURCE_ROOT)


__all__ = ["docs_command", "docs_parser", "mkdocs_command"]
