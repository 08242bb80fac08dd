"""Fixed random arrays the protocol presets are checked on, shared by the test and the script that scored them once.

Every case is regenerated from its seed (NumPy's PCG64 streams are stable across versions), so only the authors'
numbers are stored (``tests/helpers/data/protocol_reference.json``, written by ``benchmarks/protocol_reference.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    """One dataset of one protocol: ``images`` pairs of (H, W) ground truth and predictions, and masks."""

    protocol: str
    dataset: str
    size: tuple[int, int]
    images: int
    seed: int
    low: float = 0.5
    high: float = 9.0
    masked: bool = False  # a dataset mask per image (DIODE's depth_mask)

    @property
    def key(self) -> str:
        """The case's name in the stored file."""
        return f"{self.protocol}/{self.dataset}"


CASES = (
    Case("marigold", "nyu", (480, 640), 2, 1),
    Case("marigold", "kitti", (88, 304), 2, 2, 0.5, 85.0),
    Case("marigold", "eth3d", (6, 3100), 2, 3, 0.5, 40.0),
    Case("marigold", "scannet", (48, 64), 3, 4, 0.05, 11.0),
    Case("marigold", "diode", (48, 64), 3, 5, 0.7, 300.0, masked=True),
    Case("moge", "nyu", (60, 80), 3, 6),
    Case("moge", "kitti", (150, 300), 2, 7, 0.5, 80.0),
    Case("zoedepth-metric", "nyu", (480, 640), 2, 8, 0.5, 11.0),
    Case("zoedepth-metric", "kitti", (88, 304), 2, 9, 0.5, 85.0),
    Case("zoedepth-metric", "ibims", (480, 640), 1, 10, 0.5, 11.0),
    Case("zoedepth-metric", "diode_indoor", (600, 700), 1, 11, 0.5, 11.0),
    Case("zoedepth-metric", "diode_outdoor", (96, 160), 2, 12, 0.5, 90.0),
)


def case_arrays(case: Case) -> dict[str, list[np.ndarray]]:
    """Ground truth with holes (0), a depth-like prediction, a disparity-like one, and masks, all float32.

    The prediction is the ground truth with a smooth error, a scale and a shift, plus noise; about 10 % of the pixels
    are holes, and some ground truth lies beyond the range so that the caps matter.
    """
    rng = np.random.default_rng(case.seed)
    height, width = case.size
    rows, cols = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    out: dict[str, list[np.ndarray]] = {"target": [], "depth": [], "disparity": [], "mask": []}
    for _ in range(case.images):
        base = case.low + (case.high - case.low) * (0.3 * rows + 0.5 * cols * rng.uniform(0.5, 1.0))
        target = base * rng.uniform(0.8, 1.25, base.shape)
        target[rng.random(base.shape) < 0.1] = 0.0
        noise = rng.normal(1.0, 0.08, base.shape)
        depth = (0.6 * base + 0.4 * case.low) * noise * (1 + 0.2 * rows)
        disparity = 2.0 / np.maximum(base * noise, 1e-3) + 0.05
        out["target"].append(target.astype(np.float32))
        out["depth"].append(depth.astype(np.float32))
        out["disparity"].append(disparity.astype(np.float32))
        dataset_mask = (rng.random(base.shape) > 0.2) & (target > 0)  # a dataset marks its holes invalid
        out["mask"].append(dataset_mask if case.masked else np.ones(base.shape, dtype=bool))
    return out
