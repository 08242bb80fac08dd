"""Your own RGB-D data: image/depth pairs from a list file or matched across two folders, in any depth format.

Pairs come from a list file of ``rgb depth [focal [cx cy]]`` lines (the format of the shipped NYU and KITTI lists,
paths relative to a root) or from two folders matched by relative path and stem through a template such as
``{stem}_depth.png`` (``rgb/kitchen/0001.jpg`` pairs with ``depth/kitchen/0001_depth.png``). Depth files are
16-bit PNG or TIFF (``depth_scale`` units per metre: 1000 for millimetres, 256 for KITTI), float ``.npy``, float32
TIFF, PFM or OpenEXR (metres unless ``depth_scale`` says otherwise); see
:func:`~depthzoo.datasets.imageio.read_depth_raw`. A pixel is invalid where the stored value equals
``invalid_value`` (0 by default), where it is NaN, infinite or not positive, and where the optional mask file is 0.
"""

from __future__ import annotations

import math
import os
import string
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from typing_extensions import override

from depthzoo.datasets.base import DepthDataset, Sample, SampleTransform
from depthzoo.datasets.errors import CorruptDataError, DatasetNotFoundError, ShapeMismatchError, SplitListError
from depthzoo.datasets.imageio import (
    DEPTH_SUFFIXES,
    check_same_size,
    default_depth_scale,
    read_depth_raw,
    read_mask,
    read_rgb,
    valid_depth,
)
from depthzoo.datasets.images import IMAGE_SUFFIXES
from depthzoo.datasets.splits import MissingPolicy, read_list, resolve_entries
from depthzoo.errors import InvalidArgumentError, listing
from depthzoo.geometry import Intrinsics

FOLDER_LAYOUT = """\
<root>/
  rgb/<any sub-folders>/<stem>.jpg|.png     colour images
  depth/<same sub-folders>/<stem>.png       depth named by depth_template (here "{stem}.png"): 16-bit PNG
                                            (depth_scale units per metre), .npy, float TIFF, PFM or OpenEXR
  mask/<same sub-folders>/<stem>.png        optional, non-zero = valid (mask_template)
or list files of 'rgb_path depth_path [focal [cx cy]]' lines, paths relative to <root>"""


@dataclass(frozen=True)
class PairEntry:
    """One RGB-D pair: its files, its name for outputs, where it came from, and the intrinsics it brings."""

    name: str
    rgb_path: Path
    depth_path: Path
    mask_path: Path | None = None
    focal: float | None = None
    cx: float | None = None
    cy: float | None = None
    where: str = ""


def check_template(template: str, argument: str) -> str:
    """A file-name template with exactly the ``{stem}`` field, e.g. ``{stem}_depth.png``."""
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise InvalidArgumentError(f"{argument}={template!r} is not a valid template: {exc}") from None
    if fields != {"stem"} or "/" in template or os.sep in template:
        raise InvalidArgumentError(
            f"{argument} must be a file name with the field {{stem}} (the RGB file's name without its suffix) "
            f"and no other field or folder, e.g. '{{stem}}.png' or '{{stem}}_depth.npy'; got {template!r}"
        )
    return template


def _templated(folder: Path, relative: Path, template: str) -> Path:
    return folder / relative.parent / template.format(stem=relative.stem)


