"""Argument checks: what passes, and messages that name the argument and what it needs."""

from __future__ import annotations

import numpy as np
import pytest

from depthzoo.errors import ArgumentTypeError, DepthzooError, InvalidArgumentError
from depthzoo.utils.validation import check_int, check_number, check_size


def test_integers() -> None:
    assert check_int("num", np.int64(3), minimum=1) == 3 and isinstance(check_int("num", np.int64(3)), int)
    with pytest.raises(ArgumentTypeError, match=r"num must be an integer, got True \(bool\)"):
        check_int("num", True)
    with pytest.raises(TypeError, match="got 2.0"):
        check_int("num", 2.0)
    with pytest.raises(InvalidArgumentError, match="num must be at least 2, got 1"):
        check_int("num", 1, minimum=2)


def test_numbers() -> None:
    assert check_number("lr", 1, low=0) == 1.0
    for bad in (float("nan"), float("inf"), "0.1", None, False):
        with pytest.raises(ArgumentTypeError, match="lr must be a finite number"):
            check_number("lr", bad)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], got 1.5"):
        check_number("p", 1.5, low=0, high=1)


def test_sizes() -> None:
    assert check_size("input_size", [228, 304]) == (228, 304)
    assert check_size("resize", None, optional=True) is None
    for bad in ((228,), (228, 0), (228.5, 304), "228x304", (True, 4), None):
        with pytest.raises(DepthzooError, match=r"must be \(height, width\) with two positive integers"):
            check_size("input_size", bad)
