"""Depth pictures: colour map order, invalid pixels, 16-bit millimetre files."""

import numpy as np
import pytest
from PIL import Image

from depthzoo.errors import InvalidArgumentError
from depthzoo.visualize import COLORMAP, colorize, colormap, depth_panel, list_colormaps, save_depth_png16


def test_colorize_orders_depth_by_colour_and_blacks_out_invalid() -> None:
    depth = np.array([[1.0, 2.0, 3.0, 0.0, np.nan]])
    rgb = colorize(depth, vmin=1.0, vmax=3.0)
    assert rgb[0, 0].tolist() == COLORMAP[0].tolist() and rgb[0, 2].tolist() == COLORMAP[255].tolist()
    assert rgb[0, 1].tolist() == COLORMAP[128].tolist()  # (2 - 1) / 2 * 255 = 127.5 rounds to 128
    assert rgb[0, 3].tolist() == [0, 0, 0] and rgb[0, 4].tolist() == [0, 0, 0]
    luminance = COLORMAP.astype(float) @ [0.299, 0.587, 0.114]
    assert np.all(np.diff(luminance) > -1.0)  # perceptually ordered: brightness never drops noticeably


def test_panel_puts_input_truth_and_prediction_side_by_side() -> None:
    panel = depth_panel(np.random.rand(3, 8, 10), np.full((8, 10), 2.0), np.full((4, 5), 2.0))
    assert panel.shape == (4, 15, 3)


def test_png16_is_millimetres_with_zero_for_invalid(tmp_path) -> None:
    path = save_depth_png16(np.array([[1.2344, 0.0, np.inf, 70.0]]), tmp_path / "d.png")
    values = np.asarray(Image.open(path))
    assert values.dtype == np.uint16 and values.tolist() == [[1234, 0, 0, 65535]]


# Matplotlib's viridis and magma tables (_cm_listed.py), entries 0, 128 and 255, as floats in [0, 1].
MATPLOTLIB = {
    "viridis": {
        0: (0.267004, 0.004874, 0.329415),
        128: (0.127568, 0.566949, 0.550556),
        255: (0.993248, 0.906157, 0.143936),
    },
    "magma": {0: (0.001462, 0.000466, 0.013866)},
}


def test_colour_maps_are_matplotlibs_tables() -> None:
    for name, entries in MATPLOTLIB.items():
        table = colormap(name)
        assert table.shape == (256, 3) and table.dtype == np.uint8
        for index, rgb in entries.items():
            assert table[index].tolist() == np.round(np.array(rgb) * 255).astype(int).tolist(), (name, index)
    assert np.array_equal(COLORMAP, colormap("viridis"))  # the default did not change
    assert colormap("gray")[:, 0].tolist() == list(range(256)) and np.array_equal(colormap("viridis_r"), COLORMAP[::-1])
    assert {"viridis", "magma", "inferno", "plasma", "turbo", "jet", "gray"} <= set(list_colormaps())


def test_colorize_takes_a_colour_map_and_keeps_scaling_and_black_invalid() -> None:
    depth = np.array([[1.0, 2.0, 3.0, 0.0, np.inf]])
    rgb = colorize(depth, vmin=1.0, vmax=3.0, cmap="magma")
    magma = colormap("magma")
    assert rgb[0, :3].tolist() == magma[[0, 128, 255]].tolist() and rgb[0, 3:].tolist() == [[0, 0, 0]] * 2
    ramp = np.linspace(1.0, 5.0, 101)[None]  # default range: the 2nd-98th percentiles of the valid pixels
    assert colorize(ramp, cmap="gray")[0, :, 0].tolist() == colorize(ramp, 1.08, 4.92, cmap="gray")[0, :, 0].tolist()
    with pytest.raises(InvalidArgumentError, match="unknown colour map 'virdis'. Did you mean: viridis"):
        colorize(depth, cmap="virdis")
