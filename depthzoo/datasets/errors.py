"""Errors raised by the dataset readers; each message says what is wrong and how to fix it.

All are :class:`depthzoo.errors.DataError` (so the ``depthzoo`` command prints them as one ``error:`` line) and keep
the built-in base a Python caller expects (``FileNotFoundError``, ``ValueError``, ...).
"""
from __future__ import annotations

from pathlib import Path

from depthzoo.errors import DataError


class DatasetNotFoundError(DataError, FileNotFoundError):
    """A dataset root or file does not exist.

    The message's first line names what is missing and where to get it; the lines after it draw the expected layout
    (the command line prints them above its one ``error:`` line).
    """

    def __init__(self, dataset: str, missing: str | Path, layout: str, source: str) -> None:
        self.dataset = dataset
        self.missing = Path(missing)
        message = (
            f"{dataset}: not found: {missing}; where to get it: {source.rstrip()}\n"
            f"Expected layout:\n{layout.rstrip()}"
        )
        super().__init__(message)


class CorruptDataError(DataError, RuntimeError):
    """A file exists but cannot be decoded (truncated, corrupt or of the wrong kind); names the file and sample."""


class SplitListError(DataError, ValueError):
    """A split list file is malformed or names files that do not exist; names the list and its line numbers."""


class ShapeMismatchError(DataError, ValueError):
    """Two arrays that must have the same size do not; the message gives both shapes."""


class InputNotFoundError(DataError, FileNotFoundError):
    """An input to predict on (an image, a folder or a list) does not exist, or a folder holds no image."""


class InputListError(DataError, ValueError):
    """The inputs cannot be used as given: empty, a list that includes itself, or names that would collide."""


class NoValidDataError(DataError, ValueError):
    """There is nothing to compute over: no image, or no image with a valid ground-truth pixel."""
