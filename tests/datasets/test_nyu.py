"""NYU Depth v2 readers: the labeled .mat (v7.3/HDF5) and the BTS sync layout, on fakes in the real formats."""
from __future__ import annotations

import os
import pickle
import shutil
import warnings

import cv2
import fakes
import h5py
import numpy as np
import pytest
import scipy.io
import torch
from torch.utils.data import DataLoader

from depthzoo.datasets.errors import CorruptDataError, DatasetNotFoundError, ShapeMismatchError, SplitListError
from depthzoo.datasets.nyu import NYU_FOCAL_PX, NYUv2Mat, NYUv2Sync

# ---------------------------------------------------------------- the labeled .mat


def test_fake_file_is_a_matlab_v73_file(nyu_mat_480):
    path = nyu_mat_480[0]
    assert open(path, "rb").read(19) == b"MATLAB 7.3 MAT-file"
    with pytest.raises(NotImplementedError):  # what scipy says about a real v7.3 file
        scipy.io.loadmat(path)
    with h5py.File(path, "r") as handle:
        assert handle.userblock_size == 512
        assert handle["images"].shape == (4, 3, 640, 480)
        assert handle["images"].attrs["MATLAB_class"] == b"uint8"
        assert handle["trainNdxs"].shape == (1, 3) and handle["trainNdxs"].dtype == np.float64


def test_value_at_matlab_row_col_comes_back_at_row_col(tmp_path):
    """Fill the h5py arrays element by element in MATLAB's (row, col, ch, n) addressing, reversed."""
    num, height, width = 2, 5, 7
    images = np.zeros((num, 3, width, height), np.uint8)
    depths = np.zeros((num, width, height), np.float32)
    for n in range(num):
        for row in range(height):
            for col in range(width):
                depths[n, col, row] = row + col / 100 + 10 * n  # MATLAB depths(row+1, col+1, n+1)
                for ch in range(3):
                    images[n, ch, col, row] = 10 * row + col + 50 * ch + n  # MATLAB images(row+1, col+1, ch+1, n+1)
    path = fakes.write_v73_mat(
        tmp_path / "axes.mat",
        {
            "images": (images, "uint8"),
            "depths": (depths, "single"),
            "trainNdxs": (np.array([[1.0]]), "double"),
            "testNdxs": (np.array([[2.0]]), "double"),
        },
    )
    for split, n in (("train", 0), ("test", 1)):
        sample = NYUv2Mat(path, split=split)[0]
        assert sample["image"].shape == (height, width, 3) and sample["image"].flags.c_contiguous
        assert sample["depth"].shape == (height, width) and sample["depth"].flags.c_contiguous
        assert sample["depth"].dtype == np.float32 and sample["image"].dtype == np.uint8
        for row in range(height):
            for col in range(width):
                assert sample["depth"][row, col] == np.float32(row + col / 100 + 10 * n)
                for ch in range(3):
                    assert sample["image"][row, col, ch] == 10 * row + col + 50 * ch + n


def test_filled_and_raw_depth_in_metres(nyu_mat_480):
    path, images, depths, raw = nyu_mat_480
    filled = NYUv2Mat(path, split="all", depth="depths")
    holes = NYUv2Mat(path, split="all", depth="rawDepths")
    assert len(filled) == 4 and filled.focal == pytest.approx(NYU_FOCAL_PX)
    for i in range(4):
        a, b = filled[i], holes[i]
        np.testing.assert_array_equal(a["image"], images[i])
        np.testing.assert_array_equal(a["depth"], depths[i])  # metres, no rescaling
        assert a["valid"].all()
        np.testing.assert_array_equal(b["depth"], raw[i])
        np.testing.assert_array_equal(b["valid"], raw[i] > 0)
        assert (~b["valid"]).sum() > 0 and (a["depth"][~b["valid"]] > 0).all()
        assert a["index"] == i


def test_embedded_split_is_used(nyu_mat_480):
    path, images, depths, _ = nyu_mat_480
    train, test = NYUv2Mat(path, "train"), NYUv2Mat(path, "test")
    np.testing.assert_array_equal(train.indices, [0, 1, 3])
    np.testing.assert_array_equal(test.indices, [2])
    np.testing.assert_array_equal(test[0]["depth"], depths[2])
    np.testing.assert_array_equal(train[2]["image"], images[3])


