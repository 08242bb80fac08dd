"""``depthzoo.load(source)``: one way to load any trained depth model, whatever it was saved as.

A source is one of:

| source | format | example |
|---|---|---|
| a known checkpoint's name (``checkpoints/manifest.json``) | ``manifest`` | ``"fcrn_nyu"`` |
| a ``save_pretrained`` folder (``config.json`` + ``model.safetensors``) | ``hub-folder`` | ``"runs/fcrn_hf"`` |
| the official FCRN release (TF checkpoint or its zip, or the ``.npy``) | ``fcrn-official`` | ``"NYU_FCRN.ckpt"`` |
| a depthzoo model file (or bare safetensors weights) | ``safetensors`` | ``"fcrn_nyu.safetensors"`` |
| a Depth Anything V2 release (``max_depth=``: metric head) | ``depth-anything-v2`` | ``"depth_anything_v2_vits.pth"`` |
| a DepthTask ``.ckpt``, or a state dict (``.pth``/``.pt``/``.bin``) | ``torch-checkpoint`` | ``"best.ckpt"`` |
| a Hugging Face Hub repository id | ``hf-repo`` | ``"user/fcrn-nyu"`` |

Every source is read in two steps that all formats share: :func:`read_weights` turns the source into
:class:`Weights` (the tensors and, where the source records it, the architecture), then :func:`build_model` builds
that architecture with ``create_model(pretrained=False)`` (nothing is downloaded for the encoder) and loads the
tensors strictly: every expected tensor present with its shape, every given tensor used. Every failure is a
:class:`depthzoo.errors.WeightsError` (``WeightsNotFoundError`` for a missing source) whose message names the
source and the fix.

Keyword overrides change the architecture before it is built (``decoder_kwargs`` are merged key by key), or supply
it where the source has none (a bare state dict): ``encoder``, ``decoder``, ``decoder_kwargs``, ``encoder_depth``,
``encoder_indices``, ``pos_embed_interpolation``, ``output_kind``; ``map_location`` puts the model on a device. The
other keywords are options of the source's format
(``path``, ``verify`` and ``download`` for checkpoint names; ``verify_checksums`` for the FCRN release;
``max_depth`` for a Depth Anything V2 release;
``revision``, ``cache_dir``, ``token``, ``local_files_only``, ``force_download`` for Hub repositories).

New formats register themselves with :func:`register_format`: a name, a cheap test of the source (by its name, its
suffix, or the content it reads once through :class:`Source`), and a reader returning :class:`Weights`.

>>> import tempfile, os, torch, depthzoo
>>> model = depthzoo.create_model("resnet18", "fast_upconv")
>>> path = depthzoo.save_model(model, os.path.join(tempfile.mkdtemp(), "m.safetensors"))
>>> loaded = load(path)
>>> loaded.config["decoder"], loaded.training
('fast_upconv', False)
>>> torch.equal(loaded.decoder.head_conv.weight, model.decoder.head_conv.weight)
True
>>> load(path, decoder="upconv")
Traceback (most recent call last):
...
depthzoo.errors.WeightsError: the file holds a resnet18 + fast_upconv model, not the resnet18 + upconv model ...
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from depthzoo.errors import InvalidArgumentError, WeightsError, WeightsNotFoundError
from depthzoo.models.depth_model import DepthModel
from depthzoo.registry import unknown_name_message
from depthzoo.weights.build import ARCHITECTURE_KEYS, build_model
from depthzoo.weights.depth_anything import is_release_state, release_weights
from depthzoo.weights.fcrn import official_weights
from depthzoo.weights.hub_folder import read_hub_folder, read_hub_repo
from depthzoo.weights.lightning import read_torch_checkpoint
from depthzoo.weights.manifest import list_checkpoints, read_known_checkpoint
from depthzoo.weights.model_file import read_model_file
from depthzoo.weights.sources import (
    _FORMATS,
    Source,
    SourceFormat,
    StateDict,
    Weights,
    format_for_manifest,
    get_format,
    list_formats,
    register_format,
)

COMMON_OPTIONS = ("map_location", "format")
TORCH_SUFFIXES = (".ckpt", ".pth", ".pt", ".bin")
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _split_options(fmt: SourceFormat, options: dict[str, Any]) -> dict[str, Any]:
    unknown = [key for key in options if key not in fmt.options]
    if unknown:
        valid = [*ARCHITECTURE_KEYS, *COMMON_OPTIONS, *fmt.options]
        hints = [unknown_name_message("option", key, valid).split(" Known")[0] for key in unknown]
        raise InvalidArgumentError(
            f"{' '.join(hints)} Loading a {fmt.name} source accepts: {', '.join(valid)}",
        )
    return options


def _not_found(source: Source) -> WeightsNotFoundError:
    names = list_checkpoints()
    close = unknown_name_message("checkpoint", source.text, names)
    hint = " Did you mean" + close.split("Did you mean", 1)[1].split("?")[0] + "?" if "Did you mean" in close else ""
    return WeightsNotFoundError(
        "no such file or folder, and not a known checkpoint name",
        source=source.text,
        fix="pass a .safetensors model file, a Lightning .ckpt, a save_pretrained folder, the official FCRN release, "
        f"a Hugging Face repository id (user/name) or a known name ({', '.join(names)}).{hint}",
    )


def identify(source: str | os.PathLike[str] | Source, format: str | None = None) -> tuple[Source, SourceFormat]:
    """The source and the format that reads it (``format`` forces one); an error names what was looked for."""
    source = source if isinstance(source, Source) else Source(source)
    if format is not None:
        return source, get_format(format)
    for fmt in _FORMATS.values():
        if fmt.detect(source):
            return source, fmt
    if os.path.lexists(source.path):
        kind = "folder" if source.path.is_dir() else "file"
        raise WeightsError(
            f"this {kind} is no weight source depthzoo knows",
            source=source.text,
            fix="pass one of: " + "; ".join(f"{desc}" for desc in list_formats().values()),
        )
    raise _not_found(source)


def read_weights(source: str | os.PathLike[str], format: str | None = None, **options: Any) -> Weights:
    """Step one of :func:`load`: the tensors of ``source`` and its architecture (None when it has none).

    Args:
        source: a path, a known checkpoint name or a Hugging Face repository id.
        format: force a format (see :func:`list_formats`) instead of recognising it.
        **options: the format's options (e.g. ``verify_checksums=False`` for the FCRN release).
    """
    found, fmt = identify(source, format)
    return fmt.read(found, **_split_options(fmt, options))


def load(source: str | os.PathLike[str], **overrides: Any) -> DepthModel:
    """Any trained depth model as a :class:`DepthModel` in eval mode: see the module documentation for sources.

    Args:
        source: a known checkpoint name, a ``save_pretrained`` folder, a model file, a Lightning ``.ckpt`` or state
            dict, the official FCRN release, or a Hugging Face repository id.
        **overrides: architecture overrides (``encoder``, ``decoder``, ``decoder_kwargs``, ``encoder_depth``,
            ``output_kind``), ``map_location``, ``format`` (force one), and the format's own options.

    Raises:
        WeightsNotFoundError: the source does not exist (the message lists what is accepted and the known names).
        WeightsError: it cannot be read, or its tensors do not fit the architecture.
        InvalidArgumentError: an unknown option.
    """
    architecture = {key: overrides.pop(key) for key in ARCHITECTURE_KEYS if key in overrides}
    map_location = overrides.pop("map_location", "cpu")
    weights = read_weights(source, **overrides)
    return build_model(weights, map_location=map_location, **architecture)


# ------------------------------------------------------------------------------------------------ the formats
def _read_fcrn_official(source: Source, verify_checksums: bool = True) -> Weights:
    return official_weights(source.path, verify_checksums=verify_checksums)


def _is_manifest_name(source: Source) -> bool:
    return source.text in list_checkpoints() and not os.path.lexists(source.path)


def _read_depth_anything(source: Source, max_depth: float | None = None) -> Weights:
    # Already read when the format was recognised; otherwise release_weights reads it, with its download hints.
    return release_weights(source.path, max_depth, checkpoint=source.checkpoint_if_read)


def _is_depth_anything(source: Source) -> bool:
    if source.suffix not in (".pth", ".pt") or not source.path.is_file():
        return False
    try:
        return is_release_state(source.checkpoint)
    except WeightsError:
        return False  # unreadable: the torch-checkpoint format reports it


def _is_fcrn_official(source: Source) -> bool:
    path = source.path
    if source.suffix in (".npy", ".zip", ".index") and path.is_file():
        return True
    if not path.exists() and Path(str(path) + ".index").is_file():  # the checkpoint prefix NYU_FCRN.ckpt
        return True
    return path.is_dir() and not (path / "config.json").exists() and (
        any(path.glob("*.index")) or len(list(path.glob("*.npy"))) == 1
    )


def _is_hub_folder(source: Source) -> bool:
    path = source.path
    return path.is_dir() and any((path / name).exists() for name in ("config.json", "model.safetensors"))


def _is_repo_id(source: Source) -> bool:
    return bool(REPO_ID.match(source.text)) and not os.path.lexists(source.path)


for _format in (
    SourceFormat(
        "manifest",
        _is_manifest_name,
        read_known_checkpoint,
        ("path", "verify", "download"),
        "a known checkpoint name (depthzoo.list_checkpoints())",
    ),
    SourceFormat(
        "hub-folder",
        _is_hub_folder,
        read_hub_folder,
        (),
        "a save_pretrained folder (config.json + model.safetensors)",
    ),
    SourceFormat(
        "fcrn-official",
        _is_fcrn_official,
        _read_fcrn_official,
        ("verify_checksums",),
        "the official FCRN release (NYU_FCRN-checkpoint.zip, the NYU_FCRN.ckpt prefix or NYU_ResNet-UpProj.npy)",
        ("tf-checkpoint-zip", "npy-pickle"),
    ),
    SourceFormat(
        "safetensors",
        lambda source: source.suffix == ".safetensors" and source.path.is_file(),
        read_model_file,
        (),
        "a depthzoo model file (.safetensors from depthzoo.save_model or convert-*), or bare safetensors weights "
        "with the architecture given",
        ("depthzoo-safetensors",),
    ),
    SourceFormat(
        "depth-anything-v2",
        _is_depth_anything,
        _read_depth_anything,
        ("max_depth",),
        "a Depth Anything V2 release (.pth; max_depth=None: relative head, a number: metric head in metres)",
        ("depth-anything-v2-pth",),
    ),
    SourceFormat(
        "torch-checkpoint",
        lambda source: source.suffix in TORCH_SUFFIXES and source.path.is_file(),
        read_torch_checkpoint,
        (),
        "a Lightning .ckpt of a DepthTask, or a state dict (.pth/.pt/.bin) with the architecture given",
    ),
    SourceFormat(
        "hf-repo",
        _is_repo_id,
        read_hub_repo,
        ("revision", "cache_dir", "token", "local_files_only", "force_download"),
        "a Hugging Face Hub repository id (user/name)",
    ),
):
    register_format(_format)


__all__ = [
    "ARCHITECTURE_KEYS",
    "Source",
    "SourceFormat",
    "Weights",
    "StateDict",
    "build_model",
    "format_for_manifest",
    "identify",
    "list_formats",
    "load",
    "read_weights",
    "register_format",
]
