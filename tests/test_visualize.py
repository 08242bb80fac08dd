"""Depth pictures: colour map order, invalid pixels, 16-bit millimetre files."""

import numpy as np
from PIL import Image

from depthzoo.visualize import COLORMAP, colorize, depth_panel, save_depth_png16


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
