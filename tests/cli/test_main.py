"""``depthzoo``: subcommands found in their folder, and user errors as one ``error:`` line with exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from depthzoo.cli import main
from depthzoo.cli.commands import COMMANDS
from depthzoo.cli.main import load_commands


def test_every_cli_module_registers_its_commands() -> None:
    load_commands()
    assert {"fit", "validate", "test", "predict", "configs", "data", "convert-fcrn"} <= set(COMMANDS)


def test_help_lists_the_commands(capsys: pytest.CaptureFixture) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for line in ("depthzoo fit|validate|test|predict", "depthzoo configs", "depthzoo convert-fcrn SRC OUT"):
        assert line in out


def test_unknown_command_suggests(capsys: pytest.CaptureFixture) -> None:
    assert main(["confgs"]) == 2
    assert "error: unknown command 'confgs'. Did you mean: configs?" in capsys.readouterr().err


def test_a_user_error_is_one_line_and_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.npy"
    assert main(["convert-fcrn", str(missing), str(tmp_path / "out.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "missing.npy" in err and "Traceback" not in err
    assert main(["--debug", "convert-fcrn", str(missing), str(tmp_path / "out.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.rstrip().splitlines()[-1].startswith("error: ")


def test_unknown_config_name_is_a_user_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["fit", "--config", "quickstrat"]) == 2
    err = capsys.readouterr().err
    assert "no shipped config of that name" in err and "quickstart" in err


def test_every_command_answers_help(capsys) -> None:
    load_commands()
    for name in COMMANDS:
        try:
            status = main([name, "--help"])
        except SystemExit as exc:  # LightningCLI's parser exits itself after printing its help
            status = exc.code
        assert status in (0, None), name
        assert "usage" in capsys.readouterr().out.lower(), name
