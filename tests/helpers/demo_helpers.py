"""The demo's test model and the headless browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

import depthzoo

TINY_ENCODER = "test_resnet.r160_in1k"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]


def smooth_tiny_model(seed: int = 0, depth: float = 2.0) -> depthzoo.DepthModel:
    """A tiny real FCRN whose depth is ``depth`` metres within about 1 %: the input shows through the head's small
    weights, so the map varies (it is not blank) but has no depth edges, and its 3-D mesh is whole."""
    torch.manual_seed(seed)
    model = depthzoo.create_model(TINY_ENCODER, "fast_upproj")
    with torch.no_grad():
        model.decoder.head_conv.weight.mul_(0.02)
        model.decoder.head_conv.bias.fill_(depth)
    return model.eval()


def save_smooth_tiny_model(folder: Path, name: str = "tiny.safetensors") -> Path:
    """:func:`smooth_tiny_model` as a depthzoo model file."""
    return depthzoo.save_model(smooth_tiny_model(), folder / name)


def chromium() -> str:
    """The browser executable for Playwright, or a skip naming what to install."""
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install playwright")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no Chromium on this machine: apt-get install -y chromium (Debian's package; Playwright's own "
                    "browser download is not used)")
    return path


def launch_browser(playwright):  # noqa: ANN001, ANN201
    """Headless Chromium through Playwright."""
    return playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
