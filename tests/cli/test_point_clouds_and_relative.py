"""``depthzoo predict --writer.point_cloud true`` and ``depthzoo fit/test`` of a relative model, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from depthzoo.cli import lightning_main, main
from depthzoo.geometry import NYU_INTRINSICS, depth_to_points
from depthzoo.synthetic import write_synthetic_nyu

TINY = "test_resnet.r160_in1k"


@pytest.fixture(scope="module")
def rooms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_nyu(tmp_path_factory.mktemp("rooms") / "r.mat", num=10, seed=2, height=48, width=64,
                               test_fraction=0.2)


def common(root: Path, out: Path) -> list[str]:
    return [
        "--model.encoder", TINY, "--model.decoder", "fast_upproj", "--model.num_val_images", "0",
        "--model.eval_crop", "null",
        "--data", "NYUv2DataModule", "--data.root", str(root), "--data.format", "synthetic",
        "--data.resize", "[48, 64]", "--data.input_size", "[48, 64]", "--data.batch_size", "4",
        "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.max_epochs", "1",
        "--trainer.enable_model_summary", "false", "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(out), "--trainer.logger", "false",
    ]


def fitted(root: Path, out: Path, *extra: str) -> Path:
    cli = lightning_main(["fit", *common(root, out), *extra])
    return Path(cli.trainer.checkpoint_callback.last_model_path or cli.trainer.checkpoint_callback.best_model_path)


def read_ply(path: Path) -> np.ndarray:
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    dtype = [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")]
    return np.frombuffer(data[end:], dtype=dtype)


def test_point_clouds_use_the_data_modules_camera_or_the_given_focal(rooms: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    ckpt = fitted(rooms, tmp_path / "fit")
    out = tmp_path / "pred"
    lightning_main(["predict", *common(rooms, tmp_path / "p"), "--ckpt_path", str(ckpt),
                    "--writer.output_dir", str(out), "--writer.point_cloud", "true"])
    for name in ("000000", "000001"):  # the two test rooms
        metres = np.load(out / f"{name}.npy")
        vertices = read_ply(out / f"{name}.ply")
        valid = metres > 0
        camera = NYU_INTRINSICS.scaled(48, 64)  # the renderer's camera; input and ground truth are both 48x64
        expected = depth_to_points(metres.astype(np.float64), camera.fx, camera.cx, camera.cy, fy=camera.fy)[valid]
        assert len(vertices) == valid.sum() > 0
        np.testing.assert_allclose(np.stack([vertices["x"], vertices["y"], vertices["z"]], 1), expected, rtol=1e-5)
    # Plain images have no camera: a clear error, then --writer.focal supplies it.
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(photos / "a.png")
    plain = ["predict", "--model.encoder", TINY, "--model.decoder", "fast_upproj", "--ckpt_path", str(ckpt),
             "--data", "ImageFolderDataModule", "--data.inputs", str(photos), "--trainer.accelerator", "cpu",
             "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
             "--trainer.default_root_dir", str(tmp_path / "plain_run"),
             "--writer.output_dir", str(tmp_path / "plain"), "--writer.point_cloud", "true"]
    assert main(plain) == 2
    error = capsys.readouterr().err
    assert "error: a point cloud needs the camera's intrinsics" in error and "--writer.focal F" in error
    assert main([*plain, "--writer.focal", "35"]) == 0
    vertices = read_ply(tmp_path / "plain" / "a.ply")
    metres = np.load(tmp_path / "plain" / "a.npy")
    assert len(vertices) == (metres > 0).sum()
    top_left = depth_to_points(metres.astype(np.float64), 35.0)[0, 0]  # principal point at the centre
    np.testing.assert_allclose([vertices["x"][0], vertices["y"][0], vertices["z"][0]], top_left, rtol=1e-5)
    assert (vertices["red"] == 90).all()


def test_a_relative_model_trains_and_tests_with_disparity_alignment(rooms: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    relative = ["--model.output_kind", "relative_disparity", "--model.loss", "ssi+0.5*gradient_matching"]
    ckpt = fitted(rooms, tmp_path / "fit", *relative)
    # --ckpt_path brings the output kind back, so the command line needs no --model.output_kind.
    cli = lightning_main(["test", *common(rooms, tmp_path / "test"), "--ckpt_path", str(ckpt)])
    out = capsys.readouterr().out
    assert "alignment scale_shift_disparity: a relative model: least-squares scale and shift in disparity" in out
    assert cli.model.model.output_kind == "relative_disparity"
    assert 0.0 <= float(cli.trainer.callback_metrics["test/d1"]) <= 1.0
    code = main(["predict", *common(rooms, tmp_path / "p"), "--ckpt_path", str(ckpt), "--writer.point_cloud", "true",
                 "--writer.output_dir", str(tmp_path / "pred")])
    assert code == 2 and "point clouds need metric depth" in capsys.readouterr().err
