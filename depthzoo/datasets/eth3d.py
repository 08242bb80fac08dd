"""ETH3D high-resolution multi-view: the DSLR images and their laser-scan depth maps (6048x4032 binary float32).

Layout, as the archives ``<scene>_dslr_undistorted.7z`` and ``<scene>_dslr_depth.7z`` extract into one folder::

    <root>/<scene>/images/dslr_images_undistorted/DSC_0219.JPG          (or images/dslr_images/)
    <root>/<scene>/ground_truth_depth/dslr_images/DSC_0219.JPG          raw float32, row-major, no header
    <root>/<scene>/dslr_calibration_undistorted/cameras.txt, images.txt (COLMAP text; optional, for intrinsics)

The depth file keeps the image's name but holds no JPEG: ``width x height`` little-endian float32 values in
row-major order (ETH3D's documentation, "Format of multi-view data"); ``inf`` marks pixels without a depth. Its size
is the image's, so a file of any other length is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import Sample
from depthzoo.datasets.errors import CorruptDataError
from depthzoo.datasets.evaluation import DatasetInfo, EvaluationDataset, camera
from depthzoo.datasets.imageio import read_rgb, valid_depth

ETH3D = DatasetInfo(
    "ETH3D high-res multi-view",
    """<root>/<scene>/images/dslr_images_undistorted/DSC_*.JPG
<root>/<scene>/ground_truth_depth/dslr_images/DSC_*.JPG     float32 depth, 6048x4032, inf = none
<root>/<scene>/dslr_calibration_undistorted/cameras.txt     optional: intrinsics""",
    "https://www.eth3d.net/datasets (High-res multi-view: <scene>_dslr_undistorted.7z and <scene>_dslr_depth.7z)",
    "CC BY-NC-SA 4.0",
)


def read_eth3d_depth(path: str | Path, height: int, width: int) -> np.ndarray:
    """An ETH3D depth map: ``height x width`` raw little-endian float32, row-major; inf (no depth) becomes 0."""
    path = Path(path)
    expected = height * width * 4
    size = path.stat().st_size
    if size != expected:
        raise CorruptDataError(
            f"an ETH3D depth map of a {width}x{height} image holds {expected} bytes (float32), this one {size}",
            source=path,
            fix="extract <scene>_dslr_depth.7z again; the depth files are raw float32 arrays of the image's size",
        )
    depth = np.fromfile(path, dtype="<f4").reshape(height, width)
    return np.where(np.isfinite(depth), depth, np.float32(0)).astype(np.float32)


def read_colmap_cameras(scene: Path) -> dict[str, np.ndarray]:
    """Image name -> (fx, fy, cx, cy) from COLMAP's cameras.txt and images.txt (PINHOLE cameras); {} without them."""
    folder = scene / "dslr_calibration_undistorted"
    if not (folder / "cameras.txt").is_file() or not (folder / "images.txt").is_file():
        return {}
    cameras = {}
    for line in (folder / "cameras.txt").read_text().splitlines():
        fields = line.split()
        if fields and not line.startswith("#") and fields[1] == "PINHOLE":
            cameras[fields[0]] = camera(*map(float, fields[4:8]))
    names = {}
    lines = [line for line in (folder / "images.txt").read_text().splitlines() if not line.startswith("#")]
    for line in lines[::2]:  # each image has a pose line and a line of 2-D points
        fields = line.split()
        if len(fields) >= 10 and fields[8] in cameras:
            names[Path(fields[9]).name] = cameras[fields[8]]
    return names


class ETH3DDepth(EvaluationDataset):
    """ETH3D high-res DSLR images with ground-truth depth (454 images at 6048x4032 in the 13 training scenes)."""

    info = ETH3D

    def __init__(self, root: str | Path, transform=None, limit: int | None = None) -> None:
        super().__init__(root, transform, limit)
        samples = []
        self.cameras: dict[tuple[str, str], np.ndarray] = {}
        for depth_dir in sorted(self.root.glob("*/ground_truth_depth/dslr_images")):
            scene = depth_dir.parents[1]
            for name, values in read_colmap_cameras(scene).items():
                self.cameras[(scene.name, name)] = values
            for depth in sorted(depth_dir.iterdir()):
                for images in ("dslr_images_undistorted", "dslr_images"):
                    image = scene / "images" / images / depth.name
                    if image.is_file():
                        samples.append((str(image), str(depth), scene.name))
                        break
        self._found(samples, "<scene>/ground_truth_depth/dslr_images/ with images/dslr_images_undistorted/")

    @override
    def load(self, position: int) -> Sample:
        image_path, depth_path, scene = self.samples[position]
        image = read_rgb(image_path)
        depth, valid = valid_depth(read_eth3d_depth(depth_path, *image.shape[:2]))
        sample = {"image": image, "depth": depth, "valid": valid, "index": position, "focal": float("nan")}
        intrinsics = self.cameras.get((scene, Path(image_path).name))
        if intrinsics is not None:
            sample.update(focal=float(intrinsics[0]), intrinsics=intrinsics)
        return sample
