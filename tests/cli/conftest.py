"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from depthzoo.synthetic import write_synthetic_nyu


@pytest.fixture(scope="module")
def tiny_nyu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 synthetic rooms at 48x64 in the NYU .mat layout: 9 train (3 batches of 3), 3 test."""
    return write_synthetic_nyu(tmp_path_factory.mktemp("syn") / "tiny.mat", num=12, seed=3, height=48, width=64,
                               test_fraction=0.25)
