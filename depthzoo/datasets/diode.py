"""DIODE validation set: RGB ``.png``, float depth ``*_depth.npy`` (metres) and ``*_depth_mask.npy`` per scan.

Layout, as ``val.tar.gz`` extracts::

    <root>/val/indoors/scene_00019/scan_00183/00019_00183_indoors_000_010.png
    <root>/val/indoors/scene_00019/scan_00183/00019_00183_indoors_000_010_depth.npy        (768, 1024, 1) float32
    <root>/val/indoors/scene_00019/scan_00183/00019_00183_indoors_000_010_depth_mask.npy   (768, 1024) 0/1
    <root>/val/outdoor/scene_000xx/scan_00xxx/...

The mask file is the valid mask (the laser's returns). ``subset`` picks ``indoors`` or ``outdoor`` (ZoeDepth's two
DIODE rows); the default reads both (Marigold's 771 images, 325 indoors and 446 outdoors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import Sample
from depthzoo.datasets.errors import CorruptDataError
from depthzoo.datasets.evaluation import DatasetInfo, EvaluationDataset
from depthzoo.datasets.imageio import check_same_size, read_rgb, valid_depth
from depthzoo.errors import InvalidArgumentError

DIODE = DatasetInfo(
    "DIODE val",
    """<root>/val/{indoors,outdoor}/scene_*/scan_*/NAME.png
<root>/val/{indoors,outdoor}/scene_*/scan_*/NAME_depth.npy        float32 metres, (H, W, 1)
<root>/val/{indoors,outdoor}/scene_*/scan_*/NAME_depth_mask.npy   valid mask""",
    "https://diode-dataset.org (val.tar.gz, 2.6 GB)",
    "MIT (as stated on the dataset's site)",
)
SUBSETS = ("indoors", "outdoor")


def read_npy(path: str | Path) -> np.ndarray:
    """A ``.npy`` array without pickles, squeezed to (H, W); errors name the file."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CorruptDataError(f"cannot read {path}: {exc}") from exc
    array = np.squeeze(array)
    if array.ndim != 2:
        raise CorruptDataError(f"{path} must hold an (H, W) or (H, W, 1) array, got shape {array.shape}")
    return array


class DIODEDepth(EvaluationDataset):
    """DIODE validation scans (indoors and/or outdoor), with the dataset's own valid masks.

    Args:
        root: the folder holding ``val/`` (or ``val/`` itself).
        subset: ``"indoors"``, ``"outdoor"`` or None for both.
    """

    info = DIODE

    def __init__(
        self,
        root: str | Path,
        subset: Literal["indoors", "outdoor"] | None = None,
        transform=None,
        limit: int | None = None,
    ) -> None:
        super().__init__(root, transform, limit)
        if subset not in (None, *SUBSETS):
            raise InvalidArgumentError(f"subset must be 'indoors', 'outdoor' or None, got {subset!r}")
        val = self.root if self.root.name == "val" else self.root / "val"
        samples = []
        for part in [subset] if subset else SUBSETS:
            for image in (val / part).glob("scene_*/scan_*/*.png"):
                depth = image.with_name(image.stem + "_depth.npy")
                mask = image.with_name(image.stem + "_depth_mask.npy")
                if depth.is_file() and mask.is_file():
                    samples.append((str(image), str(depth), str(mask)))
        self._found(samples, f"val/{subset or '{indoors,outdoor}'}/scene_*/scan_*/NAME.png with NAME_depth.npy")

    @override
    def load(self, position: int) -> Sample:
        image_path, depth_path, mask_path = self.samples[position]
        image = read_rgb(image_path)
        depth = read_npy(depth_path).astype(np.float32)
        mask = read_npy(mask_path) != 0
        check_same_size(image, depth, image_path)
        check_same_size(image, mask, mask_path)
        depth, valid = valid_depth(np.where(mask, depth, np.float32(0)))
        return {"image": image, "depth": depth, "valid": valid, "index": position, "focal": float("nan")}
