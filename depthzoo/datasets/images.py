"""Plain image files to predict on: a folder, one file, or a text file listing paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from depthzoo.datasets.errors import InputListError, InputNotFoundError
from depthzoo.datasets.imageio import decode_image
from depthzoo.errors import listing

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_INPUTS_FIX = "pass an image, a folder of images or a .txt file listing image paths"


def _list_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputListError(f"cannot read the input list ({exc})", source=path, fix=_INPUTS_FIX) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _collect(item: str | Path, within: tuple[Path, ...]) -> list[tuple[Path, str]]:
    """(path, name) pairs for one input; ``within`` holds the lists being read, outermost first."""
    if not str(item).strip():  # Path("") is the current folder: never take that by accident
        raise InputListError("an empty input would mean the current folder", fix=_INPUTS_FIX)
    path = Path(item).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not found:
            raise InputNotFoundError(
                f"no images ({', '.join(IMAGE_SUFFIXES)}) in the folder or below it", source=path, fix=_INPUTS_FIX
            )
        return [(p, str(p.relative_to(path).with_suffix(""))) for p in found]
    if path.suffix.lower() == ".txt" and path.is_file():
        resolved = path.resolve()
        if resolved in within:
            chain = " -> ".join(str(p) for p in (*within[within.index(resolved) :], resolved))
            raise InputListError(f"the input list includes itself ({chain})", source=path, fix="remove that line")
        entries: list[tuple[Path, str]] = []
        for line in _list_lines(path):
            entry = Path(line).expanduser()
            entries += _collect(entry if entry.is_absolute() else path.parent / entry, (*within, resolved))
        if not entries:
            raise InputListError("the input list names no image", source=path, fix=_INPUTS_FIX)
        return entries
    if path.is_file():
        return [(path, path.stem)]
    where = f", named in {within[-1]}," if within else ""
    raise InputNotFoundError(f"the input{where} does not exist", source=path, fix=_INPUTS_FIX)


def find_images(inputs: str | list[str]) -> list[tuple[Path, str]]:
    """(path, output name) pairs for the images named by ``inputs``.

    A folder is searched recursively (names keep the sub-folders), a ``.txt`` file lists one path per line (relative
    to the list's folder; lists may name other lists, but not themselves), anything else is an image path.

    Raises:
        InputNotFoundError: a path does not exist, or a folder holds no image.
        InputListError: no input at all (an empty string would otherwise mean the current folder), a list that
            includes itself, or two inputs that would write the same outputs.
    """
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    if not items:
        raise InputListError("no inputs given", fix=_INPUTS_FIX)
    entries = [entry for item in items for entry in _collect(item, ())]
    names = [name for _, name in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputListError(
            f"several inputs would write the same outputs: {listing(duplicates)}",
            fix="rename them, or predict them in separate runs",
        )
    return entries


def _resized(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of (H, W, 3) uint8 or float32 pixels, keeping the dtype."""
    if image.dtype == np.uint8:
        return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))
    channels = [Image.fromarray(np.ascontiguousarray(image[..., c])).resize((width, height), Image.BILINEAR)
                for c in range(image.shape[2])]
    return np.clip(np.stack([np.asarray(c) for c in channels], axis=2), 0.0, 1.0)


class ImageFiles(Dataset):
    """RGB images as {"image": (3, h, w) float [0, 1], "name", "height", "width"} (original size kept in metadata).

    Images are decoded as a viewer shows them (:func:`~depthzoo.datasets.imageio.decode_image`: EXIF orientation
    applied, 16-bit and float images at full precision). ``input_size`` resizes every image (bilinear) for the
    network, which lets images of different sizes share a batch.
    """

    def __init__(self, inputs: str | list[str], input_size: tuple[int, int] | None = None) -> None:
        self.entries = find_images(inputs)
        self.input_size = input_size

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path, name = self.entries[index]
        pixels = decode_image(path)
        height, width = pixels.shape[:2]
        if self.input_size is not None:
            pixels = _resized(pixels, *self.input_size)
        scale = np.float32(255) if pixels.dtype == np.uint8 else np.float32(1)
        image = torch.from_numpy(pixels.astype(np.float32) / scale).permute(2, 0, 1).contiguous()
        return {"image": image, "name": name, "height": height, "width": width, "index": index}
