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
from safetensors.torch import save_file

from depthzoo.errors import InvalidArgumentError, WeightsError, WeightsNotFoundError
from depthzoo.formats.safetensors_file import read_safetensors
from depthzoo.models.depth_model import DepthModel
from depthzoo.utils.files import atomic_path
from depthzoo.version import __version__
from depthzoo.weights.build import build_model
from depthzoo.weights.sources import Source, Weights

FORMAT = "depthzoo-model"
FORMAT_VERSION = "1"


def save_model(model: DepthModel, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``model`` to a ``.safetensors`` depthzoo model file (atomically); returns the path.

    Raises:
        InvalidArgumentError: the model has no build config (``encoder``/``decoder``), so it could not be rebuilt.
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path).expanduser()
    config = dict(getattr(model, "config", {}) or {})
    if not config.get("encoder") or not config.get("decoder"):
        raise InvalidArgumentError(
            "model.config must name its encoder and decoder so the file can be rebuilt; build the model with "
            "depthzoo.create_model(...), or set model.config = {'encoder': ..., 'decoder': ..., "
            "'decoder_kwargs': {...}}"
        )
    try:
        config_json = json.dumps(config, sort_keys=True)
    except TypeError as exc:
        raise InvalidArgumentError(f"model.config must be JSON-serialisable to be saved: {exc}") from exc

    state = {key: value.detach().to("cpu").contiguous() for key, value in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config_json,
        "depthzoo_version": __version__,
    }
    with atomic_path(path, overwrite) as temporary:
        save_file(state, str(temporary), metadata=metadata)
    return path


def _metadata(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise WeightsNotFoundError(
            f"model file {str(path)!r} does not exist; write one with depthzoo.save_model(model, path) or "
            f"'depthzoo convert-fcrn SRC OUT.safetensors'"
        )
    try:
        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise WeightsError(
            f"{path.name} is not a safetensors file ({exc})", fix="the file is truncated or corrupt; write it again"
        ) from exc


def _config(path: Path, metadata: dict[str, str], bare_ok: bool) -> dict[str, Any] | None:
    """The build config of a model file's metadata; None for bare tensors when ``bare_ok``."""
    if metadata.get("format") != FORMAT or "config" not in metadata:
        if bare_ok:
            return None
        raise WeightsError(
            f"{path.name} is a safetensors file but not a depthzoo model file (no '{FORMAT}' metadata); it holds "
            f"bare weights. Load those into a model you build yourself, or save the model with depthzoo.save_model"
        )
    if metadata.get("format_version") != FORMAT_VERSION:
        raise WeightsError(
            f"{path.name} is depthzoo model format version {metadata.get('format_version')!r}; this depthzoo reads "
            f"version {FORMAT_VERSION}. Update depthzoo."
        )
    try:
        config = json.loads(metadata["config"])
    except ValueError:
        config = None
    if not isinstance(config, dict) or not config.get("encoder") or not config.get("decoder"):
        raise WeightsError(f"{path.name}: its stored config {config!r} does not name an encoder and a decoder")
    return config


def read_model_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The build config stored in a depthzoo model file (no weights are read)."""
    path = Path(path).expanduser()
    config = _config(path, _metadata(path), bare_ok=False)
    assert config is not None
    return config


def read_model_weights(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    """The tensors of a ``.safetensors`` file and, for a depthzoo model file, its build config (else None).

    Raises:
        WeightsNotFoundError: no such file.
        WeightsError: not a readable safetensors file, or a model file of another format version.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        _metadata(path)  # says where model files come from
    state, metadata = read_safetensors(path)
    return state, _config(path, metadata, bare_ok=True)


def read_model_file(source: Source) -> Weights:
    """The ``safetensors`` format of :func:`depthzoo.load`: a depthzoo model file, or bare tensors (no config)."""
    state, config = read_model_weights(source.path)
    return Weights(state, config, source.text, "safetensors")


def load_model(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> DepthModel:
    """Rebuild and load a model saved by :func:`save_model` (eval mode); never touches the network.

    The same as ``depthzoo.load(path, format="safetensors")``: depthzoo model files only.

    Raises:
        WeightsNotFoundError: no such file.
        WeightsError: not a depthzoo model file, or its tensors do not fit the model its config describes.
    """
    return build_model(read_model_file(Source(path)), map_location=map_location)


__all__ = ["load_model", "read_model_config", "read_model_file", "read_model_weights", "save_model"]
