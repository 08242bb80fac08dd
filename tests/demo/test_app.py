"""The demo's request handlers without a browser: image, measuring, video, and what the page says on failures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from demo_helpers import TINY_ENCODER, save_smooth_tiny_model

import depthzoo
from depthzoo.demo import DemoApp, DemoOptions, Entry, ModelCatalogue, ModelLoadError
from depthzoo.demo.examples import example_focal, example_paths
from depthzoo.demo.pipeline import DemoInputError, distance


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app")
    model = save_smooth_tiny_model(folder)
    catalogue = ModelCatalogue([Entry("tiny", str(model), "given"), Entry("gone", str(folder / "gone.pt"), "given")])
    return DemoApp(catalogue, DemoOptions(max_size=128, max_frames=3), workdir=folder / "work")


def test_an_image_gives_slider_colour_bar_mesh_downloads_and_what_was_done(app) -> None:
    example = example_paths()[0]
    out = app.predict_image("tiny", str(example), example_focal())
    image, depth = out["slider"]
    assert image.shape == depth.shape == (240, 320, 3) and out["measure"].shape == (240, 320, 3)
    assert out["colorbar"].shape[1] == 512
    assert out["model3d"].endswith("room_a_mesh.glb") and open(out["model3d"], "rb").read(4) == b"glTF"
    assert [name.rsplit("/", 1)[1] for name in out["files"]] == [
        "room_a_depth_mm.png", "room_a_depth_m.npy", "room_a_points_m.ply"]
    status = out["status"]
    assert "metric depth in metres" in status and "focal length given (fx = 259 px" in status
    assert "scaled down to 128x96 (--max-size 128)" in status and out["result"].values.shape == (240, 320)


def test_two_clicks_measure_and_a_third_starts_again(app) -> None:
    result = app.predict_image("tiny", str(example_paths()[1]), None)["result"]
    picture, text, clicks = app.measure(result, [], (10, 20))
    assert clicks == [(10, 20)] and "Click a second point" in text and picture.shape == (240, 320, 3)
    _, text, clicks = app.measure(result, clicks, (300, 200))
    assert clicks == [(10, 20), (300, 200)]
    assert text.endswith(f"**{distance(result, (10, 20), (300, 200)):.2f} m**")
    _, text, clicks = app.measure(result, clicks, (5, 5))
    assert clicks == [(5, 5)] and "First point" in text
    assert app.measure(None, [], (1, 1))[1] == "Estimate the depth of an image first."


def test_failures_are_messages_naming_the_fix(app, tmp_path) -> None:
    with pytest.raises(DemoInputError, match="no image yet"):
        app.predict_image("tiny", None, None)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(DemoInputError, match="cannot be read as an image"):
        app.predict_image("tiny", str(tmp_path / "notes.png"), None)
    with pytest.raises(ModelLoadError, match=r"model 'gone' could not be loaded: .*gone.pt"):
        app.predict_image("gone", str(example_paths()[0]), None)
    assert app.predict_image("tiny", str(example_paths()[0]), None)["status"]  # the rest keeps working


def test_a_long_video_is_processed_up_to_the_cap_into_a_playable_webm(app, tmp_path) -> None:
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 12.0, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    path, text = app.predict_video("tiny", str(clip))
    assert path.endswith("clip_depth.webm")
    assert "3 frames at 12 frames per second" in text and "the first 3 of 5 frames were processed" in text
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 3 and frames[0].shape == (48, 128, 3)  # each frame beside its depth
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12.0)


def test_the_page_builds_with_one_queue(app) -> None:
    gr = pytest.importorskip("gradio", reason="the demo extra is not installed: pip install 'depthzoo[demo]'")
    page = app.build()
    assert isinstance(page, gr.Blocks) and page._queue.max_size is None
    limits = {fn.concurrency_id: fn.concurrency_limit for fn in page.fns.values() if fn.concurrency_id == "depth"}
    assert limits == {"depth": 1}


def test_a_relative_model_says_so_and_measures_nothing(tmp_path) -> None:
    model = depthzoo.create_model(TINY_ENCODER, "fast_upproj", output_kind="relative_disparity")
    path = depthzoo.save_model(model, tmp_path / "relative.safetensors")
    app = DemoApp(ModelCatalogue([Entry("relative", str(path), "given")]), DemoOptions(), workdir=tmp_path / "w")
    out = app.predict_image("relative", str(example_paths()[2]), None)
    assert "relative depth (disparity up to an unknown scale and shift" in out["status"]
    assert "Click two points" not in out["status"]
    assert [name.rsplit("/", 1)[1] for name in out["files"]] == [
        "room_c_disparity_normalized_0-65535.png", "room_c_disparity.npy", "room_c_points_relative.ply"]
    with pytest.raises(DemoInputError, match="choose a metric model"):
        app.measure(out["result"], [], (2, 2))
