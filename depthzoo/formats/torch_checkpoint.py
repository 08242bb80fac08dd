"""PyTorch checkpoints (``torch.save`` files: Lightning ``.ckpt``, ``.pth``) read without running their pickles' code.

Every file is read with ``weights_only=True``: plain tensors and containers only. A file that fails is reported as
refused (code or classes in its pickle) or as truncated or corrupt, naming the file; no message ever advises
``weights_only=False``.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from depthzoo.errors import DepthzooError, WeightsError, WeightsNotFoundError


def read_checkpoint(path: str | os.PathLike[str], fix: str | None = None) -> dict[str, Any]:
    """The checkpoint's dict, read safely (``weights_only``); errors name the file and never advise unsafe loading.

    A file whose pickle names anything but tensors and plain containers (code, custom classes) is refused before
    any of it runs; a truncated or corrupt file is reported as such.

    Args:
        path: a ``torch.save`` file (``.ckpt``, ``.pth``, ...).
        fix: what to tell the user when the file cannot be read (default: re-create or re-download it).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError("no such checkpoint file", source=path, fix=fix or "check the path")
    fix = f"{fix or 're-create or re-download it'}; depthzoo never loads pickled code"
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zips, random bytes, and pickles naming code or classes
        refused = isinstance(exc, pickle.UnpicklingError) and "weights only load failed" in str(exc).lower()
        what = (
            "it holds objects other than tensors (code or classes in its pickle), refused before any of it ran"
            if refused
            else f"it is truncated or corrupt ({type(exc).__name__})"
        )
        raise WeightsError(f"not a readable PyTorch checkpoint: {what}", source=path, fix=fix) from None
    if not isinstance(checkpoint, dict):
        raise WeightsError(
            f"a checkpoint must hold a dict, this one holds a {type(checkpoint).__name__}", source=path,
            fix="pass a Lightning .ckpt written by depthzoo or a model state_dict saved with torch.save",
        )
    return checkpoint


@contextmanager
def readable_checkpoint(path: Any) -> Iterator[None]:
    """Run a checkpoint load (Lightning's or torch's); if it fails because of the file, raise depthzoo's error instead.

    torch's own message for a truncated, corrupt or refused file advises ``weights_only=False``, which would run any
    code the file holds. When the block fails, the file is read again safely (:func:`read_checkpoint`): a file at
    fault gives the :class:`~depthzoo.errors.WeightsError` naming it; otherwise the original error stands.
    """
    try:
        yield
    except DepthzooError:
        raise
    except Exception:
        if isinstance(path, (str, os.PathLike)) and "://" not in os.fspath(path):  # a local file: check it
            read_checkpoint(path)
        raise


__all__ = ["read_checkpoint", "readable_checkpoint"]
