"""Crop boxes against the values of the reference implementations (EVALUATION section 4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from depthzoo.metrics import CROP_NAMES, CropBox, crop_box

# (H, W): Garg [r0, r1, c0, c1] and BTS-eigen [r0, r1, c0, c1]; the five KITTI dates, then the KB crop size.
KITTI_TABLE = {
    (375, 1242): ((153, 371, 44, 1197), (124, 342, 44, 1197)),
    (370, 1224): ((151, 366, 43, 1180), (122, 337, 43, 1180)),
    (374, 1238): ((152, 370, 44, 1193), (124, 341, 44, 1193)),
    (370, 1226): ((151, 366, 44, 1181), (122, 337, 44, 1181)),
    (376, 1241): ((153, 372, 44, 1196), (124, 343, 44, 1196)),
    (352, 1216): ((143, 349, 43, 1172), (117, 321, 43, 1172)),
}


def test_nyu_eigen_crop_is_the_published_slice() -> None:
    box = crop_box("eigen_nyu", 480, 640)
    assert box == (45, 471, 41, 601)
    assert (box.height, box.width) == (426, 560)


def test_nyu_eigen_crop_scales_with_truncation() -> None:
    assert crop_box("eigen_nyu", 240, 320) == (22, 235, 20, 300)  # 22.5, 235.5, 20.5, 300.5 truncated
    assert crop_box("eigen_nyu", 960, 1280) == (90, 942, 82, 1202)
    assert crop_box("eigen_nyu", np.int64(480), np.int64(640)) == (45, 471, 41, 601)


@pytest.mark.parametrize("size", list(KITTI_TABLE))
def test_kitti_crops_match_the_reference_table(size: tuple[int, int]) -> None:
    garg, eigen = KITTI_TABLE[size]
    assert crop_box("garg", *size) == garg
    assert crop_box("eigen_kitti", *size) == eigen


def test_garg_after_kb_crop_is_the_adabins_region_in_full_frame_coordinates() -> None:
    kb_top, kb_left = 375 - 352, (1242 - 1216) // 2  # the KB crop of a 2011_09_26 frame: (23, 13)
    garg = crop_box("garg", 352, 1216)
    assert (kb_top + garg.top, kb_top + garg.bottom, kb_left + garg.left, kb_left + garg.right) == (166, 372, 56, 1185)
    full_frame_garg = crop_box("garg", 375, 1242)
    assert full_frame_garg != (166, 372, 56, 1185)  # the BTS eval_with_pngs.py region differs


def test_apply_slices_the_last_two_dimensions() -> None:
    image = torch.arange(2 * 6 * 8).reshape(2, 1, 6, 8)
    cropped = CropBox(1, 4, 2, 7).apply(image)
    assert cropped.shape == (2, 1, 3, 5)
    assert torch.equal(cropped, image[:, :, 1:4, 2:7])


def test_bad_names_and_sizes_are_rejected() -> None:
    assert CROP_NAMES == ("eigen_nyu", "garg", "eigen_kitti")
    with pytest.raises(ValueError, match="KB-crop the ground truth first, then use 'garg'"):
        crop_box("kb_then_garg", 375, 1242)
    with pytest.raises(ValueError, match="no crop"):
        crop_box(None, 480, 640)
    with pytest.raises(ValueError, match="positive int"):
        crop_box("garg", 0, 1242)
    with pytest.raises(ValueError, match="too small"):
        crop_box("eigen_nyu", 1, 640)
