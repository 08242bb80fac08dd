"""``.safetensors`` files read safely: the tensors and the metadata, every failure a WeightsError naming the file."""

from __future__ import annotations

import os

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from depthzoo.errors import WeightsError


def read_safetensors(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the metadata of a ``.safetensors`` file; a truncated or corrupt file is a WeightsError."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(
            f"not a readable safetensors file ({exc})", source=path, fix="the file is truncated or corrupt"
        ) from None


__all__ = ["read_safetensors"]
