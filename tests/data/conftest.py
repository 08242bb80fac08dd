"""Fixtures for the data tests: small fake datasets in the real formats, written once per module."""
from __future__ import annotations

import fakes
import pytest


@pytest.fixture(scope="module")
def nyu_mat_480(tmp_path_factory: pytest.TempPathFactory):
    """A 4-image 480x640 labeled-layout file with an embedded split (train 1,2,4; test 3)."""
    images, depths, raw = fakes.make_nyu_arrays(4, 480, 640, seed=1)
    path = fakes.write_nyu_mat(
        tmp_path_factory.mktemp("nyu480") / "nyu_depth_v2_labeled.mat", images, depths, raw, split=([1, 2, 4], [3])
    )
    return path, images, depths, raw


@pytest.fixture(scope="module")
def nyu_sync(tmp_path_factory: pytest.TempPathFactory) -> fakes.SyncFake:
    return fakes.write_nyu_sync(tmp_path_factory.mktemp("sync"))


@pytest.fixture(scope="module")
def kitti(tmp_path_factory: pytest.TempPathFactory) -> fakes.KittiFake:
    frames = [
        ("2011_09_26", 5, True),
        ("2011_09_28", 0, False),
        ("2011_09_29", 17, True),
        ("2011_09_30", 40, True),
        ("2011_10_03", 3, False),
    ]
    return fakes.write_kitti(tmp_path_factory.mktemp("kitti"), frames)
