"""depthzoo model files: the weights as safetensors, and how the model was built as JSON metadata.

``save_model(model, path)`` writes every tensor of ``model.state_dict()`` plus ``DepthModel.config`` (encoder,
decoder, decoder options). ``load_model(path)`` rebuilds the same model with ``create_model(pretrained=False)``
and loads the weights strictly: nothing is downloaded, no pickle is read, and a file that does not fit its model
is an error naming the offending tensors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from depthzoo.models.depth_model import DepthModel
from depthzoo.models.factory import create_model

FORMAT = "depthzoo-model"
FORMAT_VERSION = "1"


def _listing(names: list[str], limit: int = 6) -> str:
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def save_model(model: DepthModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to a ``.safetensors`` depthzoo model file (atomically); returns the path.

    Raises:
        ValueError: the model has no build config (``encoder``/``decoder``), so it could not be rebuilt on load.
    """
    path = Path(path).expanduser()
    config = dict(getattr(model, "config", {}) or {})
    if not config.get("encoder") or not config.get("decoder"):
        raise ValueError(
            "model.config must name its encoder and decoder so the file can be rebuilt; build the model with "
            "depthzoo.create_model(...), or set model.config = {'encoder': ..., 'decoder': ..., "
            "'decoder_kwargs': {...}}"
        )
    try:
        config_json = json.dumps(config, sort_keys=True)
    except TypeError as exc:
        raise ValueError(f"model.config must be JSON-serialisable to be saved: {exc}") from exc
    from depthzoo import __version__

    state = {key: value.detach().to("cpu").contiguous() for key, value in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config_json,
        "depthzoo_version": __version__,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    save_file(state, str(partial), metadata=metadata)
    os.replace(partial, path)
    return path


def read_model_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The build config stored in a depthzoo model file (no weights are read)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"model file {str(path)!r} does not exist; write one with depthzoo.io.save_model(model, path) or "
            f"'depthzoo convert-fcrn SRC OUT.safetensors'"
        )
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path.name} is not a safetensors file ({exc})") from exc
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise ValueError(
            f"{path.name} is a safetensors file but not a depthzoo model file (no '{FORMAT}' metadata); it holds "
            f"bare weights. Load those into a model you build yourself, or save the model with depthzoo.io.save_model"
        )
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path.name} is depthzoo model format version {metadata.get('format_version')!r}; this depthzoo reads "
            f"version {FORMAT_VERSION}. Update depthzoo."
        )
    config = json.loads(metadata["config"])
    if not isinstance(config, dict) or not config.get("encoder") or not config.get("decoder"):
        raise ValueError(f"{path.name}: its stored config {config!r} does not name an encoder and a decoder")
    return config


def load_model(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> DepthModel:
    """Rebuild and load a model saved by :func:`save_model` (eval mode); never touches the network.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a depthzoo model file, or its tensors do not fit the model its config describes.
    """
    path = Path(path).expanduser()
    config = read_model_config(path)
    model = create_model(
        config["encoder"], config["decoder"], pretrained=False, encoder_depth=config.get("encoder_depth"),
        **(config.get("decoder_kwargs") or {}),
    )
    model.config.update(config)
    state = load_file(str(path))
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshaped = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or misshaped:
        parts = []
        if missing:
            parts.append(f"missing {_listing(missing)}")
        if unexpected:
            parts.append(f"unexpected {_listing(unexpected)}")
        if misshaped:
            parts.append(
                "wrong shape "
                + _listing([f"{k} {list(state[k].shape)} (model: {list(expected[k].shape)})" for k in misshaped])
            )
        raise ValueError(
            f"{path.name} does not fit the {config['encoder']} + {config['decoder']} model it describes: "
            + "; ".join(parts)
        )
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval()


__all__ = ["load_model", "read_model_config", "save_model"]
