"""MPI Sintel depth (training set): ``final/`` frames, ``.dpt`` depth and ``.cam`` cameras.

Layout, as ``MPI-Sintel-training_images.zip`` and ``MPI-Sintel-depth-training-20150305.zip`` extract::

    <root>/training/final/alley_1/frame_0001.png
    <root>/training/depth/alley_1/frame_0001.dpt          float32 tag 202021.25, int32 width, int32 height, float32s
    <root>/training/camdata_left/alley_1/frame_0001.cam   optional: float32 tag, 3x3 float64 K, 3x4 float64 pose

Both binary formats start with the float32 tag 202021.25 (Sintel's ``sintel_io.py``); a file with another tag or of
another length is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import Sample
from depthzoo.datasets.errors import CorruptDataError
from depthzoo.datasets.evaluation import DatasetInfo, EvaluationDataset, camera
from depthzoo.datasets.imageio import check_same_size, read_rgb, valid_depth

SINTEL_TAG = np.float32(202021.25)
SINTEL = DatasetInfo(
    "MPI Sintel depth",
    """<root>/training/final/<scene>/frame_XXXX.png
<root>/training/depth/<scene>/frame_XXXX.dpt           tag 202021.25, width, height, float32 depth
<root>/training/camdata_left/<scene>/frame_XXXX.cam    optional: intrinsics""",
    "http://sintel.is.tue.mpg.de/depth (MPI-Sintel-depth-training-20150305.zip) and http://sintel.is.tue.mpg.de "
    "(MPI-Sintel-training_images.zip, final pass)",
    "the dataset's terms (research use; the film is CC BY 3.0, Blender Foundation)",
)


def _check_tag(raw: bytes, path: Path) -> None:
    tag = np.frombuffer(raw[:4], dtype="<f4")
    if tag.size != 1 or tag[0] != SINTEL_TAG:
        found = float(tag[0]) if tag.size else "nothing"
        raise CorruptDataError(f"a Sintel file starts with the float32 tag 202021.25, this one with {found}",
                               source=path)


def read_dpt(path: str | Path) -> np.ndarray:
    """A Sintel ``.dpt`` depth map as (H, W) float32 metres."""
    path = Path(path)
    raw = path.read_bytes()
    _check_tag(raw, path)
    width, height = (int(v) for v in np.frombuffer(raw[4:12], dtype="<i4"))
    expected = 12 + 4 * max(width, 0) * max(height, 0)
    if width <= 0 or height <= 0 or len(raw) != expected:
        raise CorruptDataError(
            f"header says {width}x{height}, so {expected} bytes, the file has {len(raw)}",
            source=path,
        )
    return np.frombuffer(raw[12:], dtype="<f4").reshape(height, width).copy()


def read_cam(path: str | Path) -> np.ndarray:
    """The (fx, fy, cx, cy) of a Sintel ``.cam`` file (tag, then the 3x3 camera matrix in float64)."""
    path = Path(path)
    raw = path.read_bytes()
    _check_tag(raw, path)
    if len(raw) < 4 + 72:
        raise CorruptDataError(f"a .cam file holds a 3x3 float64 matrix after its tag; this one has {len(raw)} bytes",
                               source=path)
    k = np.frombuffer(raw[4:76], dtype="<f8").reshape(3, 3)
    return camera(k[0, 0], k[1, 1], k[0, 2], k[1, 2])


class SintelDepth(EvaluationDataset):
    """Sintel's training frames (final pass) with ground-truth depth, and intrinsics where ``camdata_left`` is."""

    info = SINTEL

    def __init__(self, root: str | Path, transform=None, limit: int | None = None) -> None:
        super().__init__(root, transform, limit)
        training = self.root if self.root.name == "training" else self.root / "training"
        samples = []
        for depth in (training / "depth").glob("*/frame_*.dpt"):
            image = training / "final" / depth.parent.name / f"{depth.stem}.png"
            cam = training / "camdata_left" / depth.parent.name / f"{depth.stem}.cam"
            if image.is_file():
                samples.append((str(image), str(depth), str(cam)))
        self._found(samples, "training/depth/<scene>/frame_*.dpt with training/final/<scene>/frame_*.png")

    @override
    def load(self, position: int) -> Sample:
        image_path, depth_path, cam_path = self.samples[position]
        image = read_rgb(image_path)
        depth = read_dpt(depth_path)
        check_same_size(image, depth, depth_path)
        depth, valid = valid_depth(depth)
        sample = {"image": image, "depth": depth, "valid": valid, "index": position, "focal": float("nan")}
        if Path(cam_path).is_file():
            intrinsics = read_cam(cam_path)
            sample.update(focal=float(intrinsics[0]), intrinsics=intrinsics)
        return sample
