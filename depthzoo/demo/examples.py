"""The demo's example images: rooms of the built-in synthetic dataset, rendered by depthzoo (no licence to respect).

They ship as PNG files in ``depthzoo/demo/examples/``; :func:`render_examples` makes them again exactly (a test
checks that the shipped files are its output). Their camera is known: NYU Depth v2's, scaled to the image size, as
the renderer uses it.
"""

from __future__ import annotations

import os
from pathlib import Path

from depthzoo.geometry import NYU_INTRINSICS
from depthzoo.synthetic import render_scene
from depthzoo.visualize import save_png

EXAMPLES = {"room_a": (7, 1), "room_b": (7, 4), "room_c": (7, 5)}
"""Example name -> (seed, index) of the synthetic room it shows."""
EXAMPLE_SIZE = (240, 320)
"""(height, width) of the example images."""
EXAMPLE_DIR = Path(__file__).resolve().parent / "examples"


def example_focal() -> float:
    """The focal length in pixels of the example images (the renderer's camera)."""
    return NYU_INTRINSICS.scaled(*EXAMPLE_SIZE).fx


def example_paths() -> list[Path]:
    """The shipped example files, in :data:`EXAMPLES` order."""
    return [EXAMPLE_DIR / f"{name}.png" for name in EXAMPLES]


def render_examples(folder: str | os.PathLike[str] = EXAMPLE_DIR, overwrite: bool = False) -> list[Path]:
    """Render the example rooms into ``folder`` as PNG files; returns their paths."""
    paths = []
    for name, (seed, index) in EXAMPLES.items():
        rgb, _, _ = render_scene(seed, index, *EXAMPLE_SIZE)
        paths.append(save_png(rgb, Path(folder) / f"{name}.png", overwrite=overwrite))
    return paths


__all__ = ["EXAMPLES", "EXAMPLE_SIZE", "example_focal", "example_paths", "render_examples"]