def test_small_file_without_split_refuses_official_split(tmp_path):
    images, depths, raw = fakes.make_nyu_arrays(3, 6, 8)
    path = fakes.write_nyu_mat(tmp_path / "tiny.mat", images, depths, raw)
    with pytest.raises(ValueError, match=r"3 images.*1449.*trainNdxs.*split='all'"):
        NYUv2Mat(path, "train")
    assert len(NYUv2Mat(path, "all")) == 3
    assert NYUv2Mat(path, "all").focal == pytest.approx(NYU_FOCAL_PX * 8 / 640)


def test_official_split_for_1449_images(tmp_path):
    num = 1449
    images = np.broadcast_to((np.arange(num) % 256).astype(np.uint8)[:, None, None, None], (num, 2, 3, 3))
    depths = np.broadcast_to((0.5 + np.arange(num) / 1000).astype(np.float32)[:, None, None], (num, 2, 3))
    path = fakes.write_nyu_mat(tmp_path / "full.mat", images, depths, depths, compression=None)
    train, test = NYUv2Mat(path, "train"), NYUv2Mat(path, "test")
    assert (len(train), len(test)) == (795, 654)
    assert int((test.indices + 1).sum()) == 498_838 and int((train.indices + 1).sum()) == 551_687
    np.testing.assert_array_equal(test.indices[:10] + 1, [1, 2, 9, 14, 15, 16, 17, 18, 21, 28])
    np.testing.assert_array_equal(train.indices[:10] + 1, [3, 4, 5, 6, 7, 8, 10, 11, 12, 13])
    assert test[2]["depth"][0, 0] == np.float32(0.5 + 8 / 1000)  # testNdxs(3) = 9 -> 0-based 8
    assert train[0]["image"][1, 2, 0] == 2


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ({"trainNdxs": [[1.0, 2.0]]}, "only 'trainNdxs'"),
        ({"trainNdxs": [[1.0, 2.0]], "testNdxs": [[2.0]]}, "share 1 indices"),
        ({"trainNdxs": [[1.0, 4.0]], "testNdxs": [[2.0]]}, r"1-based whole indices in 1..3, got \[4.0\]"),
        ({"trainNdxs": [[0.0]], "testNdxs": [[2.0]]}, r"got \[0.0\]"),
        ({"trainNdxs": [[1.5]], "testNdxs": [[2.0]]}, r"got \[1.5\]"),
    ],
)
def test_bad_embedded_split_is_refused(tmp_path, split, message):
    images, depths, _ = fakes.make_nyu_arrays(3, 4, 5)
    datasets = {
        "images": (images.transpose(0, 3, 2, 1).copy(), "uint8"),
        "depths": (depths.transpose(0, 2, 1).copy(), "single"),
    }
    datasets.update({k: (np.asarray(v, np.float64), "double") for k, v in split.items()})
    path = fakes.write_v73_mat(tmp_path / "bad.mat", datasets)
    with pytest.raises(CorruptDataError, match=message):
        NYUv2Mat(path, "train")


def test_each_worker_opens_the_file_itself(nyu_mat_480, tmp_path, monkeypatch):
    log = tmp_path / "opens.log"
    original = NYUv2Mat._open_checked

    def logged_open(self):
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        return original(self)

    monkeypatch.setattr(NYUv2Mat, "_open_checked", logged_open)
    path, images, depths, _ = nyu_mat_480
    dataset = NYUv2Mat(path, "all")
    log.unlink()  # construction opens once to validate; count only the lazy opens
    assert dataset._file is None
    first = dataset[0]  # the parent opens its own handle before forking: children must not use it
    assert dataset._file is not None and dataset._pid == os.getpid()
    loader = DataLoader(dataset, batch_size=1, num_workers=2, collate_fn=lambda batch: batch[0])
    seen = {sample["index"]: sample for sample in loader}
    assert sorted(seen) == [0, 1, 2, 3]
    for i, sample in seen.items():
        np.testing.assert_array_equal(sample["image"], images[i])
        np.testing.assert_array_equal(sample["depth"], depths[i])
    pids = log.read_text().split()
    assert pids.count(str(os.getpid())) == 1
    workers = [p for p in pids if p != str(os.getpid())]
    assert len(workers) == 2 and len(set(workers)) == 2  # once per worker
    np.testing.assert_array_equal(dataset[0]["image"], first["image"])  # the parent handle still works


