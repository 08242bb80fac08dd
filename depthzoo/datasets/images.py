"""Plain image files to predict on: a folder, one file, or a text file listing paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def find_images(inputs: str | list[str]) -> list[tuple[Path, str]]:
    """(path, output name) pairs for the images named by ``inputs``.

    A folder is searched recursively (names keep the sub-folders), a ``.txt`` file lists one path per line,
    anything else is an image path. A missing path is an error that names it.
    """
    entries: list[tuple[Path, str]] = []
    for item in [inputs] if isinstance(inputs, str) else list(inputs):
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found under {path}")
            entries += [(p, str(p.relative_to(path).with_suffix(""))) for p in found]
        elif path.suffix.lower() == ".txt" and path.is_file():
            lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
            entries += find_images(
                [str((path.parent / line) if not Path(line).is_absolute() else line) for line in lines]
            )
        elif path.is_file():
            entries.append((path, path.stem))
        else:
            raise FileNotFoundError(f"input {str(path)!r} does not exist (expected an image, a folder or a .txt list)")
    names = [name for _, name in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"several inputs would write the same outputs {duplicates[:5]}; rename or predict them apart")
    return entries


class ImageFiles(Dataset):
    """RGB images as {"image": (3, h, w) float [0, 1], "name", "height", "width"} (original size kept in metadata).

    ``input_size`` resizes every image (bilinear) for the network, which lets images of different sizes share a batch.
    """

    def __init__(self, inputs: str | list[str], input_size: tuple[int, int] | None = None) -> None:
        self.entries = find_images(inputs)
        self.input_size = input_size

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path, name = self.entries[index]
        try:
            with Image.open(path) as handle:
                rgb = handle.convert("RGB")
        except OSError as exc:
            raise OSError(f"cannot read image {path}: {exc}") from exc
        width, height = rgb.size
        if self.input_size is not None:
            rgb = rgb.resize((self.input_size[1], self.input_size[0]), Image.BILINEAR)
        image = torch.from_numpy(np.asarray(rgb, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()
        return {"image": image, "name": name, "height": height, "width": width, "index": index}
