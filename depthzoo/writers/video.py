"""Depth videos: each input frame beside its colourised depth, at the input's frame rate, written as it streams.

:class:`VideoDepthWriter` receives the predictions of :class:`~depthzoo.datasets.video.VideoFrames` batches one at a
time and keeps one ``cv2.VideoWriter`` open per video. The video is written to a temporary file beside its final
name and renamed when its last frame is in, so an interrupted run leaves no truncated video; outputs go through the
prediction writer's :class:`~depthzoo.utils.files.OutputFolder`, so they are checked before any work like every
other output (none exists unless ``overwrite``, none is an input). The colour range follows each frame's 2nd-98th
percentiles, smoothed over frames so the colours do not flicker, or stays at a fixed ``depth_range``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from depthzoo.datasets.video import VIDEO_SUFFIXES
from depthzoo.errors import DepthzooError
from depthzoo.utils.files import OutputFolder, atomic_path
from depthzoo.visualize import DEFAULT_CMAP, colorize, colormap, percentile_range

VIDEO_SUFFIX = "_depth.mp4"  # what follows the input's name
FOURCC = "mp4v"  # MPEG-4 Part 2: every OpenCV build with FFmpeg writes it, every player reads it


class VideoWriteError(DepthzooError, OSError):
    """OpenCV cannot write the output video (no encoder for the container in this build, or an unwritable folder)."""


def is_video(path: str | Path) -> bool:
    """Whether a prediction input is a video (by its suffix)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def frame_name(name: str, index: int) -> str:
    """The output name of frame ``index`` of the video called ``name``: ``NAME/NNNNNN``."""
    return f"{name}/{index:06d}"


