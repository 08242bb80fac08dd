"""``depthzoo``: finds the subcommands in this folder, dispatches, and turns user errors into one ``error:`` line."""

from __future__ import annotations

import os
import sys
import traceback

from depthzoo.cli.commands import COMMANDS
from depthzoo.errors import DepthzooError
from depthzoo.registry import import_submodules, unknown_name_message
from depthzoo.version import __version__

DEBUG_FLAG = "--debug"
DEBUG_ENV = "DEPTHZOO_DEBUG"


def usage() -> str:
    """The top-level help: one line per registered subcommand."""
    load_commands()
    rows = sorted((c for c in COMMANDS.values() if c.usage), key=lambda c: (c.order, c.name))
    lines = [f"  depthzoo {c.usage}\n      {c.summary}" for c in rows]
    return (
        f"depthzoo {__version__}: monocular depth estimation model zoo\n\nusage:\n" + "\n".join(lines) + "\n"
        f"  depthzoo --version\n\n'depthzoo SUBCOMMAND --help' shows every option of a subcommand; "
        f"{DEBUG_FLAG} (or {DEBUG_ENV}=1) shows the traceback of an error.\n"
    )


def load_commands() -> None:
    """Import every module of :mod:`depthzoo.cli`, so each registers its subcommands (imports are cached)."""
    import_submodules("depthzoo.cli")


def main(args: list[str] | None = None) -> int:
    """Run ``depthzoo`` with ``args`` (default: the command line); returns the exit status."""
    from_shell = args is None
    argv = list(sys.argv[1:] if from_shell else args)
    debug = DEBUG_FLAG in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    argv = [a for a in argv if a != DEBUG_FLAG]
    if from_shell:  # Lightning's DDP launcher re-runs sys.argv: keep it equal to what is parsed
        sys.argv[1:] = argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] in ("--version", "-V"):
        print(f"depthzoo {__version__}")
        return 0
    load_commands()
    name = argv[0]
    if name not in COMMANDS:
        print(f"error: {unknown_name_message('command', name, COMMANDS)} See 'depthzoo --help'.", file=sys.stderr)
        return 2
    try:
        return COMMANDS[name].run(argv[1:])
    except DepthzooError as exc:
        if debug:
            traceback.print_exc()
        summary, *details = str(exc).split("\n")
        for line in details:  # context such as an expected folder layout, above the one error line
            print(line, file=sys.stderr)
        print(f"error: {summary}", file=sys.stderr)
        return 2
    except OSError as exc:  # the system refused a file operation (permissions, a full disk, a vanished file)
        if debug:
            traceback.print_exc()
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}: run with {DEBUG_FLAG} to see where", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


__all__ = ["load_commands", "main", "usage"]
