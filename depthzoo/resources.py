"""Locate folders shipped with depthzoo (``configs``, ``checkpoints``) in a wheel or a source checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def bundled_dir(name: str) -> Path:
    """The installed copy (``depthzoo/<name>`` in a wheel) or, in a source/editable checkout, ``<repo>/<name>``."""
    installed = Path(str(files("depthzoo"))) / name
    if installed.is_dir():
        return installed
    source = _SOURCE_ROOT / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"depthzoo's {name!r} folder is missing from this installation (looked in {installed})")
