"""The demo's page (Gradio): an image tab and a video tab around :mod:`depthzoo.demo.pipeline`.

Every request that runs a model waits in one queue (one at a time, none dropped), so concurrent users cannot
exhaust memory. A user's mistake, or a model that fails to load, is a message on the page; the page keeps working.
"""


import atexit
import logging
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from depthzoo.demo.catalogue import ModelCatalogue
from depthzoo.demo.examples import example_focal, example_paths
from depthzoo.demo.outputs import coloured_depth, depth_colorbar, mesh, write_downloads
from depthzoo.demo.pipeline import (
    DEFAULT_FOV,
    DemoInputError,
    DepthResult,
    distance,
    estimate,
    process_video,
    read_image,
    require_metric,
)
from depthzoo.errors import DepthzooError
from depthzoo.visualize import DEFAULT_CMAP, colorize
from depthzoo.writers.video import SteadyColourRange

log = logging.getLogger(__name__)

QUEUE_ID = "depth"
"""The one queue every model-running request waits in."""
STATE_SECONDS = 1800
"""How long a browser tab's last result is kept for measuring (seconds after its last use)."""
FILES_SECONDS = 3600
"""How long a request's result files are kept in the demo's folder."""
MARKER_COLOURS = ((255, 64, 64), (255, 255, 255))


@dataclass(frozen=True)
class DemoOptions:
    """How ``depthzoo demo`` was started.

    Args:
        cmap: colour map of the depth pictures.
        max_size: long side (pixels) of the image the model sees; larger inputs are scaled down for it.
        max_frames: frames of a video processed at most.
        fov: horizontal field of view (degrees) assumed when no focal length is given or estimated.
    """

    cmap: str = DEFAULT_CMAP
    max_size: int = 1024
    max_frames: int = 300
    fov: float = DEFAULT_FOV


def _message(exc: BaseException) -> str:
    """What the page says about a failure: the user's mistake as it is; anything else with where to look."""
    if isinstance(exc, DepthzooError):
        return str(exc)
    log.error("the demo failed:\n%s", "".join(traceback.format_exception(exc)))
    return f"{type(exc).__name__}: {exc} (the console that started the demo shows the traceback)"


