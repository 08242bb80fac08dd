"""Principle 4: images are decoded as the user sees them.

EXIF orientation is applied, 16-bit and float images are scaled from their own range, and every decoding error is
a DepthzooError that names the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from depthzoo.datasets.errors import CorruptDataError
from depthzoo.datasets.images import ImageFiles
from depthzoo.errors import DepthzooError

EXIF_ORIENTATION = 0x0112


def _quadrants(height: int, width: int) -> np.ndarray:
    """Four flat colours, one per quadrant, so an orientation survives JPEG compression."""
    image = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    image[:h, :w], image[:h, w:], image[h:, :w], image[h:, w:] = (250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0)
    return image


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    """Listed: a portrait photo (stored landscape, EXIF orientation 6) gave a depth map in sensor orientation."""
    stored = _quadrants(32, 48)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # the viewer turns the stored picture 90 degrees clockwise
    Image.fromarray(stored).save(tmp_path / "portrait.jpg", quality=95, exif=exif)
    sample = ImageFiles(str(tmp_path / "portrait.jpg"))[0]
    assert (sample["height"], sample["width"]) == (48, 32)  # the written depth map gets this size
    shown = np.rot90(stored, k=-1).astype(np.float32) / 255  # clockwise, computed independently
    decoded = sample["image"].permute(1, 2, 0).numpy()
    away_from_edges = np.ones((48, 32), bool)
    away_from_edges[20:28], away_from_edges[:, 12:20] = False, False  # JPEG blurs colours across quadrant edges
    np.testing.assert_allclose(decoded[away_from_edges], shown[away_from_edges], atol=0.06)


def test_16_bit_grey_images_are_scaled_not_saturated(tmp_path: Path) -> None:
    """Listed: a 16-bit grayscale PNG saturated 99.6 % of its pixels on conversion to RGB."""
    values = np.random.default_rng(0).integers(0, 65536, (30, 40)).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "grey16.png")
    image = ImageFiles(str(tmp_path / "grey16.png"))[0]["image"]
    expected = values.astype(np.float32) / np.float32(65535)
    for channel in image:
        np.testing.assert_array_equal(channel.numpy(), expected)  # full 16-bit precision, no clipping
    assert float((image == 1.0).float().mean()) < 0.01


def test_a_decompression_bomb_names_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listed: a decompression-bomb image gave a raw PIL error without the file name."""
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # 2000 pixels: over twice the limit, as for a real bomb
    with pytest.raises(CorruptDataError, match=r"refused to decode an image this large .*bomb\.png.*MAX_IMAGE_PIXELS"):
        ImageFiles(str(tmp_path / "bomb.png"))[0]


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize("case", ["rgb16", "float_in_range", "float_out_of_range", "truncated", "not_an_image"])
def test_other_images_decode_exactly_or_fail_naming_the_file(tmp_path: Path, case: str) -> None:
    """Not listed: float TIFFs are read as [0, 1] intensities (they were cut to black or white), 16-bit colour is
    scaled to 8 bits, and every other decoding failure names its file."""
    path = tmp_path / f"{case}.tiff"
    values = np.random.default_rng(1).random((12, 16)).astype(np.float32)
    if case == "rgb16":
        import cv2

        rgb = np.random.default_rng(2).integers(0, 65536, (12, 16, 3)).astype(np.uint16)
        cv2.imwrite(str(path.with_suffix(".png")), rgb[..., ::-1])  # OpenCV writes BGR
        image = ImageFiles(str(path.with_suffix(".png")))[0]["image"].permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(image, (rgb >> 8).astype(np.float32) / 255)
        return
    if case == "float_in_range":
        Image.fromarray(values).save(path)
        image = ImageFiles(str(path))[0]["image"]
        np.testing.assert_array_equal(image[0].numpy(), values)
        return
    if case == "float_out_of_range":
        Image.fromarray(values * 255).save(path)
    elif case == "truncated":
        Image.fromarray((values * 255).astype(np.uint8)).save(path)
        path.write_bytes(path.read_bytes()[:100])
    else:
        path.write_bytes(b"this is text, not a picture")
    with pytest.raises(CorruptDataError) as info:
        ImageFiles(str(path))[0]
    assert isinstance(info.value, DepthzooError) and str(path) in str(info.value)
