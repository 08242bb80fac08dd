"""Weights from a file into a model that is already built: depthzoo model files, Lightning checkpoints, state dicts.

>>> import torch, tempfile, os
>>> from torch import nn
>>> path = os.path.join(tempfile.mkdtemp(), "w.pth")
>>> torch.save({"weight": torch.ones(1, 2), "bias": torch.zeros(1)}, path)
>>> model = nn.Linear(2, 1)
>>> load_weights_into(model, path)
>>> model.weight.tolist()
[[1.0, 1.0]]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from depthzoo.errors import WeightsError, WeightsNotFoundError
from depthzoo.models.depth_model import DepthModel
from depthzoo.weights.lightning import architecture_from_checkpoint, model_state_from_checkpoint, read_checkpoint
from depthzoo.weights.state import load_state

STATE_SUFFIXES = (".safetensors", ".ckpt", ".pth", ".pt", ".bin")


def read_safetensors(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the metadata of a ``.safetensors`` file; a truncated or corrupt file is a WeightsError."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(
            f"not a readable safetensors file ({exc})", source=path, fix="the file is truncated or corrupt"
        ) from None


def read_state_file(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    """The tensors of a weight file and, where the file says, the architecture they belong to.

    ``.safetensors``: a depthzoo model file (its config in the metadata) or bare tensors. ``.ckpt``/``.pth``/``.pt``/
    ``.bin``: a Lightning checkpoint of a DepthTask (``model.`` prefix removed, architecture from its
    hyper-parameters) or a plain state dict, read with ``weights_only=True``.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(
            "no such weights file",
            source=path,
            fix="pass a .safetensors model file (depthzoo.save_model, 'depthzoo convert-*') or a Lightning .ckpt",
        )
    if path.suffix.lower() not in STATE_SUFFIXES:
        raise WeightsError(
            f"unknown weights file type {path.suffix!r}", source=path, fix=f"use one of {', '.join(STATE_SUFFIXES)}"
        )
    if path.suffix.lower() == ".safetensors":
        state, metadata = read_safetensors(path)
        try:
            config = json.loads(metadata["config"]) if "config" in metadata else None
        except ValueError:
            config = None
        return state, config if isinstance(config, dict) else None
    checkpoint = read_checkpoint(path)
    return model_state_from_checkpoint(checkpoint), architecture_from_checkpoint(checkpoint) or None


def describe_architecture(config: dict[str, Any] | None) -> str:
    """'resnet18 + fast_upproj' for a config naming an encoder and a decoder, else ''."""
    if not config or not config.get("encoder") or not config.get("decoder"):
        return ""
    return f"{config['encoder']} + {config['decoder']}"


def load_weights_into(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Load a weight file into ``model`` strictly; the error names every missing, unexpected or misshaped tensor.

    When the file records the architecture it was made with and that differs from the model's, the error says that
    and only that: it is the mistake, not the hundreds of tensors that follow from it. A Depth Anything V2
    release (``.pth`` in the official layout) loads into a model built with the release's architecture.
    """
    state, config = read_state_file(path)
    from depthzoo.weights.depth_anything import is_release_state, load_release_into

    if config is None and is_release_state(state) and isinstance(model, DepthModel):
        load_release_into(model, state, source=path)  # a Depth Anything V2 .pth as released
        return
    theirs = describe_architecture(config)
    ours = describe_architecture(getattr(model, "config", None))
    if theirs and ours and theirs != ours:
        raise WeightsError(
            f"the file holds a {theirs} model, not the {ours} model it is loaded into",
            source=path,
            fix=f"build the model as {theirs} (--model.encoder / --model.decoder), or pass weights of a {ours} model",
        )
    what = f"the weights do not fit the {ours} model" if ours else "the weights do not fit the model"
    load_state(model, state, source=path, what=what, fix="use the encoder and decoder the file was made with")


__all__ = ["describe_architecture", "load_weights_into", "read_safetensors", "read_state_file"]
