"""The zero-shot benchmark readers on tiny files written in each set's published layout and binary format."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from depthzoo.datasets.diode import DIODEDepth
from depthzoo.datasets.errors import CorruptDataError, DatasetNotFoundError
from depthzoo.datasets.eth3d import ETH3DDepth
from depthzoo.datasets.ibims import IBims1
from depthzoo.datasets.scannet import ScanNetDepth
from depthzoo.datasets.sintel import SintelDepth

H, W = 12, 18


def rgb(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def depth(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.5, 20.0, (H, W)).astype(np.float32)


def write_rgb(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def test_eth3d_reads_raw_float32_depth_with_inf_holes_and_colmap_intrinsics(tmp_path: Path) -> None:
    scene = tmp_path / "office"
    write_rgb(scene / "images" / "dslr_images_undistorted" / "DSC_0219.JPG", rgb(0))
    truth = depth(1)
    truth[0, :3] = np.inf
    raw = scene / "ground_truth_depth" / "dslr_images" / "DSC_0219.JPG"
    raw.parent.mkdir(parents=True)
    truth.astype("<f4").tofile(raw)  # row-major float32, no header: ETH3D's format
    calib = scene / "dslr_calibration_undistorted"
    calib.mkdir()
    (calib / "cameras.txt").write_text(f"# Camera list\n0 PINHOLE {W} {H} 20.5 21.5 9.0 6.0\n")
    (calib / "images.txt").write_text("# Image list\n7 1 0 0 0 0 0 0 0 dslr_images/DSC_0219.JPG\n1.0 2.0 -1\n")
    sample = ETH3DDepth(tmp_path)[0]
    assert sample["image"].shape == (H, W, 3)
    np.testing.assert_array_equal(sample["depth"][1:], truth[1:])
    assert not sample["valid"][0, :3].any() and sample["valid"][1:].all()
    assert sample["intrinsics"].tolist() == [20.5, 21.5, 9.0, 6.0]
    raw.write_bytes(raw.read_bytes()[:-4])
    with pytest.raises(CorruptDataError, match=f"{H * W * 4} bytes"):
        ETH3DDepth(tmp_path)[0]


def write_diode(root: Path, part: str, name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    folder = root / "val" / part / "scene_00019" / "scan_00183"
    write_rgb(folder / f"{name}.png", rgb(seed))
    values, mask = depth(seed)[..., None], np.random.default_rng(seed).random((H, W)) > 0.3
    np.save(folder / f"{name}_depth.npy", values)
    np.save(folder / f"{name}_depth_mask.npy", mask.astype(np.float32))
    return values[..., 0], mask


def test_diode_uses_its_mask_files_and_splits_indoors_from_outdoor(tmp_path: Path) -> None:
    values, mask = write_diode(tmp_path, "indoors", "00019_00183_indoors_000_010", 2)
    write_diode(tmp_path, "outdoor", "00019_00183_outdoor_000_010", 3)
    assert len(DIODEDepth(tmp_path)) == 2 and len(DIODEDepth(tmp_path / "val", subset="outdoor")) == 1
    sample = DIODEDepth(tmp_path, subset="indoors")[0]
    np.testing.assert_array_equal(sample["valid"], mask)
    np.testing.assert_array_equal(sample["depth"][mask], values[mask])


def write_ibims(root: Path, name: str, seed: int) -> dict:
    invalid = np.ones((H, W), dtype=np.uint8)
    invalid[0, 0] = 0
    transparent = np.ones((H, W), dtype=np.uint8)
    transparent[1, 1] = 0
    edges = np.zeros((H, W), dtype=np.uint8)
    edges[:, 9] = 1
    data = {
        "rgb": rgb(seed), "depth": depth(seed).astype(np.float64), "edges": edges,
        "calib": np.array([[559.6, 0, 320.1], [0, 558.4, 239.9], [0, 0, 1.0]]),
        "mask_invalid": invalid, "mask_transp": transparent, "mask_wall": edges, "mask_wall_paras": np.zeros((1, 4)),
        "mask_table": np.zeros((H, W), np.uint8), "mask_table_paras": np.zeros((0, 0)),
        "mask_floor": np.zeros((H, W), np.uint8), "mask_floor_paras": np.zeros((0, 0)),
    }
    (root / "ibims1_core_mat").mkdir(parents=True, exist_ok=True)
    savemat(root / "ibims1_core_mat" / f"{name}.mat", {"data": data})  # a MATLAB 5 struct, as iBims ships
    return data


def test_ibims_reads_the_mat_struct_with_edges_masks_and_calibration(tmp_path: Path) -> None:
    data = write_ibims(tmp_path, "corridor_01", 4)
    write_ibims(tmp_path, "kitchen_01", 5)
    (tmp_path / "imagelist.txt").write_text("corridor_01\nkitchen_01\n")
    reader = IBims1(tmp_path)
    sample = reader[0]
    assert reader.sample_name(1) == "kitchen_01"
    np.testing.assert_array_equal(sample["image"], data["rgb"])
    assert not sample["valid"][0, 0] and not sample["valid"][1, 1] and sample["valid"].sum() == H * W - 2
    np.testing.assert_array_equal(sample["edges"], data["edges"] != 0)
    assert sample["masks"]["wall"].sum() == H and sample["intrinsics"].tolist() == [559.6, 558.4, 320.1, 239.9]
    (tmp_path / "imagelist.txt").write_text("corridor_01\nbathroom_07\n")
    with pytest.raises(DatasetNotFoundError, match="bathroom_07.mat.*asg.ed.tum.de.*licence: CC BY-NC-SA"):
        IBims1(tmp_path)


def write_sintel_binary(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<f", 202021.25) + payload)


def test_sintel_reads_dpt_depth_and_cam_intrinsics_and_checks_the_magic(tmp_path: Path) -> None:
    training = tmp_path / "training"
    write_rgb(training / "final" / "alley_1" / "frame_0001.png", rgb(6))
    truth = depth(6)
    write_sintel_binary(training / "depth" / "alley_1" / "frame_0001.dpt", struct.pack("<ii", W, H) + truth.tobytes())
    k = np.array([[1120.0, 0, 511.5], [0, 1120.0, 217.5], [0, 0, 1]])
    write_sintel_binary(training / "camdata_left" / "alley_1" / "frame_0001.cam",
                        k.astype("<f8").tobytes() + np.eye(3, 4).astype("<f8").tobytes())
    sample = SintelDepth(tmp_path)[0]
    np.testing.assert_array_equal(sample["depth"], truth)
    assert sample["intrinsics"].tolist() == [1120.0, 1120.0, 511.5, 217.5]
    (training / "depth" / "alley_1" / "frame_0001.dpt").write_bytes(struct.pack("<f", 1.5) + b"\0" * 8)
    with pytest.raises(CorruptDataError, match="202021.25"):
        SintelDepth(tmp_path)[0]


def test_scannet_reads_marigolds_listed_frames_in_list_order(tmp_path: Path) -> None:
    lines = ["scene0406_02/color/000300.jpg scene0406_02/depth/000300.png",
             "scene0088_02/color/001100.jpg scene0088_02/depth/001100.png"]
    for seed, line in enumerate(lines):
        color, depth_path = line.split()
        write_rgb(tmp_path / color, np.repeat(np.repeat(rgb(seed), 2, 0), 2, 1))  # colour frames are larger
        (tmp_path / depth_path).parent.mkdir(parents=True)
        cv2.imwrite(str(tmp_path / depth_path), (depth(seed) * 1000).astype(np.uint16))
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(lines))
    reader = ScanNetDepth(tmp_path, list_file=listing)
    assert [reader.sample_name(i) for i in range(2)] == ["scene0406_02/color/000300", "scene0088_02/color/001100"]
    sample = reader[0]
    assert sample["image"].shape == (H, W, 3)
    np.testing.assert_allclose(sample["depth"], np.floor(depth(0) * 1000) / 1000, atol=1e-6)
    with pytest.raises(DatasetNotFoundError, match="scene0406_02.*800 listed|scan-net.org"):
        ScanNetDepth(tmp_path)  # the shipped list: 800 frames, none here


@pytest.mark.parametrize("reader", [ETH3DDepth, DIODEDepth, IBims1, SintelDepth, ScanNetDepth])
def test_a_missing_set_names_what_is_missing_where_to_get_it_and_its_licence(tmp_path: Path, reader) -> None:
    with pytest.raises(DatasetNotFoundError, match="not found: .*where to get it: .*http.*licence") as info:
        reader(tmp_path / "nowhere")
    assert "Expected layout" in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError, match="not found: .*empty"):
        reader(tmp_path / "empty")


def test_the_data_modules_test_on_the_set_and_refuse_to_train(tmp_path: Path) -> None:
    from depthzoo.datamodules import IBimsDataModule
    from depthzoo.errors import InvalidArgumentError

    write_ibims(tmp_path, "corridor_01", 4)
    module = IBimsDataModule(str(tmp_path))
    module.setup("test")
    batch = next(iter(module.test_dataloader()))
    assert batch["image"].shape == (1, 3, H, W) and batch["edges"].shape == (1, H, W)
    assert batch["intrinsics"].shape == (1, 4)
    with pytest.raises(InvalidArgumentError, match="evaluation set and has no training split"):
        module.setup("fit")