def test_dataset_pickles_without_its_handle(nyu_mat_480):
    dataset = NYUv2Mat(nyu_mat_480[0], "test")
    dataset[0]
    clone = pickle.loads(pickle.dumps(dataset))
    assert clone._file is None and clone._pid is None
    np.testing.assert_array_equal(clone[0]["depth"], dataset[0]["depth"])


def test_missing_file_names_the_layout_and_source(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        NYUv2Mat(tmp_path, "train")
    message = str(info.value)
    assert str(tmp_path / "nyu_depth_v2_labeled.mat") in message
    assert "images     (N, 3, W, H) uint8" in message and "rawDepths" in message
    assert "horatio.cs.nyu.edu" in message and "synthetic" in message
    assert isinstance(info.value, FileNotFoundError)


def test_truncated_file_names_the_file(nyu_mat_480, tmp_path):
    path = tmp_path / "truncated.mat"
    shutil.copy(nyu_mat_480[0], path)
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) * 6 // 10)
    with pytest.raises(CorruptDataError, match=r"truncated\.mat"):
        NYUv2Mat(path, "all")


def test_corrupt_chunk_names_the_file_and_index(nyu_mat_480, tmp_path):
    path = tmp_path / "corrupt.mat"
    shutil.copy(nyu_mat_480[0], path)
    with h5py.File(path, "r") as handle:
        chunk = handle["images"].id.get_chunk_info_by_coord((2, 0, 0, 0))
    with open(path, "r+b") as handle:
        handle.seek(chunk.byte_offset)
        handle.write(b"\xff" * chunk.size)
    dataset = NYUv2Mat(path, "all")
    dataset[1]  # other images still read
    with pytest.raises(CorruptDataError, match=r"corrupt\.mat: cannot read image 2 \(0-based; MATLAB index 3\)"):
        dataset[2]


def test_depth_shape_that_does_not_match_images_is_refused(tmp_path):
    images, depths, _ = fakes.make_nyu_arrays(2, 4, 6)
    path = fakes.write_v73_mat(
        tmp_path / "shapes.mat",
        {"images": (images.transpose(0, 3, 2, 1).copy(), "uint8"), "depths": (depths.copy(), "single")},
    )
    with pytest.raises(ShapeMismatchError, match=r"\(2, 4, 6\).*\(2, 3, 6, 4\).*\(2, 6, 4\)"):
        NYUv2Mat(path, "all")


def test_other_files_are_refused_clearly(tmp_path, nyu_mat_480):
    v5 = tmp_path / "splits.mat"
    v5.write_bytes(b"MATLAB 5.0 MAT-file, Platform: PCWIN".ljust(256, b" "))
    with pytest.raises(CorruptDataError, match="MATLAB 5 file"):
        NYUv2Mat(v5, "all")
    images, depths, _ = fakes.make_nyu_arrays(1, 4, 6)
    no_raw = fakes.write_v73_mat(
        tmp_path / "noraw.mat",
        {
            "images": (images.transpose(0, 3, 2, 1).copy(), "uint8"),
            "depths": (depths.transpose(0, 2, 1).copy(), "single"),
        },
    )
    with pytest.raises(CorruptDataError, match="no dataset 'rawDepths'"):
        NYUv2Mat(no_raw, "all", depth="rawDepths")
    with pytest.raises(ValueError, match="depth must be"):
        NYUv2Mat(nyu_mat_480[0], "all", depth="raw")


def test_nan_depth_becomes_invalid_zero(tmp_path):
    images, depths, _ = fakes.make_nyu_arrays(1, 4, 6)
    depths[0, 1, 2] = np.nan
    depths[0, 3, 0] = np.inf
    path = fakes.write_nyu_mat(tmp_path / "nan.mat", images, depths, depths)
    sample = NYUv2Mat(path, "all")[0]
    assert np.isfinite(sample["depth"]).all()
    assert sample["depth"][1, 2] == 0 and not sample["valid"][1, 2] and not sample["valid"][3, 0]
    assert sample["valid"].sum() == 4 * 6 - 2


# ---------------------------------------------------------------- the BTS sync layout


