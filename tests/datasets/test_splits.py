"""The shipped split lists and the list-file reader, checked against the facts of the reference copies."""
from __future__ import annotations

import collections
import hashlib
import re

import numpy as np
import pytest

from depthzoo.datasets.errors import SplitListError
from depthzoo.datasets.splits import official_nyu_split, read_list, resolve_entries, shipped_list


@pytest.mark.parametrize(
    ("name", "lines", "sha256_prefix"),
    [
        ("nyu_train", 24_231, "66e2beb718a58c5c"),
        ("nyu_test", 654, "e92c191d5835a225"),
        ("kitti_eigen_train", 23_158, "3655308ee4a01709"),
        ("kitti_eigen_test", 697, "8d0499af9ab4c0d1"),
    ],
)
def test_shipped_lists_are_the_reference_files(name, lines, sha256_prefix):
    path = shipped_list(name)
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith(sha256_prefix)
    assert len(read_list(path)) == lines


def test_nyu_lists_format():
    train, test = read_list(shipped_list("nyu_train")), read_list(shipped_list("nyu_test"))
    assert all(e.rgb.startswith("/") and e.depth.startswith("/") for e in train)
    assert not any(e.rgb.startswith("/") for e in test)
    assert {e.focal for e in train + test} == {518.8579}
    assert len({e.rgb.split("/")[1] for e in train}) == 284  # scenes
    assert len({e.rgb.split("/")[0] for e in test}) == 16  # scene types


def test_nyu_test_list_ids_are_the_official_test_indices():
    _, official_test = official_nyu_split()
    ids = sorted(int(re.search(r"rgb_(\d{5})\.jpg", e.rgb).group(1)) for e in read_list(shipped_list("nyu_test")))
    np.testing.assert_array_equal(ids, official_test)


def test_official_split_facts():
    train, test = official_nyu_split()
    assert (train.size, test.size) == (795, 654)
    assert int((train + 1).sum()) == 551_687 and int((test + 1).sum()) == 498_838
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(1449))
    np.testing.assert_array_equal(test[:10] + 1, [1, 2, 9, 14, 15, 16, 17, 18, 21, 28])


def test_kitti_test_list_facts():
    entries = read_list(shipped_list("kitti_eigen_test"))
    assert sum(e.depth is None for e in entries) == 45
    per_date = collections.Counter(e.rgb.split("/")[0] for e in entries)
    assert per_date == {"2011_09_26": 522, "2011_09_30": 75, "2011_10_03": 50, "2011_09_28": 25, "2011_09_29": 25}
    assert len({e.rgb.split("/")[1] for e in entries}) == 28
    drive_48 = [e for e in entries if "2011_09_26_drive_0048_sync" in e.rgb]
    # 10 of its 22 frames lack GT (frames 0-4 and near the end; not all 22 as sometimes stated)
    assert len(drive_48) == 22 and sum(e.depth is None for e in drive_48) == 10
    train = read_list(shipped_list("kitti_eigen_train"))
    assert not any(e.depth is None for e in train)


def test_unknown_shipped_list_names_the_choices():
    with pytest.raises(KeyError, match="kitti_eigen_test"):
        shipped_list("eigen")


def test_read_list_lines_and_errors(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("a.png b.png 500.5\n\n/c.png None 700\n")
    first, second = read_list(path)
    assert (first.line, first.rgb, first.depth, first.focal) == (1, "a.png", "b.png", 500.5)
    assert (second.line, second.depth) == (3, None)
    path.write_text("a.png b.png -3\n")
    with pytest.raises(SplitListError, match="line 1: the third field must be a positive focal"):
        read_list(path)
    path.write_text("\n\n")
    with pytest.raises(SplitListError, match="has no entries"):
        read_list(path)
    with pytest.raises(SplitListError, match="not found"):
        read_list(tmp_path / "absent.txt")


def test_resolve_entries_strips_leading_slash_and_checks_policy(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.png").write_bytes(b"")
    (tmp_path / "x" / "b.png").write_bytes(b"")
    path = tmp_path / "list.txt"
    path.write_text("/x/a.png /x/b.png 1\n")
    (entry,) = resolve_entries(read_list(path), path, tmp_path, tmp_path)
    assert entry.rgb_path == tmp_path / "x" / "a.png" and entry.depth_path == tmp_path / "x" / "b.png"
    with pytest.raises(ValueError, match="missing must be 'raise' or 'skip'"):
        resolve_entries(read_list(path), path, tmp_path, tmp_path, missing="ignore")
    path.write_text("/x/a.png /x/nope.png 1\n")
    with pytest.warns(UserWarning), pytest.raises(SplitListError, match="No line of the list is usable"):
        resolve_entries(read_list(path), path, tmp_path, tmp_path, missing="skip")
