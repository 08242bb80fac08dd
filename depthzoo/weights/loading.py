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

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from depthzoo.errors import WeightsError, WeightsNotFoundError
from depthzoo.formats.safetensors_file import read_safetensors
from depthzoo.formats.state_dict import load_state
from depthzoo.models.depth_model import DepthModel
from depthzoo.weights.build import check_same_architecture, describe_architecture, misfit
from depthzoo.weights.depth_anything import is_release_state, load_release_into
from depthzoo.weights.lightning import read_torch_checkpoint
from depthzoo.weights.model_file import read_model_file
from depthzoo.weights.sources import Source

STATE_SUFFIXES = (".safetensors", ".ckpt", ".pth", ".pt", ".bin")


def read_state_file(path: str | os.PathLike[str]) -> tuple[Mapping[str, torch.Tensor], dict[str, Any] | None]:
    """The tensors of a weight file and, where the file says, the architecture they belong to.

    ``.safetensors``: a depthzoo model file (its config in the metadata) or bare tensors. ``.ckpt``/``.pth``/``.pt``/
    ``.bin``: a Lightning checkpoint of a DepthTask (``model.`` prefix removed, architecture from its
    hyper-parameters) or a plain state dict, read with ``weights_only=True``. (The readers of :func:`depthzoo.load`.)
    """
    source = Source(path)
    if not source.path.is_file():
        raise WeightsNotFoundError(
            "no such weights file",
            source=source.path,
            fix="pass a .safetensors model file (depthzoo.save_model, 'depthzoo convert-*') or a Lightning .ckpt",
        )
    if source.suffix not in STATE_SUFFIXES:
        raise WeightsError(
            f"unknown weights file type {source.suffix!r}",
            source=source.path,
            fix=f"use one of {', '.join(STATE_SUFFIXES)}",
        )
    weights = read_model_file(source) if source.suffix == ".safetensors" else read_torch_checkpoint(source)
    assert not callable(weights.state)
    return weights.state, weights.config


def load_weights_into(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Load a weight file into ``model`` strictly; the error names every missing, unexpected or misshaped tensor.

    When the file records the architecture it was made with and that differs from the model's, the error says that
    and only that: it is the mistake, not the hundreds of tensors that follow from it. A Depth Anything V2
    release (``.pth`` in the official layout) loads into a model built with the release's architecture. To load a
    model together with its architecture, use :func:`depthzoo.load`.
    """
    state, config = read_state_file(path)
    if config is None and is_release_state(state) and isinstance(model, DepthModel):
        load_release_into(model, state, source=path)  # a Depth Anything V2 .pth as released
        return
    check_same_architecture(config, getattr(model, "config", None), path)
    what, fix = misfit(getattr(model, "config", None))
    load_state(model, state, source=path, what=what, fix=fix)


__all__ = [
    "check_same_architecture",
    "describe_architecture",
    "load_weights_into",
    "misfit",
    "read_safetensors",
    "read_state_file",
]
