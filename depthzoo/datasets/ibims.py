"""iBims-1 (Koch et al. 2018): 100 indoor images as MATLAB ``.mat`` files with depth, annotated edges and masks.

Layout, as ``ibims1_core_mat.zip`` extracts (``imagelist.txt`` from the same page)::

    <root>/imagelist.txt                  one name per line (corridor_01, ...)
    <root>/ibims1_core_mat/corridor_01.mat

Each file (MATLAB 5, read with ``scipy.io.loadmat``) holds one struct ``data`` with fields ``rgb`` (480x640x3
uint8), ``depth`` (metres), ``edges`` (the hand-annotated depth edges), ``calib`` (3x3 camera matrix),
``mask_invalid`` and ``mask_transp`` (0 where the depth is missing or the surface transparent), and the planar
regions ``mask_wall``, ``mask_table``, ``mask_floor`` with their plane parameters ``mask_*_paras``. The valid mask is
depth > 0 where both masks are 1, as iBims-1's evaluation uses it; the edges feed ``dbe_acc`` and ``dbe_comp``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import Sample
from depthzoo.datasets.errors import CorruptDataError
from depthzoo.datasets.evaluation import DatasetInfo, EvaluationDataset, camera
from depthzoo.datasets.imageio import check_same_size, valid_depth

IBIMS = DatasetInfo(
    "iBims-1",
    """<root>/imagelist.txt
<root>/ibims1_core_mat/NAME.mat    struct 'data': rgb, depth, edges, calib, mask_invalid, mask_transp,
                                   mask_wall, mask_table, mask_floor (+ *_paras)""",
    "https://www.asg.ed.tum.de/lmf/ibims1/ (ibims1_core_mat.zip and imagelist.txt)",
    "CC BY-NC-SA 4.0 (as stated on the dataset's page)",
)
FIELDS = ("rgb", "depth", "edges", "calib", "mask_invalid", "mask_transp")
PLANES = ("mask_wall", "mask_table", "mask_floor")


class IBims1(EvaluationDataset):
    """iBims-1's core set; samples carry ``edges`` (annotated) and ``masks`` (the planar regions)."""

    info = IBIMS

    def __init__(self, root: str | Path, transform=None, limit: int | None = None) -> None:
        super().__init__(root, transform, limit)
        folder = self.root / "ibims1_core_mat"
        listing = self.root / "imagelist.txt"
        if listing.is_file():
            names = listing.read_text().split()
            missing = [n for n in names if not (folder / f"{n}.mat").is_file()]
            if missing:
                raise self.info.not_found(folder / f"{missing[0]}.mat ({len(missing)} of the listed files)")
            samples = [(str(folder / f"{name}.mat"),) for name in names]
        else:
            samples = [(str(path),) for path in folder.glob("*.mat")]
        self._found(samples, "ibims1_core_mat/*.mat")

    @override
    def load(self, position: int) -> Sample:
        from scipy.io import loadmat

        path = self.samples[position][0]
        try:
            data = loadmat(path)["data"]
            fields = {name: np.asarray(data[name][0][0]) for name in FIELDS + PLANES if name in data.dtype.names}
        except (KeyError, ValueError, TypeError, OSError, NotImplementedError) as exc:
            raise CorruptDataError(
                f"not an iBims-1 file ({type(exc).__name__}: {exc})", source=path,
                fix="expected a MATLAB struct 'data' with fields " + ", ".join(FIELDS),
            ) from None
        absent = [name for name in FIELDS if name not in fields]
        if absent:
            raise CorruptDataError(f"the struct 'data' lacks {', '.join(absent)}", source=path)
        image = fields["rgb"].astype(np.uint8)
        depth = fields["depth"].astype(np.float32)
        check_same_size(image, depth, path)
        usable = (fields["mask_invalid"] != 0) & (fields["mask_transp"] != 0)
        depth, valid = valid_depth(np.where(usable, depth, np.float32(0)))
        k = fields["calib"].astype(np.float64)
        return {
            "image": image, "depth": depth, "valid": valid, "index": position, "focal": float(k[0, 0]),
            "intrinsics": camera(k[0, 0], k[1, 1], k[0, 2], k[1, 2]),
            "edges": fields["edges"] != 0,
            "masks": {name[len("mask_"):]: fields[name] != 0 for name in PLANES if name in fields},
        }

    def sample_name(self, position: int) -> str:
        """The file's name without ``.mat``."""
        return Path(self.samples[position][0]).stem
