"""Videos to predict on, decoded with OpenCV and streamed in batches of frames (never the whole video in memory).

>>> import tempfile, cv2, numpy as np
>>> path = tempfile.mkdtemp() + "/clip.avi"
>>> out = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 12.0, (32, 24))
>>> for value in range(0, 250, 50):
...     _ = out.write(np.full((24, 32, 3), value, np.uint8))
>>> out.release()
>>> info = probe_video(path)
>>> info.fps, info.width, info.height, info.frame_count
(12.0, 32, 24, 5)
>>> [batch["index"].tolist() for batch in VideoFrames(path, batch_size=2)]
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import IterableDataset

from depthzoo.errors import DataError, InvalidArgumentError
from depthzoo.utils.validation import check_int, check_size

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
DEFAULT_FPS = 30.0


class VideoError(DataError, ValueError):
    """A video cannot be read: an unknown container or codec, a corrupt file, or no frames."""


class VideoNotFoundError(DataError, FileNotFoundError):
    """A video file or folder named as input does not exist, or a folder holds no video."""


@dataclass(frozen=True)
class VideoInfo:
    """What OpenCV reports about a video that decodes: its frame rate, size, frame count and codec.

    ``frame_count`` comes from the container and can be an estimate (-1 when unknown); the frames themselves decide.
    """

    path: Path
    name: str
    fps: float
    width: int
    height: int
    frame_count: int
    codec: str


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    text = code.to_bytes(4, "little").decode("latin-1") if code > 0 else ""
    return text if text.isprintable() and text.strip() else "unknown"


def open_video(path: str | os.PathLike[str]) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture``; an error that names the file when it is missing or cannot be decoded."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise VideoNotFoundError("no such video file", source=path, fix="check the path")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VideoError(
            "cannot open the video: OpenCV does not know its container or codec, or the file is corrupt",
            source=path,
            fix="re-encode it, e.g. 'ffmpeg -i INPUT -c:v libx264 OUTPUT.mp4', or check the download",
        )
    return capture


def probe_video(path: str | os.PathLike[str], name: str | None = None) -> VideoInfo:
    """Open ``path``, decode its first frame, and describe it.

    Raises:
        VideoNotFoundError: no such file.
        VideoError: OpenCV cannot open or decode it, or it has no frames.
    """
    path = Path(path).expanduser()
    capture = open_video(path)
    try:
        codec = _fourcc(capture)
        ok, frame = capture.read()
        if not ok or frame is None:
            count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
            if count == 0:
                raise VideoError("the video has no frames", source=path, fix="pass a video with at least one frame")
            raise VideoError(
                f"the video opens but its first frame cannot be decoded (codec {codec})",
                source=path,
                fix="this OpenCV build cannot decode that codec: re-encode it, e.g. "
                "'ffmpeg -i INPUT -c:v libx264 OUTPUT.mp4'",
            )
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    return VideoInfo(
        path=path,
        name=name or path.stem,
        fps=fps if math.isfinite(fps) and fps > 0 else DEFAULT_FPS,
        width=int(frame.shape[1]),
        height=int(frame.shape[0]),
        frame_count=count if count > 0 else -1,
        codec=codec,
    )


def find_videos(inputs: str | os.PathLike[str] | list[str]) -> list[tuple[Path, str]]:
    """(path, output name) for each video: a file, or the videos in a folder (recursively), or a list of those."""
    entries: list[tuple[Path, str]] = []
    for item in [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs):
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
            if not found:
                raise VideoNotFoundError(
                    f"no videos ({', '.join(VIDEO_SUFFIXES)}) in the folder", source=path, fix="check the path"
                )
            entries += [(p, str(p.relative_to(path).with_suffix(""))) for p in found]
        elif path.is_file():
            entries.append((path, path.stem))
        else:
            raise VideoNotFoundError("no such video file or folder", source=path, fix="check the path")
    names = [name for _, name in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidArgumentError(
            f"several inputs would write the same outputs {duplicates[:5]}", fix="rename them, or predict them apart"
        )
    return entries


class VideoFrames(IterableDataset):
    """The frames of one or more videos, as batches (a batch never spans two videos).

    Each batch is a dict: ``image`` float32 (B, 3, h, w) RGB in [0, 1] at ``input_size`` (default: the frame size);
    ``frame`` uint8 (B, H, W, 3) RGB, the decoded frames; ``index`` int64 (B,) frame numbers; ``name`` the video's
    output name (B times); ``height``/``width`` int64 (B,); ``fps`` float64 (B,); ``last`` bool, True on a video's
    last batch. Frames are read as they are needed: memory holds one batch (per DataLoader worker prefetch).

    Args:
        inputs: a video file, a folder of videos, or a list of those.
        input_size: (height, width) the network sees; None keeps the frame size.
        batch_size: frames per batch.
    """

    def __init__(
        self,
        inputs: str | os.PathLike[str] | list[str],
        input_size: tuple[int, int] | None = None,
        batch_size: int = 4,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size, optional=True)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.videos = [probe_video(path, name) for path, name in find_videos(inputs)]

    def _batch(self, info: VideoInfo, frames: list[np.ndarray], start: int, last: bool) -> dict[str, Any]:
        rgb = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames])
        if self.input_size is not None and rgb.shape[1:3] != self.input_size:
            height, width = self.input_size
            resized = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in rgb])
        else:
            resized = rgb
        image = torch.from_numpy(resized).permute(0, 3, 1, 2).float().div_(255.0)
        count = len(frames)
        return {
            "image": image.contiguous(),
            "frame": torch.from_numpy(rgb),
            "index": torch.arange(start, start + count, dtype=torch.int64),
            "name": [info.name] * count,
            "height": torch.full((count,), rgb.shape[1], dtype=torch.int64),
            "width": torch.full((count,), rgb.shape[2], dtype=torch.int64),
            "fps": torch.full((count,), info.fps, dtype=torch.float64),
            "last": last,
        }

    def _frames(self, info: VideoInfo) -> Iterator[np.ndarray]:
        capture = open_video(info.path)
        try:
            index = 0
            while True:
                ok, frame = capture.read()
                if not ok or frame is None:
                    return
                if frame.shape[:2] != (info.height, info.width):
                    raise VideoError(
                        f"frame {index} is {frame.shape[1]}x{frame.shape[0]}, the first {info.width}x{info.height}",
                        source=info.path,
                        fix="re-encode the video at one frame size",
                    )
                yield frame
                index += 1
        finally:
            capture.release()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for info in self.videos:
            frames: list[np.ndarray] = []
            start = 0
            for frame in self._frames(info):
                if len(frames) == self.batch_size:  # a full batch, and more frames follow: not the last
                    yield self._batch(info, frames, start, last=False)
                    start += len(frames)
                    frames = []
                frames.append(frame)
            if frames:
                yield self._batch(info, frames, start, last=True)


__all__ = [
    "VIDEO_SUFFIXES",
    "VideoError",
    "VideoFrames",
    "VideoInfo",
    "VideoNotFoundError",
    "find_videos",
    "open_video",
    "probe_video",
]
