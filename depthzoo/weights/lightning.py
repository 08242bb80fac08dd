"""Lightning ``.ckpt`` files of a :class:`~depthzoo.task.DepthTask`: written from a bare model, read into one.

A DepthTask checkpoint holds the model's tensors under the ``model.`` prefix and the task's hyper-parameters, of
which ``ARCHITECTURE_KEYS`` (encoder, its depth, indices and position-embedding rule, decoder, its options, and what
the output means) describe the model. Checkpoints are read with ``weights_only=True``: plain tensors and containers
only, no code.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path
from typing import Any

import torch

from depthzoo.formats.torch_checkpoint import read_checkpoint, readable_checkpoint
from depthzoo.models.depth_model import DepthModel
from depthzoo.utils.files import atomic_path
from depthzoo.weights.sources import Source, Weights

MODEL_PREFIX = "model."
ARCHITECTURE_KEYS = (
    "encoder",
    "encoder_depth",
    "encoder_indices",
    "pos_embed_interpolation",
    "decoder",
    "decoder_kwargs",
    "output_kind",
)


def save_lightning_checkpoint(model: DepthModel, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``model`` as the checkpoint of a DepthTask whose ``model`` it is (atomically); returns the path.

    ``depthzoo test --ckpt_path PATH`` and ``DepthTask.load_from_checkpoint(PATH)`` read it.
    """
    config = model.config
    hyper_parameters = {key: config[key] for key in ARCHITECTURE_KEYS if config.get(key) is not None}
    hyper_parameters["decoder_kwargs"] = dict(config.get("decoder_kwargs") or {})
    hyper_parameters["pretrained"] = False
    checkpoint = {
        "state_dict": {MODEL_PREFIX + key: value.detach().cpu() for key, value in model.state_dict().items()},
        "hyper_parameters": hyper_parameters,
        "pytorch-lightning_version": importlib.metadata.version("lightning"),  # without importing lightning
        "epoch": 0,
        "global_step": 0,
    }
    with atomic_path(path, overwrite) as temporary:
        torch.save(checkpoint, temporary)
    return Path(path).expanduser()


def model_state_from_checkpoint(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The model's tensors from a DepthTask checkpoint (``model.`` prefix removed), or a bare state dict as it is."""
    state = checkpoint.get("state_dict", checkpoint)
    if any(isinstance(k, str) and k.startswith(MODEL_PREFIX) for k in state):
        state = {k[len(MODEL_PREFIX) :]: v for k, v in state.items() if k.startswith(MODEL_PREFIX)}
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def architecture_from_checkpoint(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The architecture arguments (``ARCHITECTURE_KEYS``) a checkpoint was made with."""
    hyper_parameters = checkpoint.get("hyper_parameters") or {}
    return {key: hyper_parameters[key] for key in ARCHITECTURE_KEYS if key in hyper_parameters}


def read_torch_checkpoint(source: Source) -> Weights:
    """The ``torch-checkpoint`` format of :func:`depthzoo.load`: a DepthTask ``.ckpt`` or a bare state dict."""
    checkpoint = source.checkpoint
    config = architecture_from_checkpoint(checkpoint) or None
    return Weights(model_state_from_checkpoint(checkpoint), config, source.text, "torch-checkpoint")


__all__ = [
    "architecture_from_checkpoint",
    "model_state_from_checkpoint",
    "read_checkpoint",
    "read_torch_checkpoint",
    "readable_checkpoint",
    "save_lightning_checkpoint",
]
