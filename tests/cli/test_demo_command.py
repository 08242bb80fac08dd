"""``depthzoo demo`` on the command line: its help without Gradio, and one ``error:`` line for each mistake."""

from __future__ import annotations

import importlib.util

import pytest

from depthzoo.cli import main


def test_help_needs_no_gradio(capsys) -> None:
    assert main(["demo", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--model SRC", "--max-size", "--max-frames", "--cmap", "--host", "--port", "--share", "--fov"):
        assert option in text


def test_missing_extra_names_the_install_command(monkeypatch, capsys) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a))
    assert main(["demo", "--model", "m.safetensors"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: the web demo needs gradio, which is not installed: install the demo extra: "
        "pip install 'depthzoo[demo]'"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only-given"], "error: no model is available on this machine: pass --model SRC"),
        (["--model", "m", "--cmap", "virdis"], "error: unknown colour map 'virdis'. Did you mean: viridis"),
        (["--model", "m", "--max-size", "0"], "error: --max-size must be at least 1, got 0"),
        (["--model", "m", "--fov", "180"], "error: --fov must be between 0 and 180 degrees, got 180"),
    ],
)
def test_mistakes_are_one_error_line(argv, message, capsys) -> None:
    assert main(["demo", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)