class DemoApp:
    """The demo's request handlers, with the catalogue of models and a folder for the files it serves.

    Args:
        catalogue: the models.
        options: the command line's settings.
        workdir: where result files go (default: a temporary folder removed when the process exits).
    """

    def __init__(self, catalogue: ModelCatalogue, options: DemoOptions, workdir: str | Path | None = None) -> None:
        self.catalogue = catalogue
        self.options = options
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="depthzoo-demo-")
            atexit.register(shutil.rmtree, workdir, ignore_errors=True)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)

    def _folder(self) -> Path:
        """A new folder for one request's files.

        Those of requests older than :data:`FILES_SECONDS` are removed (the page serves copies in Gradio's own
        cache), so a long-running demo does not fill the disk.
        """
        expired = time.time() - FILES_SECONDS
        for old in self.workdir.iterdir():
            if old.is_dir() and old.stat().st_mtime < expired:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(dir=self.workdir))

    def _model(self, label: str | None) -> Any:
        if not label:
            raise DemoInputError("no model is chosen", fix="pick one in the Model list")
        return self.catalogue.get(label)

    # ------------------------------------------------------------------------------------------------- image
    def predict_image(self, label: str | None, path: str | None, focal: float | None) -> dict[str, Any]:
        """Run the model on an uploaded image; returns what the page shows (see :meth:`build` for the keys)."""
        if not path:
            raise DemoInputError("no image yet", fix="upload, paste or take a picture, or pick an example")
        image = read_image(path)
        model = self._model(label)
        result = estimate(model, image, self.options.max_size, focal=focal or None, fov=self.options.fov)
        folder = self._folder()
        stem = Path(path).stem or "image"
        depth_rgb = coloured_depth(result, self.options.cmap)
        mesh_path = folder / f"{stem}_mesh.glb"
        mesh_path.write_bytes(mesh(result))
        files = write_downloads(result, folder, stem)
        notes = [f"**{label}**: {_kind_text(result)}; {result.camera.describe()}.", *result.notes]
        if result.metric:
            notes.append("Click two points on the depth map below to measure the distance between them.")
        return {
            "slider": (image, depth_rgb),
            "colorbar": depth_colorbar(result, self.options.cmap),
            "model3d": str(mesh_path),
            "measure": depth_rgb,
            "files": [str(p) for p in files],
            "status": "\n\n".join(notes),
            "result": result,
        }

    def measure(self, result: DepthResult | None, clicks: list[tuple[int, int]], point: tuple[int, int]
                ) -> tuple[np.ndarray | None, str, list[tuple[int, int]]]:
        """A click on the depth map at ``point`` (x, y): the first marks a point, the second measures the distance."""
        if result is None:
            return None, "Estimate the depth of an image first.", []
        require_metric(result)
        clicks = [*(clicks if len(clicks) < 2 else []), (int(point[0]), int(point[1]))]
        picture = _with_markers(coloured_depth(result, self.options.cmap), clicks)
        if len(clicks) < 2:
            return picture, f"First point: pixel {clicks[0]}. Click a second point.", clicks
        metres = distance(result, clicks[0], clicks[1])
        return picture, f"Distance between pixels {clicks[0]} and {clicks[1]}: **{metres:.2f} m**", clicks

    # ------------------------------------------------------------------------------------------------- video
    def predict_video(self, label: str | None, path: str | None,
                      progress: Callable[[float, str], Any] | None = None) -> tuple[str, str]:
        """Run the model on a video, up to ``max_frames``; returns the depth video's path and a status line."""
        if not path:
            raise DemoInputError("no video yet", fix="upload a video")
        model = self._model(label)
        output = self._folder() / f"{Path(path).stem or 'video'}_depth.webm"
        writer = _VideoSink(output, self.options.cmap, self.options.max_frames, progress)
        try:
            done = process_video(model, path, writer.write, self.options.max_size, self.options.max_frames)
        finally:
            writer.close()
        writer.check()
        text = f"**{label}**: {done.frames} frames at {done.fps:.3g} frames per second."
        if done.capped:
            known = f" of {done.total}" if done.total > 0 else ""
            text += (f" The video is longer: the first {done.frames}{known} frames were processed "
                     f"(--max-frames {self.options.max_frames}).")
        return str(output), text

    # ------------------------------------------------------------------------------------------------- page
    def build(self) -> Any:
        """The Gradio page (``gr.Blocks``), its queue set up."""
        import gradio as gr

        labels = self.catalogue.labels()
        with gr.Blocks(title="depthzoo demo", delete_cache=(3600, 3600), analytics_enabled=False) as page:
            gr.Markdown("# depthzoo: monocular depth estimation\nOne image in, a depth map out.")
            model = gr.Dropdown(labels, value=labels[0] if labels else None, label="Model", elem_id="model")
            with gr.Tab("Image"):
                with gr.Row():
                    with gr.Column():
                        image = _hand_uploads_to_the_demo(gr.Image(
                            type="filepath",
                            sources=["upload", "clipboard", "webcam"],
                            label="Image",
                            elem_id="input-image",
                        ))
                        focal = gr.Number(
                            label="Focal length in pixels (optional)",
                            info="Empty: the model's own estimate where it makes one, else a "
                            f"{self.options.fov:g}° horizontal field of view.",
                            value=None,
                            placeholder="unknown",
                            minimum=0,
                            elem_id="focal",
                        )
                        run = gr.Button("Estimate depth", variant="primary", elem_id="run")
                        gr.Examples(
                            [[str(p), round(example_focal(), 2)] for p in example_paths()],
                            inputs=[image, focal],
                            label="Examples: rendered synthetic rooms, with their camera's focal length",
                        )
                    with gr.Column():
                        slider = gr.ImageSlider(label="Input | depth", elem_id="slider", type="numpy")
                        colour_bar = gr.Image(label="Colour scale", show_label=False, elem_id="colorbar",
                                              interactive=False, height=48, buttons=[], container=False)
                        status = gr.Markdown(elem_id="status")
                with gr.Row():
                    model3d = gr.Model3D(label="3-D view (drag to turn, scroll to zoom)", elem_id="model3d",
                                         height=420, clear_color=(0.95, 0.95, 0.95, 1.0))
                    with gr.Column():
                        measure_view = gr.Image(label="Measure: click two points (metric models)",
                                                interactive=False, elem_id="measure")
                        measured = gr.Markdown(elem_id="distance")
                files = gr.File(label="Downloads (README: 'The demo' explains the files)", file_count="multiple",
                                elem_id="downloads")
            with gr.Tab("Video"):
                with gr.Row():
                    video_in = gr.Video(label="Video", sources=["upload"], elem_id="input-video")
                    video_out = gr.Video(label="Frame | depth", elem_id="output-video", interactive=False)
                video_run = gr.Button("Estimate depth", variant="primary", elem_id="video-run")
                video_status = gr.Markdown(elem_id="video-status")
            result_state = gr.State(None, time_to_live=STATE_SECONDS)
            clicks_state = gr.State([], time_to_live=STATE_SECONDS)

            def on_image(label: str | None, path: str | None, focal_px: float | None):  # noqa: ANN202
                try:
                    out = self.predict_image(label, path, focal_px)
                except Exception as exc:
                    raise gr.Error(_message(exc), duration=None) from None
                return (out["slider"], out["colorbar"], out["model3d"], out["measure"], out["files"],
                        out["status"], out["result"], [], "")

            def on_select(result: DepthResult | None, clicks: list, event: gr.SelectData):  # noqa: ANN202
                try:
                    return self.measure(result, clicks, tuple(event.index))
                except Exception as exc:
                    raise gr.Error(_message(exc)) from None

            def on_video(label: str | None, path: str | None, progress=gr.Progress()):  # noqa: ANN202, B008
                try:
                    return self.predict_video(label, path, lambda f, text: progress(f, desc=text))
                except Exception as exc:
                    raise gr.Error(_message(exc), duration=None) from None

            run.click(
                on_image,
                [model, image, focal],
                [slider, colour_bar, model3d, measure_view, files, status, result_state, clicks_state, measured],
                concurrency_id=QUEUE_ID,
                concurrency_limit=1,
            )
            measure_view.select(on_select, [result_state, clicks_state], [measure_view, measured, clicks_state])
            video_run.click(on_video, [model, video_in], [video_out, video_status], concurrency_id=QUEUE_ID,
                            concurrency_limit=1)
        page.queue(max_size=None, default_concurrency_limit=1)
        return page


