"""KITTI Eigen reader on fake raw + annotated folders at the real per-date image sizes."""
from __future__ import annotations

import shutil

import cv2
import fakes
import numpy as np
import pytest

from depthzoo.datasets.errors import DatasetNotFoundError, ShapeMismatchError, SplitListError
from depthzoo.datasets.kitti import KITTIEigen, kb_crop_box

# (top, left) of the KB crop per date, from the reference table (EVALUATION.md section 4).
KB_TOP_LEFT = {
    "2011_09_26": (23, 13),
    "2011_09_28": (18, 4),
    "2011_09_29": (22, 11),
    "2011_09_30": (18, 5),
    "2011_10_03": (24, 12),
}


@pytest.mark.parametrize("date", sorted(KB_TOP_LEFT))
def test_kb_crop_box_matches_the_reference_table(date):
    assert kb_crop_box(*fakes.KITTI_DATE_SIZES[date]) == KB_TOP_LEFT[date]


def test_kb_crop_box_edge_cases():
    assert kb_crop_box(352, 1216) == (0, 0)
    with pytest.raises(ShapeMismatchError, match=r"\(350, 1242\) is smaller than the 352 x 1216"):
        kb_crop_box(350, 1242)


def _dataset(kitti, **kwargs):
    with pytest.warns(
        UserWarning, match=r"2 of 5 lines have no ground truth \('None'\) and are skipped; 3 samples remain"
    ):
        return KITTIEigen(kitti.raw_root, kitti.gt_root, "test", kitti.list_file, **kwargs)


def test_samples_are_kb_cropped_in_metres(kitti):
    dataset = _dataset(kitti)
    assert len(dataset) == 3 and dataset.num_without_gt == 2
    assert [e.line for e in dataset.entries] == [1, 3, 4]
    for position, line in enumerate([1, 3, 4]):
        sample = dataset[position]
        top, left = KB_TOP_LEFT[kitti.dates[line]]
        window = (slice(top, top + 352), slice(left, left + 1216))
        assert sample["image"].shape == (352, 1216, 3) and sample["depth"].shape == (352, 1216)
        np.testing.assert_array_equal(sample["image"], kitti.rgb[line][window])
        units = kitti.gt_units[line][window]
        np.testing.assert_array_equal(sample["depth"], units.astype(np.float32) / np.float32(256))
        np.testing.assert_array_equal(sample["valid"], units > 0)
        assert 0 < sample["valid"].mean() < 0.1
        assert sample["focal"] == fakes.KITTI_DATE_FOCALS[kitti.dates[line]]
        assert sample["index"] == position


def test_shipped_eigen_test_list_is_the_default(kitti):
    with pytest.warns(UserWarning, match="45 of 697 lines have no ground truth"):
        with pytest.raises(SplitListError, match=r"652 of 652 lines name files that do not exist"):
            KITTIEigen(kitti.raw_root, kitti.gt_root, "test")


def test_missing_image_reports_line(kitti, tmp_path):
    lines = kitti.list_file.read_text().splitlines()
    lines[3] = lines[3].replace("0000000040.png", "0000000041.png", 1)  # the raw image only
    broken = tmp_path / "broken.txt"
    broken.write_text("\n".join(lines))
    with (
        pytest.warns(UserWarning, match="no ground truth"),
        pytest.raises(SplitListError, match=r"(?m)1 of 3 lines(.|\n)*line 4: .*0000000041\.png$"),
    ):
        KITTIEigen(kitti.raw_root, kitti.gt_root, "test", broken)


def test_gt_of_another_size_is_refused(kitti, tmp_path):
    gt_root = tmp_path / "gt"
    shutil.copytree(kitti.gt_root, gt_root)
    line = kitti.list_file.read_text().splitlines()[0]
    cv2.imwrite(str(gt_root / line.split()[1]), np.zeros((370, 1224), np.uint16))
    with pytest.warns(UserWarning):
        dataset = KITTIEigen(kitti.raw_root, gt_root, "test", kitti.list_file)
    with pytest.raises(ShapeMismatchError, match=r"line 1: image shape \(375, 1242, 3\) and depth shape \(370, 1224\)"):
        dataset[0]


def test_missing_roots_print_the_layout(kitti, tmp_path):
    with pytest.raises(
        DatasetNotFoundError,
        match=r"(?s)KITTI raw images.*raw_data\.php.*\nExpected layout:\n.*image_02/data/0000000069\.png",
    ):
        KITTIEigen(tmp_path / "raw", kitti.gt_root)
    with pytest.raises(DatasetNotFoundError, match=r"(?s)KITTI annotated depth.*MERGED.*proj_depth/groundtruth"):
        KITTIEigen(kitti.raw_root, tmp_path / "gt")