def pairs_from_folders(
    rgb_dir: str | Path,
    depth_dir: str | Path,
    depth_template: str = "{stem}.png",
    mask_dir: str | Path | None = None,
    mask_template: str = "{stem}.png",
    missing: MissingPolicy = "raise",
) -> list[PairEntry]:
    """Pair every image under ``rgb_dir`` (recursively) with ``depth_dir/<same sub-folder>/<depth_template>``.

    Images without a depth file, and depth files no image claims, are unmatched: ``missing="raise"`` refuses
    them (the first few names and how many), ``missing="skip"`` drops them with one warning. With a mask folder,
    every pair must have its mask. The two folders may be the same one (``0001.jpg`` next to ``0001_depth.png``).
    """
    rgb_dir, depth_dir = Path(rgb_dir).expanduser(), Path(depth_dir).expanduser()
    check_template(depth_template, "depth_template")
    if mask_dir is not None:
        check_template(mask_template, "mask_template")
        mask_dir = Path(mask_dir).expanduser()
    for name, folder in (("rgb_dir", rgb_dir), ("depth_dir", depth_dir), ("mask_dir", mask_dir)):
        if folder is not None and not folder.is_dir():
            raise DatasetNotFoundError(f"image folder ({name})", folder, FOLDER_LAYOUT, "your own RGB-D data")
    images = sorted(p for p in rgb_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    expected = {
        image: (
            _templated(depth_dir, image.relative_to(rgb_dir), depth_template),
            None if mask_dir is None else _templated(mask_dir, image.relative_to(rgb_dir), mask_template),
        )
        for image in images
    }
    claimed = {path for pair in expected.values() for path in pair if path is not None}
    images = [image for image in images if image not in claimed]  # a shared folder holds depth PNGs too
    entries, unmatched = [], []
    for image in images:
        depth_path, mask_path = expected[image]
        relative = image.relative_to(rgb_dir)
        absent = [str(p) for p in (depth_path, mask_path) if p is not None and not p.is_file()]
        if absent:
            unmatched.append(f"{relative} (no {' and no '.join(absent)})")
            continue
        name = str(relative.with_suffix(""))
        entries.append(PairEntry(name, image, depth_path, mask_path, where=str(image)))
    colour = set(images)
    orphans = sorted(
        p for p in depth_dir.rglob("*")
        if p.suffix.lower() in DEPTH_SUFFIXES and _matches(p.name, depth_template) and p not in claimed
        and p not in colour and p.is_file()
    )
    problems = []
    if unmatched:
        problems.append(f"{len(unmatched)} of {len(images)} images have no depth file: {listing(unmatched, 5)}")
    if orphans:
        shown = [str(p.relative_to(depth_dir)) for p in orphans]
        problems.append(f"{len(orphans)} depth files match no image: {listing(shown, 5)}")
    if problems:
        summary = (
            f"unmatched RGB-D pairs between {rgb_dir} and {depth_dir} (depth_template={depth_template!r}): "
            + "; ".join(problems)
        )
        if missing == "raise":
            raise SplitListError(
                summary + ". Check the folders and the template, or pass missing_files='skip' to leave them out"
            )
        warnings.warn(summary + "; they are left out.", UserWarning, stacklevel=2)
    if not entries:
        raise DatasetNotFoundError(
            f"RGB-D pairs (no image under {rgb_dir} has a depth file {depth_template!r} in {depth_dir})",
            rgb_dir, FOLDER_LAYOUT, "your own RGB-D data",
        )
    return entries


def _matches(name: str, template: str) -> bool:
    """Whether a file name could have come from ``template`` (its text around ``{stem}`` matches)."""
    prefix, suffix = template.split("{stem}", 1)
    return len(name) > len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix)


def pairs_from_list(
    list_file: str | Path,
    root: str | Path,
    mask_dir: str | Path | None = None,
    mask_template: str = "{stem}.png",
    missing: MissingPolicy = "raise",
) -> list[PairEntry]:
    """The pairs of a ``rgb depth [focal [cx cy]]`` list whose paths are relative to ``root``.

    With ``mask_dir``, the mask of ``<sub-folders>/<stem>.jpg`` is ``mask_dir/<sub-folders>/<mask_template>``.
    Lines naming missing files are reported once with their line numbers (``missing`` as in
    :func:`~depthzoo.datasets.splits.resolve_entries`).
    """
    root = Path(root).expanduser()
    entries = read_list(list_file, intrinsics_optional=True)
    without_depth = [e.line for e in entries if e.depth is None]
    if without_depth:
        raise SplitListError(
            f"{list_file}: every line must name a depth file; 'None' on lines {listing(without_depth, 10)}"
        )
    pairs = []
    for entry in resolve_entries(entries, list_file, root, root, missing):
        relative = Path(os.path.relpath(entry.rgb_path, root))
        name = str(relative.with_suffix("")) if not relative.parts[0] == os.pardir else entry.rgb_path.stem
        mask_path = None
        if mask_dir is not None:
            template = check_template(mask_template, "mask_template")
            mask_path = _templated(Path(mask_dir).expanduser(), relative, template)
        assert entry.depth_path is not None
        pairs.append(
            PairEntry(name, entry.rgb_path, entry.depth_path, mask_path, entry.focal, entry.cx, entry.cy,
                      f"{list_file}, line {entry.line}")
        )
    if mask_dir is not None:
        absent = [f"{p.where}: {p.mask_path}" for p in pairs if not p.mask_path.is_file()]
        if absent:
            raise SplitListError(f"{len(absent)} of {len(pairs)} pairs have no mask file: {listing(absent, 5)}")
    return pairs


