"""The shipped split lists (package data) and the reader for ``rgb depth focal`` list files.

Shipped files, byte-identical to the community copies (cleinc/bts ``train_test_inputs/``; the
Monocular-Depth-Estimation-Toolbox and AdaBins ship the same content):

- ``nyudepthv2_{train,test}_files_with_gt.txt``: NYU "sync" layout, 24,231 / 654 lines.
- ``eigen_{train,test}_files_with_gt.txt``: KITTI Eigen split, 23,158 / 697 lines (45 test lines without GT).
- ``scannet_val_sampled_list_800_1.txt``: Marigold's 800 sampled ScanNet validation frames (``color depth`` pairs;
  prs-eth/Marigold ``data_split/scannet_depth``, Apache-2.0).
- ``nyu_official_split.json``: the official 795/654 split of the labeled .mat, 1-based (``splits.mat``).
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from depthzoo.datasets.errors import SplitListError
from depthzoo.errors import InvalidArgumentError

MissingPolicy = Literal["raise", "skip"]

_HERE = Path(__file__).resolve().parent

SHIPPED_LISTS: dict[str, str] = {
    "nyu_train": "nyudepthv2_train_files_with_gt.txt",
    "nyu_test": "nyudepthv2_test_files_with_gt.txt",
    "kitti_eigen_train": "eigen_train_files_with_gt.txt",
    "kitti_eigen_test": "eigen_test_files_with_gt.txt",
    "scannet_marigold_800": "scannet_val_sampled_list_800_1.txt",
}

NYU_NUM_LABELED = 1449
_MISSING_SHOWN = 10


def shipped_list(name: str) -> Path:
    """Path of a shipped list file by short name (see ``SHIPPED_LISTS``)."""
    try:
        return _HERE / SHIPPED_LISTS[name]
    except KeyError:
        raise KeyError(f"unknown split list {name!r}; shipped lists: {sorted(SHIPPED_LISTS)}") from None


def official_nyu_split() -> tuple[np.ndarray, np.ndarray]:
    """The official NYU Depth v2 labeled split as 0-based (train, test) index arrays (795 and 654 images)."""
    with open(_HERE / "nyu_official_split.json", encoding="utf-8") as handle:
        split = json.load(handle)
    train = np.asarray(split["train"], dtype=np.int64) - 1
    test = np.asarray(split["test"], dtype=np.int64) - 1
    return train, test


@dataclass(frozen=True)
class ListEntry:
    """One line of a list file: paths as written (relative), the focal length and principal point in pixels.

    ``focal`` is None on a two-field line and ``cx``/``cy`` on lines without them (lists of your own data only).
    """

    line: int
    rgb: str
    depth: str | None
    focal: float | None
    cx: float | None = None
    cy: float | None = None


@dataclass(frozen=True)
class ResolvedEntry:
    """A list entry with absolute paths; ``depth_path`` is None where the list has no ground truth."""

    line: int
    rgb_path: Path
    depth_path: Path | None
    focal: float | None
    cx: float | None = None
    cy: float | None = None


def read_list(path: str | Path, intrinsics_optional: bool = False) -> list[ListEntry]:
    """Parse a ``rgb depth focal`` list; a depth of ``None`` (KITTI lines without GT) becomes None.

    Blank lines are ignored. Any other line that does not have exactly three fields, or whose focal is not a
    positive number, raises :class:`SplitListError` naming the file and line number. With
    ``intrinsics_optional`` (lists of your own data), a line may also be ``rgb depth`` (no focal) or
    ``rgb depth focal cx cy`` (with the principal point).
    """
    path = Path(path)
    if not path.is_file():
        raise SplitListError(f"split list file not found: {path}")
    counts = (2, 3, 5) if intrinsics_optional else (3,)
    expected = (
        "'rgb_path depth_path [focal [cx cy]]'" if intrinsics_optional else "'rgb_path depth_path focal'"
    )
    entries: list[ListEntry] = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            fields = raw.split()
            if not fields:
                continue
            if len(fields) not in counts:
                raise SplitListError(
                    f"{path}, line {number}: expected {' or '.join(map(str, counts))} space-separated fields "
                    f"{expected}, got {len(fields)}: {raw.strip()!r}"
                )
            rgb, depth, *numbers = fields
            values = [_list_number(path, number, text, name) for text, name in zip(numbers, ("focal", "cx", "cy"))]
            focal, cx, cy = (values + [None, None, None])[:3]
            entries.append(ListEntry(number, rgb, None if depth == "None" else depth, focal, cx, cy))
    if not entries:
        raise SplitListError(f"split list {path} has no entries")
    return entries


def _list_number(path: Path, line: int, text: str, name: str) -> float:
    """A list field as a float: the focal must be > 0, the principal point finite."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or (name == "focal" and value <= 0):
        what = "a positive focal length in pixels" if name == "focal" else f"the principal point's {name} in pixels"
        field = "third" if name == "focal" else ("fourth" if name == "cx" else "fifth")
        raise SplitListError(f"{path}, line {line}: the {field} field must be {what}, got {text!r}")
    return value


def resolve_entries(
    entries: list[ListEntry],
    list_path: str | Path,
    rgb_root: str | Path,
    depth_root: str | Path,
    missing: MissingPolicy = "raise",
) -> list[ResolvedEntry]:
    """Join list paths to their roots (a leading ``/`` is stripped) and check that every file exists.

    Missing files are collected in one pass, at construction, and reported once with their line numbers:
    ``missing="raise"`` raises :class:`SplitListError`; ``missing="skip"`` drops those lines and warns.
    """
    if missing not in ("raise", "skip"):
        raise InvalidArgumentError(f"missing must be 'raise' or 'skip', got {missing!r}")
    rgb_root, depth_root = Path(rgb_root), Path(depth_root)
    resolved: list[ResolvedEntry] = []
    problems: list[str] = []
    for entry in entries:
        rgb_path = rgb_root / entry.rgb.lstrip("/")
        depth_path = None if entry.depth is None else depth_root / entry.depth.lstrip("/")
        absent = [p for p in (rgb_path, depth_path) if p is not None and not os.path.isfile(p)]
        if absent:
            problems.append(f"  line {entry.line}: " + ", ".join(str(p) for p in absent))
            continue
        resolved.append(ResolvedEntry(entry.line, rgb_path, depth_path, entry.focal, entry.cx, entry.cy))
    if problems:
        shown = "\n".join(problems[:_MISSING_SHOWN])
        more = f"\n  ... and {len(problems) - _MISSING_SHOWN} more" if len(problems) > _MISSING_SHOWN else ""
        summary = (
            f"{list_path}: {len(problems)} of {len(entries)} lines name files that do not exist "
            f"(rgb root {rgb_root}, depth root {depth_root}):\n{shown}{more}"
        )
        if missing == "raise":
            raise SplitListError(
                summary + "\nCheck the root folders, or pass missing_files='skip' to drop these lines with a warning."
            )
        warnings.warn(summary + "\nThese lines are skipped.", UserWarning, stacklevel=3)
        if not resolved:
            raise SplitListError(summary + "\nNo line of the list is usable.")
    return resolved