def test_sync_train_and_test_lists(nyu_sync):
    train = NYUv2Sync(nyu_sync.root / "sync", "train", nyu_sync.train_list)
    test = NYUv2Sync(nyu_sync.root / "official_splits" / "test", "test", nyu_sync.test_list)
    assert (len(train), len(test)) == (4, 3)
    for dataset, rgbs, depths in (
        (train, nyu_sync.train_rgb, nyu_sync.train_depth_mm),
        (test, nyu_sync.test_rgb, nyu_sync.test_depth_mm),
    ):
        for i, (rgb, mm) in enumerate(zip(rgbs, depths)):
            sample = dataset[i]
            expected = mm.astype(np.float64) / 1000.0
            np.testing.assert_allclose(sample["depth"], expected, rtol=1e-6)
            assert sample["depth"].dtype == np.float32
            np.testing.assert_array_equal(sample["valid"], mm > 0)
            assert np.abs(sample["image"].astype(int) - rgb).mean() < 2.0  # JPEG, smooth image
            assert sample["focal"] == pytest.approx(518.8579)
            assert sample["index"] == i


def _write_list(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sync_missing_entry_reports_its_line(nyu_sync, tmp_path):
    lines = nyu_sync.train_list.read_text().splitlines()
    lines.insert(2, "/kitchen_9999a/rgb_00001.jpg /kitchen_9999a/sync_depth_00001.png 518.8579")
    broken = _write_list(tmp_path / "broken.txt", lines)
    with pytest.raises(SplitListError, match=r"1 of 5 lines.*\n  line 3: .*kitchen_9999a/rgb_00001\.jpg"):
        NYUv2Sync(nyu_sync.root / "sync", "train", broken)
    with pytest.warns(UserWarning, match=r"(?s)line 3: .*rgb_00001.jpg.*sync_depth_00001.png.*skipped"):
        dataset = NYUv2Sync(nyu_sync.root / "sync", "train", broken, missing_files="skip")
    assert len(dataset) == 4 and [e.line for e in dataset.entries] == [1, 2, 4, 5]


def test_shipped_list_is_the_default_and_missing_files_are_summarised(nyu_sync):
    with pytest.raises(
        SplitListError, match=r"654 of 654 lines.*\n  line 1: .*bathroom/rgb_00045.jpg(.|\n)*and 644 more"
    ):
        NYUv2Sync(nyu_sync.root / "official_splits" / "test", "test")


def test_sync_malformed_line(nyu_sync, tmp_path):
    lines = nyu_sync.test_list.read_text().splitlines()
    lines[1] = "bathroom/rgb_00001.jpg 518.8579"
    with pytest.raises(SplitListError, match=r"line 2: expected 3 space-separated fields"):
        NYUv2Sync(nyu_sync.root / "official_splits" / "test", "test", _write_list(tmp_path / "bad.txt", lines))
    lines[1] = "bathroom/rgb_00001.jpg bathroom/sync_depth_00001.png focal"
    with pytest.raises(SplitListError, match=r"line 2: the third field must be a positive focal"):
        NYUv2Sync(nyu_sync.root / "official_splits" / "test", "test", _write_list(tmp_path / "bad.txt", lines))


@pytest.fixture
def sync_test_copy(nyu_sync, tmp_path):
    """A private copy of the fake sync test folder, free to damage."""
    root = tmp_path / "root"
    shutil.copytree(nyu_sync.root / "official_splits" / "test", root)
    return root


def test_sync_corrupt_png_names_file_and_line(nyu_sync, sync_test_copy):
    root = sync_test_copy
    (root / "bedroom" / "sync_depth_00001.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    dataset = NYUv2Sync(root, "test", nyu_sync.test_list)
    dataset[0]
    with pytest.raises(
        CorruptDataError, match=r"test_list\.txt, line 2: cannot decode depth PNG .*sync_depth_00001\.png"
    ):
        dataset[1]


def test_sync_8bit_depth_png_is_refused(nyu_sync, sync_test_copy):
    cv2.imwrite(str(sync_test_copy / "bathroom" / "sync_depth_00000.png"), np.zeros((48, 64), np.uint8))
    with pytest.raises(CorruptDataError, match=r"line 1: depth PNG .* must be single-channel 16-bit, got dtype uint8"):
        NYUv2Sync(sync_test_copy, "test", nyu_sync.test_list)[0]


def test_sync_image_and_depth_size_mismatch(nyu_sync, sync_test_copy):
    cv2.imwrite(str(sync_test_copy / "kitchen" / "sync_depth_00002.png"), np.ones((40, 64), np.uint16))
    with pytest.raises(ShapeMismatchError, match=r"line 3: image shape \(48, 64, 3\) and depth shape \(40, 64\)"):
        NYUv2Sync(sync_test_copy, "test", nyu_sync.test_list)[2]


def test_sync_missing_root_prints_the_tree(tmp_path):
    layout = r"(?s)cleinc/bts.*\nExpected layout:\n.*official_splits/test/.*sync_depth_%05d\.png"
    with pytest.raises(DatasetNotFoundError, match=layout):
        NYUv2Sync(tmp_path / "nowhere", "test")


def test_sync_sample_through_dataloader_is_tensor_ready(nyu_sync):
    from depthzoo.transforms.pipelines import EvalTransform

    dataset = NYUv2Sync(nyu_sync.root / "official_splits" / "test", "test", nyu_sync.test_list, EvalTransform())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = next(iter(DataLoader(dataset, batch_size=3)))
    assert batch["image"].shape == (3, 3, 48, 64) and batch["image"].dtype == torch.float32
    assert batch["depth"].shape == (3, 1, 48, 64) and batch["valid"].dtype == torch.bool
    assert batch["index"].tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "size, interpolation, image_tolerance",
    [((240, 320), "nearest", 0), ((240, 320), "area", 0), ((228, 300), "area", 1), ((240, 320), "linear", 1)],
)
def test_resize_while_reading_equals_resizing_the_full_sample(nyu_mat_480, size, interpolation, image_tolerance):
    """Resizing in MATLAB's stored (W, H) order before the transpose gives the sample resized after reading."""
    from depthzoo.transforms.pipelines import check_interpolation, resize_sample

    full = NYUv2Mat(nyu_mat_480[0], "all", "rawDepths")
    small = NYUv2Mat(nyu_mat_480[0], "all", "rawDepths", resize=size, interpolation=interpolation)
    for i in range(len(full)):
        expected = resize_sample(full.load(i), size, check_interpolation(interpolation))
        got = small.load(i)
        assert got["image"].shape == (*size, 3) and got["depth"].shape == size
        difference = np.abs(got["image"].astype(int) - expected["image"].astype(int))
        assert difference.max() <= image_tolerance
        np.testing.assert_array_equal(got["depth"], expected["depth"])
        np.testing.assert_array_equal(got["valid"], expected["valid"])
        assert not got["valid"].all() and got["valid"].any()
        assert got["focal"] == pytest.approx(NYU_FOCAL_PX * size[1] / 640)


def test_repacked_file_reads_the_same_uncompressed(nyu_mat_480, tmp_path):
    from depthzoo.datasets.nyu import repack_mat

    target = repack_mat(nyu_mat_480[0], tmp_path / "plain.mat")
    assert open(target, "rb").read(19) == b"MATLAB 7.3 MAT-file"
    with h5py.File(target, "r") as handle:
        assert handle["images"].compression is None and handle["images"].chunks == (1, 3, 640, 480)
        assert handle["rawDepths"].attrs["MATLAB_class"] == b"single"
        assert handle["testNdxs"][()].tolist() == [[3.0]]
    for depth in ("depths", "rawDepths"):
        original, repacked = NYUv2Mat(nyu_mat_480[0], "train", depth), NYUv2Mat(target, "train", depth)
        assert len(original) == len(repacked) == 3
        for i in range(3):
            for key in ("image", "depth", "valid"):
                np.testing.assert_array_equal(original[i][key], repacked[i][key])
    with pytest.raises(FileExistsError):
        repack_mat(nyu_mat_480[0], target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mat"]  # no temporary file left


def test_interrupted_repack_leaves_nothing(nyu_mat_480, tmp_path):
    from depthzoo.datasets.nyu import repack_mat

    source = tmp_path / "src" / "corrupt.mat"
    source.parent.mkdir()
    shutil.copy(nyu_mat_480[0], source)
    with h5py.File(source, "r") as handle:
        chunk = handle["depths"].id.get_chunk_info_by_coord((3, 0, 0))
    with open(source, "r+b") as handle:
        handle.seek(chunk.byte_offset)
        handle.write(b"\xff" * chunk.size)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError):
        repack_mat(source, out / "plain.mat")
    assert list(out.iterdir()) == []
