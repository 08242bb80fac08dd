"""Known checkpoints by name: where to get them, how to verify them, how to load them. Never downloads.

The list lives in ``checkpoints/manifest.json`` (shipped with the package): for each name the file name, size,
sha256, format, licence, download URLs and how to convert it.

>>> "fcrn_nyu" in list_checkpoints()
True
>>> checkpoint_info("fcrn_nyu")["size"]
472588519

You download the file yourself, then ``depthzoo.load_checkpoint("fcrn_nyu", "~/Downloads/NYU_FCRN-checkpoint.zip")``
checks its size and sha256 and loads it. Without a path the file is looked up in ``$DEPTHZOO_CHECKPOINT_DIR`` (by
default ``~/.cache/depthzoo/checkpoints``); a missing file is an error that says where to get it.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import warnings
from pathlib import Path
from typing import Any

from depthzoo.errors import WeightsError, WeightsNotFoundError
from depthzoo.models.depth_model import DepthModel
from depthzoo.registry import RegistryError, unknown_name_message
from depthzoo.resources import bundled_dir
from depthzoo.utils.files import sha256_file

CHECKPOINT_DIR_ENV = "DEPTHZOO_CHECKPOINT_DIR"


@functools.lru_cache(maxsize=1)
def _manifest() -> dict[str, dict[str, Any]]:
    path = bundled_dir("checkpoints") / "manifest.json"
    data = json.loads(path.read_text())
    checkpoints = data.get("checkpoints")
    if data.get("format_version") != 1 or not isinstance(checkpoints, dict):
        raise ValueError(f"{path} is not a version-1 checkpoint manifest")
    return checkpoints


def list_checkpoints() -> list[str]:
    """Names of the known checkpoints."""
    return sorted(_manifest())


def checkpoint_info(name: str) -> dict[str, Any]:
    """The manifest entry of ``name`` (a copy): file_name, size, sha256, format, urls, license, convert, ..."""
    checkpoints = _manifest()
    if name not in checkpoints:
        raise RegistryError(unknown_name_message("checkpoint", name, list(checkpoints)))
    return copy.deepcopy(checkpoints[name])


def default_checkpoint_dir() -> Path:
    """Where files are looked up without a path: ``$DEPTHZOO_CHECKPOINT_DIR`` or ``~/.cache/depthzoo/checkpoints``."""
    configured = os.environ.get(CHECKPOINT_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "depthzoo" / "checkpoints"


def _where_to_get(name: str, info: dict[str, Any]) -> str:
    urls = info.get("urls") or []
    source = (
        "Download it from " + " or ".join(urls)
        if urls
        else "No working download link is known (original: " + ", ".join(info.get("original_urls") or ["none"]) + ")"
    )
    return (
        f"{source}, then pass its path, e.g. depthzoo.load_checkpoint({name!r}, "
        f"'path/to/{info['file_name']}'), "
        f"or put it in {default_checkpoint_dir()} (set ${CHECKPOINT_DIR_ENV} to use another folder)."
    )


def locate_checkpoint(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """The checkpoint file: ``path`` itself, ``path/<file_name>`` for a folder, or the default folder's copy."""
    info = checkpoint_info(name)
    candidate = Path(path).expanduser() if path is not None else default_checkpoint_dir()
    if candidate.is_dir():
        candidate = candidate / info["file_name"]
    if not candidate.is_file():
        raise WeightsNotFoundError(
            f"checkpoint {name!r} ({info['file_name']}) not found at {candidate}. {_where_to_get(name, info)}"
        )
    return candidate


def verify_checkpoint(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """Check the file's size and sha256 against the manifest; returns its path.

    Raises:
        FileNotFoundError: no file (the message says where to get it).
        ValueError: wrong size or hash (the message gives both hashes).
    """
    info = checkpoint_info(name)
    file = locate_checkpoint(name, path)
    size = file.stat().st_size
    if info.get("size") is not None and size != info["size"]:
        raise WeightsError(
            f"{file} has {size:,} bytes but checkpoint {name!r} ({info['file_name']}) has {info['size']:,}: an "
            f"incomplete download or another file. {_where_to_get(name, info)}"
        )
    if not info.get("sha256"):
        warnings.warn(
            f"checkpoint {name!r} has no published sha256, so {file.name} cannot be verified by hash; loading still "
            f"checks every tensor's name and shape",
            UserWarning,
            stacklevel=2,
        )
        return file
    actual = sha256_file(file)
    if actual != info["sha256"]:
        raise WeightsError(
            f"sha256 mismatch for {file}: expected {info['sha256']} (checkpoint {name!r}), got {actual}. The file is "
            f"corrupt or not {info['file_name']}. {_where_to_get(name, info)}"
        )
    return file


def load_checkpoint(name: str, path: str | os.PathLike[str] | None = None, verify: bool = True) -> DepthModel:
    """Verify (size + sha256) and load a known checkpoint as a DepthModel in eval mode. Never downloads.

    Args:
        name: a name from :func:`list_checkpoints`, e.g. "fcrn_nyu" or "dav2_metric_hypersim_vits" (a metric
            release's entry carries its ``max_depth``, so the right head is built).
        path: the downloaded file or its folder; default: the default checkpoint folder.
        verify: check size and sha256 first (a few seconds for 470 MB).
    """
    info = checkpoint_info(name)
    file = verify_checkpoint(name, path) if verify else locate_checkpoint(name, path)
    fmt = info.get("format")
    if fmt in ("tf-checkpoint-zip", "npy-pickle"):
        from depthzoo.weights.fcrn import from_fcrn_official

        return from_fcrn_official(file)
    if fmt == "depth-anything-v2-pth":
        from depthzoo.weights.depth_anything import from_depth_anything_v2

        return from_depth_anything_v2(file, max_depth=info.get("max_depth"))
    if fmt == "depthzoo-safetensors":
        from depthzoo.weights.model_file import load_model

        return load_model(file)
    raise WeightsError(f"checkpoint {name!r} has format {fmt!r}, which this depthzoo cannot load; update depthzoo")


__all__ = [
    "checkpoint_info",
    "default_checkpoint_dir",
    "list_checkpoints",
    "load_checkpoint",
    "locate_checkpoint",
    "verify_checkpoint",
]
