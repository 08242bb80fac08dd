"""The registry of ``depthzoo`` subcommands: each module of :mod:`depthzoo.cli` registers its own with ``@command``.

A command is a function ``run(argv: list[str]) -> int`` (the exit status). Every command module is imported to
build the command list, so what takes seconds to import (lightning) is imported inside the function that needs it.
Errors a user can cause are raised as :class:`depthzoo.errors.DepthzooError`; :func:`depthzoo.cli.main` prints them
as one ``error:`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from depthzoo.errors import InvalidArgumentError


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one usage line (empty: not listed), one summary line, and the function that runs it."""

    name: str
    usage: str
    summary: str
    run: Callable[[list[str]], int]
    order: int = 100


COMMANDS: dict[str, Command] = {}


def command(
    name: str, usage: str, summary: str, order: int = 100
) -> Callable[[Callable[[list[str]], int]], Callable[[list[str]], int]]:
    """Decorator registering ``run(argv) -> int`` as ``depthzoo NAME``; ``order`` sorts the help listing."""

    def decorator(run: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
        if name in COMMANDS and COMMANDS[name].run is not run:
            raise InvalidArgumentError(f"depthzoo command {name!r} is registered twice")
        COMMANDS[name] = Command(name, usage, summary, run, order)
        return run

    return decorator


class CommandLineError(InvalidArgumentError):
    """A command-line argument is wrong; printed as ``error: ...`` with exit status 2."""


__all__ = ["COMMANDS", "Command", "CommandLineError", "command"]
