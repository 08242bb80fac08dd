"""Errors raised by the dataset readers; each message says what is wrong and how to fix it."""
from __future__ import annotations

from pathlib import Path


class DatasetNotFoundError(FileNotFoundError):
    """A dataset root or file does not exist. The message prints the expected layout and where to get the data."""

    def __init__(self, dataset: str, missing: str | Path, layout: str, source: str) -> None:
        self.dataset = dataset
        self.missing = Path(missing)
        message = (
            f"{dataset}: not found: {missing}\n"
            f"Expected layout:\n{layout.rstrip()}\n"
            f"Where to get it: {source.rstrip()}"
        )
        super().__init__(message)

    def __str__(self) -> str:  # FileNotFoundError would otherwise print "[Errno None] ..."
        return str(self.args[0])


class CorruptDataError(RuntimeError):
    """A file exists but cannot be decoded (truncated, corrupt or of the wrong kind); names the file and sample."""


class SplitListError(ValueError):
    """A split list file is malformed or names files that do not exist; names the list and its line numbers."""


class ShapeMismatchError(ValueError):
    """Two arrays that must have the same size do not; the message gives both shapes."""
