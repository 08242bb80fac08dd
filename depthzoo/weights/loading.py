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


def read_state_file(path: str | os.PathLike[str]) -> tuple[Mapping[str, torch.Tensor], dict[str, Any] | None]:
    """The tensors of a weight file and, where the file says, the architecture they belong to.

    ``.safetensors``: a depthzoo model file (its config in the metadata) or bare tensors. ``.ckpt``/``.pth``/``.pt``/
    ``.bin``: a Lightning checkpoint of a DepthTask (``model.`` prefix removed, architecture from its
    hyper-parameters) or a plain state dict, read with ``weights_only=True``. (The readers of :func:`depthzoo.load`.)
    """
    from depthzoo.weights.loader import Source, identify

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
    _, fmt = identify(source, "safetensors" if source.suffix == ".safetensors" else "torch-checkpoint")
    weights = fmt.read(source)
    assert not callable(weights.state)
    return weights.state, weights.config


def describe_architecture(config: dict[str, Any] | None) -> str:
    """'resnet18 + fast_upproj' for a config naming an encoder and a decoder, else ''."""
    if not config or not config.get("encoder") or not config.get("decoder"):
        return ""
    return f"{config['encoder']} + {config['decoder']}"


def check_same_architecture(
    theirs: dict[str, Any] | None, ours: dict[str, Any] | None, source: str | os.PathLike[str]
) -> None:
    """Refuse weights recorded for another architecture than the model's, saying that and only that.

    >>> check_same_architecture({"encoder": "resnet18", "decoder": "upconv"}, {"encoder": "resnet18",
    ...                          "decoder": "deconv"}, "m.safetensors")
    Traceback (most recent call last):
    ...
    depthzoo.errors.WeightsError: the file holds a resnet18 + upconv model, not the resnet18 + deconv model it is ...
    """
    their_name, our_name = describe_architecture(theirs), describe_architecture(ours)
    if their_name and our_name and their_name != our_name:
        raise WeightsError(
            f"the file holds a {their_name} model, not the {our_name} model it is loaded into",
            source=source,
            fix=f"build the model as {their_name} (--model.encoder / --model.decoder), or pass weights of a "
            f"{our_name} model",
        )


def misfit(ours: dict[str, Any] | None) -> tuple[str, str]:
    """(what, fix) of the error for tensors that do not fit a model of the architecture ``ours``."""
    name = describe_architecture(ours)
    what = f"the weights do not fit the {name} model" if name else "the weights do not fit the model"
    return what, "use the encoder and decoder the file was made with"


def load_weights_into(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Load a weight file into ``model`` strictly; the error names every missing, unexpected or misshaped tensor.

    When the file records the architecture it was made with and that differs from the model's, the error says that
    and only that: it is the mistake, not the hundreds of tensors that follow from it. A Depth Anything V2
    release (``.pth`` in the official layout) loads into a model built with the release's architecture. To load a
    model together with its architecture, use :func:`depthzoo.load`.
    """
    state, config = read_state_file(path)
    from depthzoo.models.depth_model import DepthModel
    from depthzoo.weights.depth_anything import is_release_state, load_release_into

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
