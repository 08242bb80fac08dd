"""``depthzoo configs``, and ``--config NAME``: the experiment configs shipped with depthzoo, by name."""

from __future__ import annotations

import os

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.resources import bundled_dir


def list_configs() -> list[str]:
    """Names of the configs shipped with depthzoo (usable as ``--config NAME``)."""
    return sorted(p.stem for p in bundled_dir("configs").glob("*.yaml"))


def resolve_config_names(argv: list[str]) -> list[str]:
    """Replace ``--config NAME`` by the shipped ``configs/NAME.yaml`` when NAME is not an existing file."""
    resolved = list(argv)
    for i, arg in enumerate(resolved):
        if arg == "--config" and i + 1 < len(resolved):
            resolved[i + 1] = config_path(resolved[i + 1])
        elif arg.startswith("--config="):
            resolved[i] = "--config=" + config_path(arg.split("=", 1)[1])
    return resolved


def config_path(value: str) -> str:
    """``value`` itself when it is a path, else the shipped config of that name."""
    if os.path.exists(value) or os.sep in value or "/" in value:
        return value
    candidate = bundled_dir("configs") / (value if value.endswith((".yaml", ".yml")) else f"{value}.yaml")
    if candidate.is_file():
        return str(candidate)
    raise CommandLineError(
        f"no config file {value!r} and no shipped config of that name",
        fix=f"give a path to a YAML file, or one of: {', '.join(list_configs())}",
    )


@command("configs", "configs", "list the shipped configs (usable as --config NAME)", order=10)
def configs_command(argv: list[str]) -> int:
    """Print the shipped configs' folder and names."""
    if argv in (["-h"], ["--help"]):
        print("usage: depthzoo configs\n\nList the shipped configs; each works as --config NAME in fit, validate, "
              "test, predict and compare.")
        return 0
    if argv:
        raise CommandLineError(f"'depthzoo configs' takes no arguments, got {' '.join(argv)}")
    print(f"shipped configs ({bundled_dir('configs')}):")
    for name in list_configs():
        print(f"  {name}")
    return 0


__all__ = ["config_path", "configs_command", "list_configs", "resolve_config_names"]
