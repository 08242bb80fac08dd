"""Videos: streamed frame batches, clear errors, and ``depthzoo predict`` writing a side-by-side depth video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import depthzoo
from depthzoo.cli import main
from depthzoo.datamodules.video import VideoDataModule
from depthzoo.datasets.video import VideoError, VideoFrames, VideoNotFoundError, probe_video
from depthzoo.errors import DepthzooError, InvalidArgumentError
from depthzoo.visualize import colorize

TINY = "test_resnet.r160_in1k"


def write_video(path: Path, frames: int, size: tuple[int, int] = (48, 64), fps: float = 8.0, seed: int = 0) -> Path:
    """An MJPG .avi of smooth random frames (MJPG: every OpenCV build writes and reads it)."""
    height, width = size
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for _ in range(frames):
        small = rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8)
        writer.write(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))
    writer.release()
    return path


def read_video(path: Path) -> tuple[list[np.ndarray], float]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames, fps


def test_frames_stream_in_batches_that_never_span_videos(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    write_video(folder / "a.avi", 5)
    write_video(folder / "b.avi", 2, size=(40, 56))
    dataset = VideoFrames(folder, input_size=(32, 48), batch_size=2)
    assert [(v.name, v.frame_count, v.width, v.height, v.fps) for v in dataset.videos] == [
        ("a", 5, 64, 48, 8.0), ("b", 2, 56, 40, 8.0)
    ]
    batches = list(dataset)
    assert [(b["name"][0], b["index"].tolist(), b["last"]) for b in batches] == [
        ("a", [0, 1], False), ("a", [2, 3], False), ("a", [4], True), ("b", [0, 1], True)
    ]
    first = batches[0]
    assert first["image"].shape == (2, 3, 32, 48) and first["image"].dtype == torch.float32
    assert first["frame"].shape == (2, 48, 64, 3) and first["frame"].dtype == torch.uint8
    assert 0.0 <= float(first["image"].min()) and float(first["image"].max()) <= 1.0
    expected = cv2.resize(first["frame"][1].numpy(), (48, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(first["image"][1].permute(1, 2, 0).numpy() * 255, expected, atol=1e-3)


def test_unreadable_and_empty_videos_are_explained(tmp_path: Path) -> None:
    with pytest.raises(VideoNotFoundError, match="no such video file or folder.*missing.mp4"):
        VideoFrames(tmp_path / "missing.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video" * 100)
    with pytest.raises(VideoError, match="cannot open the video.*container or codec.*junk.mp4.*ffmpeg"):
        probe_video(tmp_path / "junk.mp4")
    writer = cv2.VideoWriter(str(tmp_path / "empty.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 8.0, (32, 24))
    writer.release()
    with pytest.raises(VideoError, match="the video has no frames.*empty.avi"):
        probe_video(tmp_path / "empty.avi")
    (tmp_path / "folder").mkdir()
    with pytest.raises(VideoNotFoundError, match="no videos"):
        VideoFrames(tmp_path / "folder")
    with pytest.raises(InvalidArgumentError, match="num_workers must be 0 or 1"):
        VideoDataModule(str(tmp_path / "empty.avi"), num_workers=2)
    assert issubclass(VideoError, DepthzooError) and issubclass(VideoNotFoundError, FileNotFoundError)


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = depthzoo.create_model(TINY, "fast_upconv")
    with torch.no_grad():
        model.decoder.head_conv.bias.fill_(1.0)  # positive depth everywhere
    return depthzoo.save_model(model, tmp_path_factory.mktemp("model") / "tiny.safetensors")


def predict_args(model: Path, video: Path, out: Path, *extra: str) -> list[str]:
    return [
        "predict", "--model.weights", str(model), "--data", "VideoDataModule", "--data.inputs", str(video),
        "--data.batch_size", "3", "--writer.output_dir", str(out), "--trainer.accelerator", "cpu",
        "--trainer.devices", "1", "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.default_root_dir", str(out.parent), *extra,
    ]


def test_predict_writes_a_side_by_side_depth_video(tmp_path: Path, tiny_model_file: Path, capsys) -> None:
    video = write_video(tmp_path / "clip.avi", 7, fps=12.5)
    out = tmp_path / "out"
    args = predict_args(tiny_model_file, video, out, "--writer.cmap", "magma", "--writer.frame_npy", "true")
    assert main(args) == 0
    frames, fps = read_video(out / "clip_depth.mp4")
    inputs, _ = read_video(video)
    assert len(frames) == 7 and fps == pytest.approx(12.5) and frames[0].shape == (48, 128, 3)
    assert sorted(p.name for p in out.iterdir()) == ["clip", "clip_depth.mp4"]  # no temporary file left
    assert len(list((out / "clip").iterdir())) == 7
    model = depthzoo.load(tiny_model_file)
    for index in (0, 6):
        depth = np.load(out / "clip" / f"{index:06d}.npy")
        image = torch.from_numpy(inputs[index]).permute(2, 0, 1)[None].float() / 255
        assert depth.shape == (48, 64) and depth.dtype == np.float32
        np.testing.assert_allclose(depth, model.predict(image)[0, 0].numpy(), rtol=1e-5, atol=1e-6)
        left, right = frames[index][:, :64].astype(float), frames[index][:, 64:].astype(float)
        assert np.abs(left - inputs[index]).mean() < 8  # the input, through a lossy codec
        if index == 0:  # the first frame's colour range is its own percentile range, in magma
            magma = np.abs(right - colorize(depth, cmap="magma")).mean()
            viridis = np.abs(right - colorize(depth, cmap="viridis")).mean()
            assert magma < 20 and magma < viridis / 3, (magma, viridis)  # mp4v blurs the colours a little
    assert main(args) == 2  # an existing output is refused before any work
    assert "clip_depth.mp4" in capsys.readouterr().err
    assert main([*args, "--writer.overwrite", "true"]) == 0


def test_a_video_without_frames_fails_with_one_line(tmp_path: Path, tiny_model_file: Path, capsys) -> None:
    writer = cv2.VideoWriter(str(tmp_path / "empty.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 8.0, (32, 24))
    writer.release()
    assert main(predict_args(tiny_model_file, tmp_path / "empty.avi", tmp_path / "out")) == 2
    assert "error: the video has no frames" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