def _kind_text(result: DepthResult) -> str:
    if result.metric:
        return "metric depth in metres"
    return "relative depth (disparity up to an unknown scale and shift: no unit, the 3-D shape is approximate)"


def _with_markers(picture: np.ndarray, clicks: list[tuple[int, int]]) -> np.ndarray:
    """The picture with a ring at each clicked pixel and a line between two."""
    out = np.ascontiguousarray(picture.copy())
    radius = max(3, round(max(out.shape[:2]) / 120))
    if len(clicks) == 2:
        cv2.line(out, clicks[0], clicks[1], MARKER_COLOURS[1], max(1, radius // 2), cv2.LINE_AA)
    for point in clicks:
        cv2.circle(out, point, radius + 1, MARKER_COLOURS[1], -1, cv2.LINE_AA)
        cv2.circle(out, point, radius, MARKER_COLOURS[0], -1, cv2.LINE_AA)
    return out


class _VideoSink:
    """Writes frame | coloured depth pairs as a WebM (VP8) file, which browsers play, with steady colours."""

    def __init__(self, path: Path, cmap: str, total: int, progress: Callable[[float, str], Any] | None) -> None:

        self.path = path
        self.cmap = cmap
        self.total = total
        self.progress = progress
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._range = SteadyColourRange()

    def write(self, frame: np.ndarray, values: np.ndarray, output_kind: str, fps: float) -> None:
        relative = output_kind != "metric"
        low, high = self._range(values) or (None, None)
        depth_rgb = colorize(values, low, high, disparity=relative, cmap=self.cmap)
        pair = np.concatenate([frame, depth_rgb], axis=1)
        if self._writer is None:
            height, width = pair.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"VP80"), fps, (width, height))
        self._writer.write(cv2.cvtColor(pair, cv2.COLOR_RGB2BGR))
        self.frames += 1
        if self.progress is not None:
            self.progress(min(1.0, self.frames / max(self.total, 1)), f"frame {self.frames}")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()

    def check(self) -> None:
        if not self.path.is_file() or self.path.stat().st_size == 0:
            raise DemoInputError("the depth video could not be written (this OpenCV build cannot encode VP8 WebM)")


def _hand_uploads_to_the_demo(component: Any) -> Any:
    """Make an image input pass any upload on as its file path, so the demo's decoder gives its clear message.

    Gradio opens an upload with PIL before the handler runs, and a file PIL cannot identify fails there with a
    bare error; the component's own preprocessing is kept for everything it can open.
    """
    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return original(payload)
        except Exception:
            return None if payload is None or payload.path is None else str(payload.path)

    component.preprocess = preprocess
    return component
