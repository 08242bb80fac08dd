"""What the demo does with an input, without the user interface: decode, size, predict, camera, measure, video.

Every function here takes plain arrays and models, so it is tested without a browser; :mod:`depthzoo.demo.app` only
wires them to the page. A user's mistake (an image that does not decode, one too large, a click on a pixel without
depth) is a :class:`DemoInputError` whose message the page shows as it is.

>>> fit_size(3000, 4000, 1024)
(768, 1024)
>>> fit_size(480, 640, 1024)
(480, 640)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from depthzoo.datasets.imageio import decode_image
from depthzoo.datasets.video import VideoFrames
from depthzoo.errors import DepthzooError, InvalidArgumentError
from depthzoo.geometry import Intrinsics, depth_to_points

DEFAULT_FOV = 60.0
"""Horizontal field of view (degrees) assumed for the 3-D view when no focal length is given or estimated."""
MAX_PIXELS = 25_000_000
"""The largest image the demo takes (pixels): its depth, point cloud and files are made at the input's size."""
RELATIVE_NEAR_FAR = 10.0
"""A relative model's shape is drawn with the farthest point this many times as far as the nearest."""

CameraOrigin = Literal["given", "estimated", "default"]


class DemoInputError(DepthzooError, ValueError):
    """An input the demo cannot use; the message says why and what to do, and the page shows it."""


@dataclass(frozen=True)
class Camera:
    """The pinhole camera of a result, and where it came from (``given``, ``estimated`` by the model, ``default``)."""

    intrinsics: Intrinsics
    origin: CameraOrigin

    def describe(self) -> str:
        """One line for the page, e.g. "camera: default 60° horizontal field of view (fx = 554 px)"."""
        k = self.intrinsics
        fov = math.degrees(2 * math.atan(k.width / (2 * k.fx)))
        what = {
            "given": "focal length given",
            "estimated": "estimated by the model",
            "default": f"no focal length given: default {DEFAULT_FOV:g}° horizontal field of view",
        }[self.origin]
        return f"camera: {what} (fx = {k.fx:.0f} px, {fov:.0f}° horizontal field of view)"


@dataclass
class DepthResult:
    """A prediction at the input's size.

    Args:
        image: (H, W, 3) uint8 RGB, the input as decoded.
        values: (H, W) float32: metres (``output_kind == "metric"``) or relative disparity (no unit, larger is
            nearer).
        output_kind: the model's ``output_kind``.
        model_size: (height, width) the model saw.
        camera: the camera for the 3-D view, the point cloud and distances.
        notes: what the page should say about the input (it was scaled down, ...).
    """

    image: np.ndarray
    values: np.ndarray
    output_kind: str
    model_size: tuple[int, int]
    camera: Camera
    notes: list[str] = field(default_factory=list)

    @property
    def metric(self) -> bool:
        """True when :attr:`values` are metres."""
        return self.output_kind == "metric"

    def geometry_depth(self) -> np.ndarray:
        """Depth for drawing the scene in 3-D: metres, or for a relative model a stand-in with the right shape order.

        A relative model's disparity is known only up to a scale and a shift, so its true depth is unknown; its
        2nd-98th percentile range is mapped to depths 1 to :data:`RELATIVE_NEAR_FAR` (no unit), nearer pixels
        nearer.
        """
        if self.metric:
            return self.values
        return relative_to_depth(self.values)


def relative_to_depth(disparity: np.ndarray) -> np.ndarray:
    """A depth-like map from relative disparity: percentiles 98 -> 1 and 2 -> :data:`RELATIVE_NEAR_FAR`, clipped.

    >>> relative_to_depth(np.array([[0.0, 50.0, 100.0]])).astype(float).round(2).tolist()
    [[10.0, 1.82, 1.0]]
    """
    values = np.asarray(disparity, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    unit = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)  # 0 far .. 1 near
    near_disparity = 1.0 / RELATIVE_NEAR_FAR
    depth = 1.0 / (near_disparity + (1.0 - near_disparity) * unit)
    return np.where(np.isfinite(values), depth, 0.0).astype(np.float32)