class FolderDataset(DepthDataset):
    """Reader of RGB-D pairs (:class:`PairEntry`) in any supported depth format.

    Args:
        entries: the pairs, from :func:`pairs_from_list` or :func:`pairs_from_folders`.
        transform: applied to each raw sample.
        depth_scale: stored units per metre (metres = value / depth_scale); None: 1000 (millimetres) for integer
            files, 1 for floating-point files.
        invalid_value: the stored value that marks a pixel without depth (0 by default); NaN, infinite and
            non-positive values are invalid too.
        focal: focal length in pixels of the images as stored, for pairs whose list line gives none.
        cx: principal point column for pairs whose list line gives none (default the image centre).
        cy: principal point row for pairs whose list line gives none (default the image centre).

    Samples carry ``intrinsics`` (fx = fy = focal, cx, cy) when a focal is known, else ``focal`` NaN.
    """

    def __init__(
        self,
        entries: Sequence[PairEntry],
        transform: SampleTransform | None = None,
        depth_scale: float | None = None,
        invalid_value: float = 0.0,
        focal: float | None = None,
        cx: float | None = None,
        cy: float | None = None,
    ) -> None:
        super().__init__(transform)
        if depth_scale is not None and not (math.isfinite(depth_scale) and depth_scale > 0):
            raise InvalidArgumentError(
                f"depth_scale must be a positive number of stored units per metre (1000 for millimetres, 256 for "
                f"KITTI-style PNGs, 1 for metres), got {depth_scale!r}"
            )
        if focal is not None and not (math.isfinite(focal) and focal > 0):
            raise InvalidArgumentError(f"focal must be a positive focal length in pixels, got {focal!r}")
        self.entries = list(entries)
        self.depth_scale = depth_scale
        self.invalid_value = float(invalid_value)
        self.focal, self.cx, self.cy = focal, cx, cy
        known = [e.focal is not None or focal is not None for e in self.entries]
        if any(known) and not all(known):
            lacking = [e.where for e, k in zip(self.entries, known) if not k]
            raise InvalidArgumentError(
                f"{len(lacking)} of {len(known)} pairs have no focal length while others have one: "
                f"{listing(lacking, 5)}",
                fix="give every list line a focal, or pass focal for the lines without one",
            )

    def __len__(self) -> int:
        return len(self.entries)

    @override
    def sample_name(self, position: int) -> str:
        return self.entries[position].name

    def read_depth(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(depth float32 metres with invalid pixels 0, valid bool) of pair ``position``, without the image."""
        entry = self.entries[position]
        try:
            raw = read_depth_raw(entry.depth_path)
        except CorruptDataError as exc:
            raise CorruptDataError(f"{entry.where}: {exc}") from exc
        scale = self.depth_scale if self.depth_scale is not None else default_depth_scale(raw)
        invalid = raw == raw.dtype.type(self.invalid_value) if self._representable(raw) else np.zeros(raw.shape, bool)
        depth = (raw.astype(np.float64) / scale).astype(np.float32)
        depth, valid = valid_depth(np.where(invalid, np.float32(0), depth))
        if entry.mask_path is not None:
            try:
                mask = read_mask(entry.mask_path)
            except CorruptDataError as exc:
                raise CorruptDataError(f"{entry.where}: {exc}") from exc
            if mask.shape != depth.shape:
                raise ShapeMismatchError(
                    f"{entry.where}: mask {entry.mask_path} has shape {mask.shape}, depth {entry.depth_path} "
                    f"{depth.shape}; they must match"
                )
            valid &= mask
            depth = np.where(valid, depth, np.float32(0))
        return depth, valid

    def _representable(self, raw: np.ndarray) -> bool:
        value = self.invalid_value
        if raw.dtype.kind == "f":
            return math.isfinite(value)
        info = np.iinfo(raw.dtype)
        return value == int(value) and info.min <= value <= info.max

    def camera(self, position: int, height: int, width: int) -> Intrinsics | None:
        """The intrinsics of pair ``position`` for its image of ``height`` x ``width``, or None without a focal."""
        entry = self.entries[position]
        focal = entry.focal if entry.focal is not None else self.focal
        if focal is None:
            return None
        cx = entry.cx if entry.cx is not None else self.cx
        cy = entry.cy if entry.cy is not None else self.cy
        return Intrinsics.from_focal(focal, height, width, cx, cy)

    @override
    def load(self, position: int) -> Sample:
        entry = self.entries[position]
        try:
            image = read_rgb(entry.rgb_path)
        except CorruptDataError as exc:
            raise CorruptDataError(f"{entry.where}: {exc}") from exc
        depth, valid = self.read_depth(position)
        check_same_size(image, depth, f"{entry.where} ({entry.rgb_path.name} and {entry.depth_path.name})")
        sample: Sample = {"image": image, "depth": depth, "valid": valid, "index": position, "focal": math.nan}
        camera = self.camera(position, *image.shape[:2])
        if camera is not None:
            sample.update(focal=camera.fx, intrinsics=camera.as_array())
        return sample


__all__ = ["FOLDER_LAYOUT", "FolderDataset", "PairEntry", "check_template", "pairs_from_folders", "pairs_from_list"]
