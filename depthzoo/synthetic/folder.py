"""The synthetic rooms as a folder of files, the way a camera rig or a simulator would save them.

``write_synthetic_folder`` renders the same rooms as :func:`~depthzoo.synthetic.write_synthetic_nyu` (image ``i`` of
``seed`` is the same room at the same size) and writes, under ``root``::

    rgb/00000.png          RGB, 8-bit PNG
    depth/00000.png        filled z-depth: 16-bit PNG millimetres (or .npy / .tiff float32 metres)
    raw_depth/00000.png    the same with Kinect-like holes (0)
    train.txt, test.txt    'rgb/00000.png raw_depth/00000.png fx cx cy' (train) and '... depth/... fx cx cy' (test)
    intrinsics.json        the camera: fx, fy, cx, cy, height, width

The lists pair training images with the raw depth and test images with the filled depth, as
``NYUv2DataModule(format="synthetic")`` trains and evaluates, and use the same tail split, so
``FolderDataModule(root, train_list="train.txt", test_list="test.txt")`` sees what the built-in module sees.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from depthzoo.errors import InvalidArgumentError, OutputExistsError
from depthzoo.geometry import NYU_INTRINSICS
from depthzoo.synthetic.matfile import _progress, split_indices
from depthzoo.synthetic.rooms import MIN_IMAGE_SIDE, render_scene
from depthzoo.utils.files import atomic_path, atomic_write
from depthzoo.utils.validation import check_int

DepthFormat = Literal["png", "npy", "tiff"]
DEPTH_SUFFIX = {"png": ".png", "npy": ".npy", "tiff": ".tiff"}
MILLIMETRES_PER_METRE = 1000.0


def _write_depth(path: Path, depth: np.ndarray, depth_format: DepthFormat, overwrite: bool) -> None:
    """One depth map: 16-bit PNG millimetres (0 stays 0), or float32 metres as .npy or TIFF."""
    with atomic_path(path, overwrite) as temporary:
        if depth_format == "npy":
            with open(temporary, "wb") as handle:
                np.save(handle, depth.astype(np.float32))
            return
        if depth_format == "png":
            values = np.clip(np.rint(depth.astype(np.float64) * MILLIMETRES_PER_METRE), 0, 65535).astype(np.uint16)
        else:
            values = depth.astype(np.float32)
        ok, encoded = cv2.imencode(DEPTH_SUFFIX[depth_format], values)
        if not ok:
            raise RuntimeError(f"OpenCV could not encode {path.name}")
        temporary.write_bytes(encoded.tobytes())


def write_synthetic_folder(
    root: str | os.PathLike[str],
    num: int = 600,
    seed: int = 0,
    height: int = 240,
    width: int = 320,
    test_fraction: float = 0.1,
    depth_format: DepthFormat = "png",
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Render ``num`` rooms into the folder ``root`` (layout above); returns ``root``.

    Every file is written atomically; existing files are replaced only with ``overwrite``.

    Args:
        root: the folder to write (created if missing).
        num: number of rooms.
        seed: random seed; room ``i`` depends only on (seed, i).
        height: image height in pixels.
        width: image width in pixels.
        test_fraction: the last ``round(num * test_fraction)`` rooms are the test list.
        depth_format: "png" (16-bit millimetres), "npy" or "tiff" (float32 metres).
        overwrite: replace existing files.
        progress: show a progress bar on stderr.
    """
    for name, value in (("height", height), ("width", width)):
        check_int(name, value, MIN_IMAGE_SIDE)
    if depth_format not in DEPTH_SUFFIX:
        raise InvalidArgumentError(f"depth_format must be one of {sorted(DEPTH_SUFFIX)}, got {depth_format!r}")
    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise OutputExistsError("the output exists and is not a folder", source=root, fix="choose a folder path")
    train, test = split_indices(num, test_fraction)
    camera = NYU_INTRINSICS.scaled(height, width)
    for folder in ("rgb", "depth", "raw_depth"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    suffix = DEPTH_SUFFIX[depth_format]
    for i in _progress(range(num), num, progress):
        rgb, depth, raw = render_scene(seed, i, height, width)
        with atomic_path(root / "rgb" / f"{i:05d}.png", overwrite) as temporary:
            temporary.write_bytes(cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes())
        _write_depth(root / "depth" / f"{i:05d}{suffix}", depth, depth_format, overwrite)
        _write_depth(root / "raw_depth" / f"{i:05d}{suffix}", raw, depth_format, overwrite)
    intrinsics = f"{camera.fx:.10g} {camera.cx:.10g} {camera.cy:.10g}"
    for name, indices, folder in (("train.txt", train, "raw_depth"), ("test.txt", test, "depth")):
        lines = [f"rgb/{k - 1:05d}.png {folder}/{k - 1:05d}{suffix} {intrinsics}" for k in indices]
        with atomic_write(root / name, "w", overwrite=overwrite) as handle:
            handle.write("\n".join(lines) + "\n")
    meta = dict(generator="depthzoo.synthetic", num=num, seed=seed, height=height, width=width,
                test_fraction=test_fraction, fx=camera.fx, fy=camera.fy, cx=camera.cx, cy=camera.cy)
    with atomic_write(root / "intrinsics.json", "w", overwrite=overwrite) as handle:
        json.dump(meta, handle, indent=1, sort_keys=True)
    return root


__all__ = ["write_synthetic_folder"]
