"""Checks of plain arguments (integers, sizes, ranges) with messages that name the argument and what it needs.

>>> check_int("num", 3, minimum=1)
3
>>> check_size("input_size", [228, 304])
(228, 304)
>>> check_size("input_size", (228, 0))
Traceback (most recent call last):
...
depthzoo.errors.InvalidArgumentError: input_size must be (height, width) with two positive integers, got (228, 0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

from depthzoo.errors import ArgumentTypeError, InvalidArgumentError


def check_int(name: str, value: object, minimum: int | None = None) -> int:
    """``value`` as an int; bools and non-integers are refused, and so is anything below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ArgumentTypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is a bool; anything else (``"no"``, ``0``, ``None``) is refused rather than taken as truthy.

    >>> check_bool("pretrained", "no")
    Traceback (most recent call last):
    ...
    depthzoo.errors.ArgumentTypeError: pretrained must be True or False, got 'no' (str)
    """
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return value


def check_name(name: str, value: object) -> str:
    """``value`` if it is a non-empty string (a model or decoder name), else an error naming what was given."""
    if not isinstance(value, str) or not value.strip():
        raise ArgumentTypeError(f"{name} must be a name (a non-empty string), got {value!r} ({type(value).__name__})")
    return value


def check_number(name: str, value: object, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a finite float within ``[low, high]`` (either bound optional)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ArgumentTypeError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise InvalidArgumentError(f"{name} must lie in {bounds}, got {value}")
    return value


def check_size(name: str, size: Sequence[int] | None, optional: bool = False) -> tuple[int, int] | None:
    """``size`` as a ``(height, width)`` tuple of two positive integers (``None`` passes when ``optional``)."""
    if size is None and optional:
        return None
    values = tuple(size) if isinstance(size, Sequence) and not isinstance(size, str) else None
    if (
        values is None
        or len(values) != 2
        or not all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in values)
    ):
        raise InvalidArgumentError(f"{name} must be (height, width) with two positive integers, got {size!r}")
    return int(values[0]), int(values[1])


__all__ = ["check_bool", "check_int", "check_name", "check_number", "check_size"]
