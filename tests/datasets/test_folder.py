"""Reading your own RGB-D files: every depth format, masks, invalid values, pairing by list or by folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import fakes
import numpy as np
import pytest

from depthzoo.datasets.errors import CorruptDataError, SplitListError
from depthzoo.datasets.folder import FolderDataset, pairs_from_folders, pairs_from_list
from depthzoo.datasets.imageio import read_depth_raw
from depthzoo.errors import DataError, InvalidArgumentError

HEIGHT, WIDTH = 12, 16


def rgb_and_depth(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 9.0, (HEIGHT, WIDTH)).round(3)  # whole millimetres: exact in a 16-bit PNG
    depth[rng.random(depth.shape) < 0.2] = 0.0
    return image, depth


def write_pair(root: Path, stem: str, suffix: str, seed: int) -> np.ndarray:
    """``root/rgb/<stem>.png`` and ``root/depth/<stem><suffix>``; returns the depth in metres."""
    image, depth = rgb_and_depth(seed)
    fakes._write_rgb(root / "rgb" / f"{stem}.png", image)
    fakes.write_depth_file(root / "depth" / f"{stem}{suffix}", depth)
    return depth


@pytest.mark.parametrize("suffix", [".png", ".npy", ".tif", ".tiff"])
def test_every_depth_format_reads_back_in_metres(tmp_path: Path, suffix: str) -> None:
    expected = [write_pair(tmp_path, f"{i:03d}", suffix, seed=i) for i in range(3)]
    pairs = pairs_from_folders(tmp_path / "rgb", tmp_path / "depth", "{stem}" + suffix)
    dataset = FolderDataset(pairs)
    assert len(dataset) == 3 and [p.name for p in pairs] == ["000", "001", "002"]
    for i, depth in enumerate(expected):
        sample = dataset[i]
        np.testing.assert_allclose(sample["depth"], depth, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(sample["valid"], depth > 0)
        assert sample["image"].shape == (HEIGHT, WIDTH, 3) and np.isnan(sample["focal"])
    raw = read_depth_raw(pairs[0].depth_path)
    assert raw.dtype == (np.uint16 if suffix in (".png", ".tiff") else np.float32)


def test_openexr_reads_where_opencv_can_and_says_how_to_enable_it(tmp_path: Path) -> None:
    _, depth = rgb_and_depth(0)
    path = fakes.write_exr(tmp_path / "d.exr", depth)
    try:
        readable = cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is not None
    except cv2.error:
        readable = False
    if readable:  # this process's OpenCV has OpenEXR, enabled
        np.testing.assert_array_equal(read_depth_raw(path), depth.astype(np.float32))
    else:
        with pytest.raises(CorruptDataError, match="OPENCV_IO_ENABLE_OPENEXR=1"):
            read_depth_raw(path)
    # What the message advises: the variable, set before the first EXR read, enables a build that has OpenEXR.
    script = (
        "import sys, cv2; d = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED); print('none' if d is None else d.sum())"
    )
    run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                         env={**os.environ, "OPENCV_IO_ENABLE_OPENEXR": "1"})
    if "OpenEXR:                     NO" in cv2.getBuildInformation():
        assert run.returncode != 0 or run.stdout.strip() == "none"
    else:
        assert float(run.stdout) == pytest.approx(float(depth.astype(np.float32).sum()), rel=1e-6), run.stderr


def test_kitti_scale_invalid_value_nan_and_inf(tmp_path: Path) -> None:
    depth = np.full((HEIGHT, WIDTH), 20.0)
    depth[0, :4] = 0.0
    fakes._write_rgb(tmp_path / "rgb" / "a.png", np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    fakes.write_depth_file(tmp_path / "depth" / "a.png", depth, depth_scale=256.0)
    raw = np.rint(depth * 256).astype(np.uint16)
    raw[1, :3] = 65535  # the sensor's "no return"
    cv2.imwrite(str(tmp_path / "depth" / "a.png"), raw)
    pairs = pairs_from_folders(tmp_path / "rgb", tmp_path / "depth")
    sample = FolderDataset(pairs, depth_scale=256.0, invalid_value=65535).load(0)
    assert sample["depth"][2, 0] == 20.0 and not sample["valid"][0, :4].any() and not sample["valid"][1, :3].any()
    assert sample["valid"].sum() == HEIGHT * WIDTH - 7 and (sample["depth"][~sample["valid"]] == 0).all()
    floats = depth.astype(np.float32)
    floats[3, 3], floats[4, 4], floats[5, 5] = np.nan, np.inf, -1.0
    np.save(tmp_path / "depth" / "b.npy", floats)
    fakes._write_rgb(tmp_path / "rgb" / "b.png", np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    sample = FolderDataset(pairs_from_list(_list(tmp_path, ["rgb/b.png depth/b.npy"]), tmp_path)).load(0)
    assert not sample["valid"][[3, 4, 5], [3, 4, 5]].any() and np.isfinite(sample["depth"]).all()


def _list(root: Path, lines: list[str], name: str = "list.txt") -> Path:
    (root / name).write_text("\n".join(lines) + "\n")
    return root / name


def test_masks_narrow_the_valid_pixels(tmp_path: Path) -> None:
    depth = write_pair(tmp_path, "a", ".png", seed=3)
    mask = np.ones((HEIGHT, WIDTH), np.uint8) * 255
    mask[:, :5] = 0
    (tmp_path / "mask").mkdir()
    cv2.imwrite(str(tmp_path / "mask" / "a_valid.png"), mask)
    pairs = pairs_from_folders(tmp_path / "rgb", tmp_path / "depth", mask_dir=tmp_path / "mask",
                               mask_template="{stem}_valid.png")
    sample = FolderDataset(pairs).load(0)
    np.testing.assert_array_equal(sample["valid"], (depth > 0) & (mask > 0))
    cv2.imwrite(str(tmp_path / "mask" / "a_valid.png"), mask[:, :-1])
    with pytest.raises(DataError, match="mask .* has shape"):
        FolderDataset(pairs).load(0)


def test_one_folder_with_a_depth_template_and_sub_folders(tmp_path: Path) -> None:
    for i, scene in enumerate(["kitchen", "kitchen", "office"]):
        image, depth = rgb_and_depth(i)
        fakes._write_rgb(tmp_path / scene / f"{i:04d}.jpg", image)
        fakes.write_depth_file(tmp_path / scene / f"{i:04d}_depth.png", depth)
    pairs = pairs_from_folders(tmp_path, tmp_path, "{stem}_depth.png")
    assert [p.name for p in pairs] == ["kitchen/0000", "kitchen/0001", "office/0002"]
    assert all(p.depth_path.name.endswith("_depth.png") for p in pairs)


def test_unmatched_pairs_are_listed_with_counts_or_skipped(tmp_path: Path) -> None:
    for i in range(9):
        write_pair(tmp_path, f"{i:02d}", ".png", seed=i)
    for i in range(7):
        (tmp_path / "depth" / f"{i:02d}.png").unlink()
    fakes.write_depth_file(tmp_path / "depth" / "orphan.png", np.ones((HEIGHT, WIDTH)))
    with pytest.raises(SplitListError) as error:
        pairs_from_folders(tmp_path / "rgb", tmp_path / "depth")
    message = str(error.value)
    assert "7 of 9 images have no depth file: 00.png" in message and "(7 in all)" in message
    assert "1 depth files match no image: orphan.png" in message and "missing_files='skip'" in message
    with pytest.warns(UserWarning, match="7 of 9 images have no depth file"):
        pairs = pairs_from_folders(tmp_path / "rgb", tmp_path / "depth", missing="skip")
    assert [p.name for p in pairs] == ["07", "08"]


def test_list_lines_with_and_without_intrinsics(tmp_path: Path) -> None:
    for i in range(3):
        write_pair(tmp_path, f"{i}", ".png", seed=i)
    lines = ["rgb/0.png depth/0.png", "rgb/1.png depth/1.png 500", "rgb/2.png depth/2.png 500 7.5 5.25"]
    pairs = pairs_from_list(_list(tmp_path, lines), tmp_path)
    with pytest.raises(InvalidArgumentError, match="1 of 3 pairs have no focal length"):
        FolderDataset(pairs)
    dataset = FolderDataset(pairs, focal=250.0, cx=1.0)
    cameras = [dataset.load(i)["intrinsics"].tolist() for i in range(3)]
    assert cameras == [[250.0, 250.0, 1.0, 5.5], [500.0, 500.0, 1.0, 5.5], [500.0, 500.0, 7.5, 5.25]]
    with pytest.raises(SplitListError, match="line 1: expected 2 or 3 or 5"):
        pairs_from_list(_list(tmp_path, ["rgb/0.png depth/0.png 500 7.5"], "bad.txt"), tmp_path)
    with pytest.raises(SplitListError, match="1 of 1 lines name files that do not exist"):
        pairs_from_list(_list(tmp_path, ["rgb/9.png depth/9.png"], "missing.txt"), tmp_path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.zeros((HEIGHT, WIDTH, 3), np.uint16), "must hold one channel"),
        (np.zeros((HEIGHT, WIDTH), np.uint8), "8-bit images have only 256 levels"),
    ],
)
def test_pictures_of_depth_are_not_depth(tmp_path: Path, values: np.ndarray, message: str) -> None:
    cv2.imwrite(str(tmp_path / "d.png"), values)
    with pytest.raises(CorruptDataError, match=message):
        read_depth_raw(tmp_path / "d.png")
    with pytest.raises(CorruptDataError, match="must be one of"):
        read_depth_raw(tmp_path / "d.bmp")
