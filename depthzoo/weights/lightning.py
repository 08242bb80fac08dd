"""Lightning ``.ckpt`` files of a :class:`~depthzoo.task.DepthTask`: written from a bare model, read into one.

A DepthTask checkpoint holds the model's tensors under the ``model.`` prefix and the task's hyper-parameters, of
which ``encoder``, ``encoder_depth``, ``decoder``, ``decoder_kwargs`` and ``output_kind`` describe the architecture.
Checkpoints are read with ``weights_only=True``: plain tensors and containers only, no code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from depthzoo.errors import DepthzooError, WeightsError, WeightsNotFoundError
from depthzoo.models.depth_model import DepthModel
from depthzoo.utils.files import atomic_path

MODEL_PREFIX = "model."
ARCHITECTURE_KEYS = ("encoder", "encoder_depth", "decoder", "decoder_kwargs", "output_kind")


def save_lightning_checkpoint(model: DepthModel, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``model`` as the checkpoint of a DepthTask whose ``model`` it is (atomically); returns the path.

    ``depthzoo test --ckpt_path PATH`` and ``DepthTask.load_from_checkpoint(PATH)`` read it.
    """
    import lightning

    config = model.config
    hyper_parameters = {key: config[key] for key in ARCHITECTURE_KEYS if config.get(key) is not None}
    hyper_parameters["decoder_kwargs"] = dict(config.get("decoder_kwargs") or {})
    hyper_parameters["pretrained"] = False
    checkpoint = {
        "state_dict": {MODEL_PREFIX + key: value.detach().cpu() for key, value in model.state_dict().items()},
        "hyper_parameters": hyper_parameters,
        "pytorch-lightning_version": lightning.__version__,
        "epoch": 0,
        "global_step": 0,
    }
    with atomic_path(path, overwrite) as temporary:
        torch.save(checkpoint, temporary)
    return Path(path).expanduser()


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint's dict, read safely (``weights_only``); errors name the file and never advise unsafe loading."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError("no such checkpoint file", source=path, fix="check the path")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zips, random bytes and refused pickles all land here
        raise WeightsError(
            "not a readable PyTorch checkpoint: it is truncated or corrupt, or it holds objects other than tensors "
            f"({type(exc).__name__})",
            source=path,
            fix="re-create or re-download it; depthzoo never loads pickled code",
        ) from None
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


def model_state_from_checkpoint(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The model's tensors from a DepthTask checkpoint (``model.`` prefix removed), or a bare state dict as it is."""
    state = checkpoint.get("state_dict", checkpoint)
    if any(isinstance(k, str) and k.startswith(MODEL_PREFIX) for k in state):
        state = {k[len(MODEL_PREFIX) :]: v for k, v in state.items() if k.startswith(MODEL_PREFIX)}
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def architecture_from_checkpoint(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The architecture arguments (encoder, encoder_depth, decoder, decoder_kwargs, output_kind) of a checkpoint."""
    hyper_parameters = checkpoint.get("hyper_parameters") or {}
    return {key: hyper_parameters[key] for key in ARCHITECTURE_KEYS if key in hyper_parameters}


__all__ = [
    "architecture_from_checkpoint",
    "model_state_from_checkpoint",
    "read_checkpoint",
    "readable_checkpoint",
    "save_lightning_checkpoint",
]
