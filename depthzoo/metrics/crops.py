"""Evaluation crop boxes of the NYU and KITTI protocols, scaled to the ground-truth size.

A box is a numpy-style slice ``[top:bottom, left:right]`` of the ground truth. The boxes reproduce
the reference implementations exactly at their native sizes:

- ``"eigen_nyu"``: the Eigen crop used by BTS, AdaBins, the Monocular-Depth-Estimation-Toolbox and
  ZoeDepth, ``[45:471, 41:601]`` at 480x640 (one row and column off the NYU toolbox mask, as published).
  Other sizes scale the bounds by ``H/480`` and ``W/640`` and truncate, with exact integer arithmetic,
  so 480x640 gives the reference box and 240x320 gives ``[22:235, 20:300]``.
- ``"garg"``: the Garg crop of monodepth2, BTS, AdaBins, the Toolbox and ZoeDepth, fractions
  (0.40810811, 0.99189189, 0.03594771, 0.96405229) of (H, H, W, W) truncated with ``int()``.
- ``"eigen_kitti"``: BTS' "eigen" KITTI crop, fractions (0.3324324, 0.91351351, 0.0359477, 0.96405229)
  truncated with ``int()`` (0.0359477 is one digit shorter than the Garg value, as in BTS).

Applying ``"garg"`` to a ground truth KB-cropped to 352x1216 (:func:`depthzoo.datasets.kitti.kb_crop_box`) gives
the AdaBins/Toolbox region; applying it to the full frame gives the BTS ``eval_with_pngs.py`` region.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from depthzoo.errors import InvalidArgumentError
from depthzoo.utils.validation import check_size

CROP_NAMES: tuple[str, ...] = ("eigen_nyu", "garg", "eigen_kitti")

_NYU_EIGEN_BOUNDS = (45, 471, 41, 601)
_NYU_REFERENCE_SIZE = (480, 640)
_KITTI_FRACTIONS = {
    "garg": (0.40810811, 0.99189189, 0.03594771, 0.96405229),
    "eigen_kitti": (0.3324324, 0.91351351, 0.0359477, 0.96405229),
}


class CropBox(NamedTuple):
    """A numpy-style slice ``[top:bottom, left:right]`` over the last two dimensions."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def height(self) -> int:
        """Rows in the box."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """Columns in the box."""
        return self.right - self.left

    def apply(self, tensor: torch.Tensor) -> torch.Tensor:
        """Slice the last two dimensions of ``tensor`` to this box (a view, no copy)."""
        return tensor[..., self.top : self.bottom, self.left : self.right]


def crop_box(name: str, height: int, width: int) -> CropBox:
    """Evaluation crop ``name`` (one of :data:`CROP_NAMES`) for a ground truth of ``height`` x ``width``.

    >>> crop_box("eigen_nyu", 480, 640)
    CropBox(top=45, bottom=471, left=41, right=601)
    >>> crop_box("eigen_nyu", 240, 320)
    CropBox(top=22, bottom=235, left=20, right=300)
    """
    check_crop_name(name)
    if name is None:
        raise ValueError("crop_box needs a crop name, got None (None means no crop: use the whole image)")
    height, width = check_size("the ground-truth size", (height, width))
    if name == "eigen_nyu":
        ref_h, ref_w = _NYU_REFERENCE_SIZE
        top, bottom, left, right = _NYU_EIGEN_BOUNDS
        box = CropBox(top * height // ref_h, bottom * height // ref_h, left * width // ref_w, right * width // ref_w)
    else:
        top, bottom, left, right = _KITTI_FRACTIONS[name]
        box = CropBox(int(top * height), int(bottom * height), int(left * width), int(right * width))
    if box.height <= 0 or box.width <= 0:
        raise InvalidArgumentError(
            f"crop {name!r} is empty for a {height}x{width} ground truth; the image is too small to crop"
        )
    return box


def check_crop_name(name: str | None) -> None:
    """Raise a ValueError naming the valid crops unless ``name`` is one of :data:`CROP_NAMES` or None."""
    if name is not None and name not in CROP_NAMES:
        hint = " (KB-crop the ground truth first, then use 'garg')" if name == "kb_then_garg" else ""
        raise InvalidArgumentError(f"unknown crop {name!r}{hint}; choose one of {CROP_NAMES} or None for no crop")