def fit_size(height: int, width: int, max_size: int) -> tuple[int, int]:
    """(height, width) scaled down to fit ``max_size`` on the long side (kept when it fits), aspect ratio kept."""
    scale = max_size / max(height, width)
    if scale >= 1:
        return height, width
    return max(1, round(height * scale)), max(1, round(width * scale))


def read_image(path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An uploaded image as (H, W, 3) uint8 RGB, upright (EXIF orientation applied).

    Raises:
        DemoInputError: it does not decode, or has more than ``max_pixels`` pixels.
    """
    from PIL import Image


    path = Path(path)
    try:
        with Image.open(path) as handle:
            width, height = handle.size
    except Exception:
        width = height = 0  # decode_image names what is wrong below
    if width * height > max_pixels:
        raise DemoInputError(
            f"the image is {width}x{height} ({width * height / 1e6:.0f} megapixels); the demo takes up to "
            f"{max_pixels / 1e6:.0f} megapixels",
            fix="scale it down first",
        )
    try:
        image = decode_image(path)
    except DepthzooError as exc:
        raise DemoInputError(f"this file cannot be read as an image: {exc.what}", fix=exc.fix) from None
    if image.dtype != np.uint8:  # 16-bit and float images come back in [0, 1]
        image = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    return image


def default_camera(height: int, width: int, fov: float = DEFAULT_FOV) -> Intrinsics:
    """The camera with horizontal field of view ``fov`` degrees, principal point at the image centre."""
    focal = width / (2 * math.tan(math.radians(fov) / 2))
    return Intrinsics.from_focal(focal, height, width)


def estimate(
    model: Any,
    image: np.ndarray,
    max_size: int = 1024,
    focal: float | None = None,
    fov: float = DEFAULT_FOV,
) -> DepthResult:
    """Predict the depth of ``image`` (H, W, 3) uint8 with ``model``, returned at the input's size.

    The model sees the image scaled down to ``max_size`` on the long side where it is larger (area
    interpolation), through :meth:`depthzoo.DepthModel.predict`'s fast path; its output is resized back
    bilinearly. The camera is ``focal`` (pixels of the input) when given, else the model's own estimate where it
    makes one (a ``predict_intrinsics(images) -> (B, 4)`` method giving fx, fy, cx, cy in pixels of the images it
    saw), else :func:`default_camera` with ``fov``.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidArgumentError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    height, width = image.shape[:2]
    size = fit_size(height, width, max_size)
    notes = []
    if size != (height, width):
        notes.append(
            f"The image is {width}x{height}: the model saw it scaled down to {size[1]}x{size[0]} (--max-size "
            f"{max_size}); the depth is returned at {width}x{height}."
        )
        small = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    else:
        small = image
    x = torch.from_numpy(np.array(small)).permute(2, 0, 1)[None].float().div_(255.0)  # a writable copy
    depth = model.predict(x)
    if depth.shape[-2:] != (height, width):
        depth = F.interpolate(depth.float(), size=(height, width), mode="bilinear", align_corners=False)
    values = depth[0, 0].float().cpu().numpy().astype(np.float32)
    camera = _camera(model, x, height, width, focal, fov)
    return DepthResult(image, values, str(getattr(model, "output_kind", "metric")), size, camera, notes)


def _camera(model: Any, x: torch.Tensor, height: int, width: int, focal: float | None, fov: float) -> Camera:
    if focal is not None and focal > 0:
        return Camera(Intrinsics.from_focal(float(focal), height, width), "given")
    estimator: Callable[[torch.Tensor], torch.Tensor] | None = getattr(model, "predict_intrinsics", None)
    if callable(estimator):
        fx, fy, cx, cy = (float(v) for v in estimator(x)[0])
        seen = Intrinsics(fx, fy, cx, cy, int(x.shape[-2]), int(x.shape[-1]))
        return Camera(seen.resized(height, width), "estimated")
    return Camera(default_camera(height, width, fov), "default")


def points(result: DepthResult) -> tuple[np.ndarray, np.ndarray]:
    """The (H, W, 3) camera-frame points of :meth:`DepthResult.geometry_depth` and the (H, W) mask of valid ones."""
    depth = result.geometry_depth().astype(np.float32)  # metres to 1e-6: enough, at half the memory
    k = result.camera.intrinsics
    return depth_to_points(depth, k.fx, k.cx, k.cy, fy=k.fy), np.isfinite(depth) & (depth > 0)


def require_metric(result: DepthResult) -> None:
    """Raise :class:`DemoInputError` unless ``result`` is in metres (distances need them)."""
    if not result.metric:
        raise DemoInputError(
            "distances need metres, and this model predicts relative depth (no unit)", fix="choose a metric model"
        )


def distance(result: DepthResult, first: tuple[int, int], second: tuple[int, int]) -> float:
    """The distance in metres between the scene points at pixels ``first`` and ``second`` ((x, y) = column, row).

    Raises:
        DemoInputError: a relative model (its depth has no unit), or a pixel outside the image or without depth.
    """
    require_metric(result)
    height, width = result.values.shape
    scene, valid = points(result)
    for u, v in (first, second):
        if not (0 <= u < width and 0 <= v < height):
            raise DemoInputError(f"pixel ({u}, {v}) is outside the {width}x{height} image", fix="click on the image")
        if not valid[v, u]:
            raise DemoInputError(f"pixel ({u}, {v}) has no depth", fix="click on another point")
    ends = [scene[v, u] for u, v in (first, second)]
    return float(np.linalg.norm(ends[0] - ends[1]))


@dataclass
class VideoResult:
    """A processed video: the frames read, whether the cap stopped it, and the frame rate."""

    frames: int
    capped: bool
    total: int
    fps: float


def process_video(
    model: Any,
    path: str | os.PathLike[str],
    write: Callable[[np.ndarray, np.ndarray, str, float], None],
    max_size: int = 1024,
    max_frames: int = 300,
    batch_size: int = 4,
) -> VideoResult:
    """Predict the frames of a video, up to ``max_frames``; each goes to ``write(frame, values, output_kind, fps)``.

    Frames stream from the file in batches of ``batch_size`` (the video is never held in memory whole), scaled
    down to ``max_size`` for the model like images; ``values`` come back at the frame's size.

    Raises:
        DemoInputError: the file is not a video OpenCV can decode.
    """
    try:
        frames = VideoFrames(os.fspath(path), batch_size=batch_size)
    except DepthzooError as exc:
        raise DemoInputError(f"this file cannot be read as a video: {exc.what}", fix=exc.fix) from None
    info = frames.videos[0]
    frames.input_size = fit_size(info.height, info.width, max_size)
    kind = str(getattr(model, "output_kind", "metric"))
    done, capped = 0, False
    for batch in _batches(frames):
        take = min(len(batch["image"]), max_frames - done)
        depth = model.predict(batch["image"][:take])
        depth = F.interpolate(depth.float(), size=(info.height, info.width), mode="bilinear", align_corners=False)
        for i in range(take):
            write(batch["frame"][i].numpy(), depth[i, 0].cpu().numpy().astype(np.float32), kind, info.fps)
        done += take
        if done >= max_frames:
            capped = not (batch["last"] and take == len(batch["image"]))
            break
    return VideoResult(done, capped, info.frame_count, info.fps)


def _batches(frames: Any) -> Iterator[dict[str, Any]]:
    try:
        yield from frames
    except DepthzooError as exc:
        raise DemoInputError(f"the video stopped decoding: {exc.what}", fix=exc.fix) from None


__all__ = [
    "DEFAULT_FOV",
    "MAX_PIXELS",
    "Camera",
    "DemoInputError",
    "DepthResult",
    "VideoResult",
    "default_camera",
    "distance",
    "estimate",
    "fit_size",
    "points",
    "process_video",
    "read_image",
    "relative_to_depth",
    "require_metric",
]
