"""The demo's work without a page: decoding, size cap, prediction at the input's size, camera, distances, video."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
from demo_helpers import smooth_tiny_model
from PIL import Image

from depthzoo.demo.pipeline import (
    DEFAULT_FOV,
    DemoInputError,
    DepthResult,
    distance,
    estimate,
    process_video,
    read_image,
    relative_to_depth,
)
from depthzoo.geometry import Intrinsics


class Recording(torch.nn.Module):
    """A model that records the size it is given and answers a known depth: 1 m + 1 m per 100 columns."""

    output_kind = "metric"

    def __init__(self, intrinsics: tuple[float, float, float, float] | None = None) -> None:
        super().__init__()
        self.seen: list[tuple[int, ...]] = []
        if intrinsics is not None:
            self.predict_intrinsics = lambda x: torch.tensor([intrinsics])

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(x.shape))
        columns = torch.arange(x.shape[-1], dtype=torch.float32)
        return (1.0 + columns / 100).expand(x.shape[0], 1, x.shape[-2], x.shape[-1]).clone()


def test_read_image_decodes_and_refuses_what_it_cannot_use(tmp_path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "ok.png")
    assert np.array_equal(read_image(tmp_path / "ok.png"), rgb)
    grey16 = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000)
    Image.fromarray(grey16).save(tmp_path / "grey16.png")
    decoded = read_image(tmp_path / "grey16.png")
    assert decoded.dtype == np.uint8 and decoded[..., 0].tolist() == np.round(grey16 / 65535 * 255).tolist()
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(DemoInputError, match="cannot be read as an image"):
        read_image(tmp_path / "notes.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DemoInputError, match="cannot be read as an image"):
        read_image(tmp_path / "cut.png")
    with pytest.raises(DemoInputError, match="40x30 .* takes up to 0 megapixels: scale it down"):
        read_image(tmp_path / "ok.png", max_pixels=1000)


def test_a_large_image_is_scaled_down_for_the_model_and_answered_at_its_size() -> None:
    model = Recording()
    image = np.zeros((300, 500, 3), np.uint8)
    result = estimate(model, image, max_size=250)
    assert model.seen == [(1, 3, 150, 250)] and result.model_size == (150, 250)
    assert result.values.shape == (300, 500) and result.notes and "scaled down to 250x150" in result.notes[0]
    # the model's 1 + u / 100 at 250 columns, stretched over 500: bilinear, half-pixel centres
    expected = 1.0 + np.clip((np.arange(500) + 0.5) / 2 - 0.5, 0, 249) / 100
    assert np.allclose(result.values[0], expected, atol=1e-6)
    small = estimate(model, image[:100, :200], max_size=250)
    assert model.seen[-1] == (1, 3, 100, 200) and not small.notes


def test_camera_is_given_estimated_or_the_stated_default() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    given = estimate(Recording(), image, focal=150.0).camera
    assert given.origin == "given" and given.intrinsics == Intrinsics(150.0, 150.0, 99.5, 49.5, 100, 200)
    default = estimate(Recording(), image).camera
    assert default.origin == "default" and default.intrinsics.fx == pytest.approx(100 / math.tan(math.radians(30)))
    assert f"default {DEFAULT_FOV:g}° horizontal field of view" in default.describe()
    half = estimate(Recording(intrinsics=(80.0, 80.0, 49.5, 24.5)), image, max_size=100).camera  # saw 50x100
    assert half.origin == "estimated" and half.intrinsics.fx == pytest.approx(160.0)
    assert half.intrinsics.cx == pytest.approx(99.5) and half.intrinsics.cy == pytest.approx(49.5)


def test_distance_between_two_clicked_pixels_in_metres() -> None:
    camera = Intrinsics(2.0, 2.0, 2.0, 1.0, 3, 5)
    values = np.full((3, 5), 4.0, np.float32)
    values[0, 0] = 0.0
    result = DepthResult(np.zeros((3, 5, 3), np.uint8), values, "metric", (3, 5), _camera(camera))
    # pixels (4, 1) and (0, 1) at 4 m: x = (u - 2) * 4 / 2 -> 4 and -4: 8 m apart
    assert distance(result, (4, 1), (0, 1)) == pytest.approx(8.0)
    # (2, 1) is on the axis at 4 m, (2, 2) one row lower: y = 1 * 4 / 2 = 2 m
    assert distance(result, (2, 1), (2, 2)) == pytest.approx(2.0)
    with pytest.raises(DemoInputError, match=r"pixel \(0, 0\) has no depth"):
        distance(result, (0, 0), (1, 1))
    with pytest.raises(DemoInputError, match="outside the 5x3 image"):
        distance(result, (5, 0), (1, 1))
    relative = DepthResult(result.image, values, "relative_disparity", (3, 5), result.camera)
    with pytest.raises(DemoInputError, match="choose a metric model"):
        distance(relative, (1, 1), (2, 2))


def _camera(intrinsics: Intrinsics):
    from depthzoo.demo.pipeline import Camera

    return Camera(intrinsics, "given")


def test_relative_depth_is_drawn_nearer_where_disparity_is_larger() -> None:
    disparity = np.linspace(0.0, 1.0, 101)[None]
    depth = relative_to_depth(disparity)
    assert np.all(np.diff(depth) <= 0) and depth[0, 0] == pytest.approx(10.0) and depth[0, -1] == pytest.approx(1.0)


def _write_video(path, frames: int, size=(48, 64)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (size[1], size[0]))
    for i in range(frames):
        writer.write(np.full((*size, 3), 20 * i % 255, np.uint8))
    writer.release()


def test_video_is_processed_up_to_the_cap_and_says_so(tmp_path) -> None:
    _write_video(tmp_path / "clip.mp4", 7)
    model = Recording()
    written = []
    capped = process_video(model, tmp_path / "clip.mp4", lambda f, v, k, fps: written.append((f.shape, v.shape, fps)),
                           max_size=32, max_frames=5, batch_size=2)
    assert (capped.frames, capped.capped, capped.total) == (5, True, 7) and len(written) == 5
    assert written[0] == ((48, 64, 3), (48, 64), 10.0) and model.seen[0] == (2, 3, 24, 32)
    whole = process_video(model, tmp_path / "clip.mp4", lambda *a: None, max_frames=7, batch_size=3)
    assert (whole.frames, whole.capped) == (7, False)
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(DemoInputError, match="cannot be read as a video"):
        process_video(model, tmp_path / "bad.mp4", lambda *a: None)


def test_the_real_model_runs_through_the_fast_path_at_the_input_size() -> None:
    image = np.random.default_rng(0).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    result = estimate(smooth_tiny_model(), image, max_size=64)
    assert result.values.shape == (45, 70) and result.model_size == (41, 64) and result.metric
    assert np.all(np.abs(result.values - 2.0) < 0.05) and result.values.std() > 0