class _OpenVideo:
    """One video being written: its cv2 writer on a temporary file, and the commit (rename) that ends it."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], overwrite: bool, flag: str) -> None:
        self.path = path
        self.frames = 0
        self._stack = contextlib.ExitStack()
        temporary = self._stack.enter_context(atomic_path(path, overwrite, flag, keep_suffix=True))
        self.writer = cv2.VideoWriter(str(temporary), cv2.VideoWriter_fourcc(*FOURCC), fps, size)
        if not self.writer.isOpened():
            self.abort()
            raise VideoWriteError(
                f"OpenCV cannot write .mp4 ({FOURCC}) video here",
                source=path,
                fix="check that the folder is writable; this OpenCV build needs FFmpeg video support",
            )

    def write(self, rgb: np.ndarray) -> None:
        self.writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def commit(self) -> None:
        self.writer.release()
        self._stack.close()  # fsync and rename onto the final name

    def abort(self) -> None:
        if hasattr(self, "writer"):
            self.writer.release()
        error = DepthzooError("aborted")
        self._stack.__exit__(type(error), error, None)  # the context removes the temporary file


class SteadyColourRange:
    """The colour range of each frame of a video, smoothed so that colours stay steady from frame to frame.

    Calling it with a frame's depth returns (low, high): ``depth_range`` when fixed, else the frame's 2nd-98th
    percentiles blended with the previous range (``smoothing`` of the previous, the rest of the frame's); None until
    a frame has a valid pixel.

    >>> steady = SteadyColourRange(smoothing=0.5)
    >>> steady(np.full((2, 2), 2.0)), steady(np.full((2, 2), 4.0))
    ((2.0, 2.0), (3.0, 3.0))
    """

    def __init__(self, depth_range: tuple[float, float] | None = None, smoothing: float = 0.9) -> None:
        self.depth_range = depth_range
        self.smoothing = smoothing
        self._range: tuple[float, float] | None = None

    def __call__(self, depth: np.ndarray) -> tuple[float, float] | None:
        """The colour range for this frame (and the start of the next one's)."""
        if self.depth_range is not None:
            return self.depth_range
        valid = depth[np.isfinite(depth) & (depth > 0)]
        if not valid.size:
            return self._range
        low, high = percentile_range(valid)
        if self._range is not None:
            keep = self.smoothing
            low, high = keep * self._range[0] + (1 - keep) * low, keep * self._range[1] + (1 - keep) * high
        self._range = (low, high)
        return self._range


class VideoDepthWriter:
    """Writes depth videos (and, on request, each frame's depth as ``.npy``) from video prediction batches.

    Args:
        outputs: the output folder (its ``overwrite`` setting applies).
        cmap: colour map name (:func:`depthzoo.visualize.list_colormaps`).
        frame_npy: also write ``OUTPUT_DIR/NAME/NNNNNN.npy`` (float32 depth at the frame size) per frame.
        depth_range: a fixed (near, far) colour range in the model's units; None follows the frames.
        smoothing: how much of the previous colour range each frame keeps (0: per frame, 0.9: smooth).
    """

    def __init__(
        self,
        outputs: OutputFolder,
        cmap: str = DEFAULT_CMAP,
        frame_npy: bool = False,
        depth_range: tuple[float, float] | None = None,
        smoothing: float = 0.9,
    ) -> None:
        colormap(cmap)  # an unknown name fails now, not at the first frame
        self.outputs = outputs
        self.cmap = cmap
        self.frame_npy = frame_npy
        self.depth_range = depth_range
        self.smoothing = smoothing
        self._video: _OpenVideo | None = None
        self._name: str | None = None
        self._range = SteadyColourRange(depth_range, smoothing)
        self.written: list[Path] = []

    def video_path(self, name: str) -> Path:
        """Where the depth video of the input called ``name`` goes: ``OUTPUT_DIR/NAME_depth.mp4``."""
        return self.outputs.paths(name, [VIDEO_SUFFIX])[0]

    def check(self, names: list[str], inputs: Sequence[str | Path] = ()) -> None:
        """Check the videos (and first frame files) of the inputs ``names`` before any work."""
        self.outputs.check(names, [VIDEO_SUFFIX], inputs=inputs)
        if self.frame_npy:
            self.outputs.check([frame_name(name, 0) for name in names], [".npy"], inputs=inputs)


    def write(self, depth: torch.Tensor, batch: dict[str, Any]) -> None:
        """Add a batch: ``depth`` (B, 1, h, w) predictions for ``batch`` from :class:`VideoFrames`."""
        name = batch["name"][0]
        frames = batch["frame"]
        height, width = int(frames.shape[1]), int(frames.shape[2])
        if name != self._name:
            self.finish()
            self._name, self._range = name, SteadyColourRange(self.depth_range, self.smoothing)
            self._video = _OpenVideo(
                self.video_path(name),
                float(batch["fps"][0]),
                (2 * width, height),
                self.outputs.overwrite,
                self.outputs.flag,
            )
        assert self._video is not None
        full = F.interpolate(depth.float(), size=(height, width), mode="bilinear", align_corners=False)
        for i in range(full.shape[0]):
            metres = full[i, 0].cpu().numpy().astype(np.float32)
            colour_range = self._range(metres)
            low, high = colour_range if colour_range is not None else (None, None)
            coloured = colorize(metres, low, high, cmap=self.cmap)
            self._video.write(np.concatenate([frames[i].cpu().numpy(), coloured], axis=1))
            if self.frame_npy:
                with self.outputs.write(frame_name(name, int(batch["index"][i])), [".npy"]) as files:
                    with open(files[".npy"], "wb") as handle:
                        np.save(handle, metres)
        if batch.get("last"):
            self.finish()

    def finish(self) -> None:
        """Close and publish the video being written, if any."""
        if self._video is not None:
            video, self._video, self._name = self._video, None, None
            video.commit()
            self.written.append(video.path)

    def abort(self) -> None:
        """Drop the video being written (after an error): no partial file is left."""
        if self._video is not None:
            video, self._video, self._name = self._video, None, None
            video.abort()


__all__ = ["SteadyColourRange", "VideoDepthWriter", "VideoWriteError", "frame_name", "is_video"]
