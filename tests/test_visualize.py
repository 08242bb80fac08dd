"""Depth pictures: colour map order, invalid pixels, 16-bit millimetre files."""

import numpy as np
import pytest
from PIL import Image

from depthzoo.errors import InvalidArgumentError
from depthzoo.visualize import (
    COLORMAP,
    HEADER_HEIGHT,
    ROW_GAP,
    colorbar,
    colorize,
    colormap,
    depth_panel,
    error_map,
    list_colormaps,
    save_depth_png16,
    tick_label,
    to_uint8_rgb,
    validation_panel,
)


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


def test_vertical_colour_bar_runs_the_table_from_low_at_the_bottom_to_high_at_the_top() -> None:
    bar = colorbar(1.0, 5.0, 60, "magma", unit="m")
    table = colormap("magma")
    assert bar.shape[0] == 60 and bar.dtype == np.uint8
    assert bar[0, 0].tolist() == table[255].tolist() and bar[-1, 0].tolist() == table[0].tolist()
    # three ticks (60 >= 48 pixels): the labels are drawn in black to the right of the 10-pixel bar
    labels = bar[:, 14:]
    assert (labels < 100).all(axis=-1).any() and (labels[:, -1] == 255).all()
    # under 48 pixels only the ends are labelled: "1 m" and "4 m", without the wider "2.5 m"
    assert colorbar(1.0, 4.0, 40, unit="m").shape[1] < colorbar(1.0, 4.0, 60, unit="m").shape[1]


def test_horizontal_colour_bar_and_custom_labels() -> None:
    bar = colorbar(0.0, 1.0, 200, "viridis", labels=["near", "far"], vertical=False, thickness=8)
    assert bar.shape[1] == 200 and bar[0, 0].tolist() == COLORMAP[0].tolist()
    assert bar[0, -1].tolist() == COLORMAP[255].tolist()
    assert (bar[10:] < 100).all(axis=-1).any()  # the labels, below the bar
    assert tick_label(0.5, "m") == "0.5 m" and tick_label(123.456, "%") == "123 %"


def test_validation_panel_titles_columns_and_its_bars_read_the_maps() -> None:
    rng = np.random.default_rng(0)
    target = np.linspace(1.0, 5.0, 50 * 64, dtype=np.float32).reshape(50, 64)
    pred = target * 1.15  # 15 % too far everywhere: half-way along the error bar
    image = rng.random((3, 50, 64))
    panel = validation_panel([image, image], [target, target], [pred, pred], edges=False)
    assert panel.shape[0] == HEADER_HEIGHT + 2 * 50 + ROW_GAP
    row = panel[HEADER_HEIGHT : HEADER_HEIGHT + 50]
    assert np.array_equal(row[:, :64], to_uint8_rgb(image))
    vmin, vmax = np.percentile(target, [2, 98])
    assert np.array_equal(row[:, 64:128], colorize(target, vmin, vmax))
    bar = row[:, 192:202]  # the metres bar after the prediction: its top is the colour of vmax, its bottom vmin's
    assert bar[0, 0].tolist() == colorize(np.array([[vmax]]), vmin, vmax)[0, 0].tolist()
    assert bar[-1, 0].tolist() == colorize(np.array([[vmin]]), vmin, vmax)[0, 0].tolist()
    error_start = 192 + np.argmax((row[:, 192:] != 255).any(axis=-1).all(axis=0)[30:]) + 30  # after the bar's labels
    error_tile = row[:, error_start : error_start + 64]
    assert (error_tile == error_map(pred, target)).all()
    error_bar = row[:, error_start + 64 : error_start + 74]
    middle = error_bar[25, 0]  # 15 % of a 0-30 % bar: the table's middle, as the 15 % tiles are coloured
    assert np.abs(middle.astype(int) - error_tile[0, 0].astype(int)).max() <= 12
    header = panel[:HEADER_HEIGHT]
    for column in (slice(0, 64), slice(64, 128), slice(128, 192), slice(error_start, error_start + 64)):
        assert (header[:, column] < 128).any()  # a title over each map
    assert (panel[HEADER_HEIGHT + 50 : HEADER_HEIGHT + 50 + ROW_GAP] == 255).all()
