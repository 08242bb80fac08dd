"""ScanNet: Marigold's 800 sampled validation frames, listed (``splits/scannet_val_sampled_list_800_1.txt``).

Layout, as ScanNet's ``SensReader`` exports each scene (and as Marigold's sampled archive holds it)::

    <root>/scene0406_02/color/000300.jpg
    <root>/scene0406_02/depth/000300.png          uint16 millimetres, 0 = none
    <root>/scene0406_02/intrinsic/intrinsic_depth.txt   optional: 4x4 camera matrix of the depth frames

The list (Apache-2.0, from prs-eth/Marigold ``data_split/scannet_depth``) names 800 ``color depth`` pairs. ScanNet's
colour frames (1296x968) are larger than its depth (640x480): a larger image is resized (area) to the depth's size,
as Marigold's sampled set stores them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import Sample
from depthzoo.datasets.evaluation import DatasetInfo, EvaluationDataset, camera
from depthzoo.datasets.imageio import read_depth_png, read_rgb, valid_depth
from depthzoo.datasets.splits import shipped_list

SCANNET = DatasetInfo(
    "ScanNet (Marigold's 800 sampled val frames)",
    """<root>/sceneXXXX_XX/color/NNNNNN.jpg
<root>/sceneXXXX_XX/depth/NNNNNN.png               uint16 millimetres
<root>/sceneXXXX_XX/intrinsic/intrinsic_depth.txt  optional""",
    "http://www.scan-net.org (request access; export frames with SensReader)",
    "ScanNet Terms of Use (non-commercial research, signed agreement)",
)
SCANNET_MM_PER_M = 1000.0


class ScanNetDepth(EvaluationDataset):
    """The listed ScanNet frames (default: Marigold's 800); ``list_file`` takes your own ``color depth`` list."""

    info = SCANNET

    def __init__(self, root: str | Path, list_file: str | Path | None = None, transform=None,
                 limit: int | None = None) -> None:
        super().__init__(root, transform, limit)
        self.list_file = Path(list_file) if list_file else shipped_list("scannet_marigold_800")
        samples = []
        missing = []
        for line in self.list_file.read_text().splitlines():
            fields = line.split()
            if len(fields) < 2:
                continue
            image, depth = self.root / fields[0], self.root / fields[1]
            (samples if image.is_file() and depth.is_file() else missing).append((str(image), str(depth)))
        if missing:
            first = missing[0][0] if not Path(missing[0][0]).is_file() else missing[0][1]
            raise self.info.not_found(f"{first} ({len(missing)} of the {len(missing) + len(samples)} listed frames)")
        self._found(samples, "the listed frames")
        self.samples = samples[:limit]  # in the list's own order

    @override
    def load(self, position: int) -> Sample:
        image_path, depth_path = self.samples[position]
        image = read_rgb(image_path)
        depth = read_depth_png(depth_path, SCANNET_MM_PER_M)
        if image.shape[:2] != depth.shape:
            image = cv2.resize(image, depth.shape[::-1], interpolation=cv2.INTER_AREA)
        depth, valid = valid_depth(depth)
        sample = {"image": image, "depth": depth, "valid": valid, "index": position, "focal": float("nan")}
        matrix = Path(depth_path).parents[1] / "intrinsic" / "intrinsic_depth.txt"
        if matrix.is_file():
            k = np.loadtxt(matrix)
            sample.update(focal=float(k[0, 0]), intrinsics=camera(k[0, 0], k[1, 1], k[0, 2], k[1, 2]))
        return sample
