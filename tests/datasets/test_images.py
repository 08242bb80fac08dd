"""Prediction inputs: folders, lists and single files, with clear errors."""

import numpy as np
import pytest
from PIL import Image

from depthzoo.datasets.images import ImageFiles, find_images


def _write(path, size=(6, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), 255, np.uint8)).save(path)


def test_folder_list_and_file_inputs(tmp_path) -> None:
    _write(tmp_path / "f" / "a.png")
    _write(tmp_path / "f" / "sub" / "b.jpg")
    (tmp_path / "f" / "notes.txt").write_text("not an image list")
    assert [n for _, n in find_images(str(tmp_path / "f"))] == ["a", "sub/b"]
    (tmp_path / "list.txt").write_text("f/a.png\n\nf/sub/b.jpg\n")
    assert [n for _, n in find_images(str(tmp_path / "list.txt"))] == ["a", "b"]


def test_samples_keep_the_original_size(tmp_path) -> None:
    _write(tmp_path / "a.png", size=(6, 8))
    sample = ImageFiles(str(tmp_path / "a.png"), input_size=(12, 16))[0]
    assert sample["image"].shape == (3, 12, 16) and (sample["height"], sample["width"]) == (6, 8)
    assert float(sample["image"].max()) == 1.0


def test_missing_and_clashing_inputs_are_explained(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_images(str(tmp_path / "nope.png"))
    _write(tmp_path / "x" / "a.png")
    _write(tmp_path / "y" / "a.png")
    with pytest.raises(ValueError, match="same outputs"):
        find_images([str(tmp_path / "x" / "a.png"), str(tmp_path / "y" / "a.png")])
