"""Fixtures of the reliability tests: a tiny model file, and the ``depthzoo`` command run in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightning.pytorch  # noqa: F401  (its log handlers bind to the session's stderr, not to one test's capture)
import pytest
from cli_checks import TINY_ENCODER

from depthzoo.cli import main


@pytest.fixture(scope="session")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A depthzoo model file of the tiny test architecture (random weights are enough to predict with)."""
    from depthzoo.models import create_model
    from depthzoo.weights.model_file import save_model

    return save_model(create_model(TINY_ENCODER, "fast_upproj"), tmp_path_factory.mktemp("model") / "tiny.safetensors")


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str]]:
    """Run ``depthzoo ARGS`` in-process, in the test's own folder; returns (exit status, stderr), stdout discarded."""
    monkeypatch.chdir(tmp_path)  # what a run writes beside itself (config.yaml) stays out of the checkout

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        status = main([str(a) for a in args])
        return status, capsys.readouterr().err

    return run


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command gets as far as loading the model's weights."""
    import depthzoo.task

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded before the outputs were checked")

    monkeypatch.setattr(depthzoo.task.DepthTask, "_load_weights", refuse)
