"""The shipped example images are the renderer's rooms, byte for byte in pixels, with their camera."""

from __future__ import annotations

import numpy as np
from PIL import Image

from depthzoo.demo.examples import EXAMPLE_SIZE, example_focal, example_paths, render_examples
from depthzoo.geometry import NYU_INTRINSICS


def test_shipped_examples_are_the_rendered_rooms(tmp_path) -> None:
    rendered = render_examples(tmp_path)
    for shipped, fresh in zip(example_paths(), rendered, strict=True):
        pixels = np.asarray(Image.open(shipped))
        assert pixels.shape == (*EXAMPLE_SIZE, 3), shipped
        assert np.array_equal(pixels, np.asarray(Image.open(fresh))), (
            f"{shipped.name} is not what the renderer draws now: run "
            "'python -c \"from depthzoo.demo.examples import render_examples; render_examples(overwrite=True)\"'"
        )
    assert example_focal() == NYU_INTRINSICS.fx * EXAMPLE_SIZE[1] / NYU_INTRINSICS.width
