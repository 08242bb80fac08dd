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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from depthzoo.errors import DepthzooError, InvalidArgumentError, WeightsError, WeightsNotFoundError
from depthzoo.models.depth_model import DepthModel
from depthzoo.registry import unknown_name_message

ARCHITECTURE_KEYS = (
    "encoder",
    "decoder",
    "decoder_kwargs",
    "encoder_depth",
    "encoder_indices",
    "pos_embed_interpolation",
    "output_kind",
)
COMMON_OPTIONS = ("map_location", "format")
TORCH_SUFFIXES = (".ckpt", ".pth", ".pt", ".bin")
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

StateDict = Mapping[str, torch.Tensor]


@dataclass
class Weights:
    """What a source holds: tensors, and the architecture they belong to when the source records it.

    Args:
        state: the model's state dict, or a function building it for the model it will be loaded into (for
            releases whose tensors need the model's shapes to be converted).
        config: the build config (``encoder``, ``decoder``, ``decoder_kwargs``, ...), plus anything else to keep in
            ``model.config`` (licence, where the weights came from); None when the source does not say.
        source: the file, folder or name, for messages.
        format: the format name that read it.
    """

    state: StateDict | Callable[[DepthModel], StateDict]
    config: dict[str, Any] | None
    source: str
    format: str


class Source:
    """A source being identified: its text, its path, and its content read at most once (shared by the tests).

    Args:
        text: what the user passed (a path, a name, a repository id).
    """

    def __init__(self, text: str | os.PathLike[str]) -> None:
        self.text = os.fspath(text)
        self.path = Path(self.text).expanduser()
        self._checkpoint: dict[str, Any] | None = None

    @property
    def suffix(self) -> str:
        """The lower-cased file suffix."""
        return self.path.suffix.lower()

    @property
    def checkpoint(self) -> dict[str, Any]:
        """The dict of a PyTorch checkpoint file, read once with ``weights_only=True``."""
        if self._checkpoint is None:
            from depthzoo.weights.lightning import read_checkpoint

            self._checkpoint = read_checkpoint(self.path)
        return self._checkpoint

    @property
    def checkpoint_if_read(self) -> dict[str, Any] | None:
        """:attr:`checkpoint` when a test has already read it, else None (a reader may then read it its own way)."""
        return self._checkpoint


@dataclass(frozen=True)
class SourceFormat:
    """A kind of weight source: how to recognise it and how to read it.

    Args:
        name: the format's name (``load(source, format=name)`` forces it).
        detect: True when the source is of this format; cheap (names, suffixes) or through ``Source.checkpoint``.
        read: ``read(source, **options) -> Weights``.
        options: the keyword options ``read`` accepts.
        describe: one line for listings and error messages.
        manifest_formats: the ``format`` values of ``checkpoints/manifest.json`` entries this format reads.
    """

    name: str
    detect: Callable[[Source], bool]
    read: Callable[..., Weights]
    options: tuple[str, ...] = ()
    describe: str = ""
    manifest_formats: tuple[str, ...] = ()


_FORMATS: dict[str, SourceFormat] = {}


def register_format(source_format: SourceFormat, before: str | None = None) -> SourceFormat:
    """Add a source format; formats are tried in order, ``before`` puts this one ahead of the named one.

    A release whose files share a suffix with another format (a ``.pth`` that is not a Lightning checkpoint)
    registers before it and tells its files apart by their content (``Source.checkpoint``).
    """
    if source_format.name in _FORMATS:
        raise InvalidArgumentError(f"weight format {source_format.name!r} is registered twice")
    if before is not None and before not in _FORMATS:
        raise InvalidArgumentError(unknown_name_message("weight format", before, _FORMATS))
    items = list(_FORMATS.items())
    position = [name for name, _ in items].index(before) if before is not None else len(items)
    items.insert(position, (source_format.name, source_format))
    _FORMATS.clear()
    _FORMATS.update(items)
    return source_format


def list_formats() -> dict[str, str]:
    """Format name -> what it reads, in the order sources are tested."""
    return {name: fmt.describe for name, fmt in _FORMATS.items()}


def format_for_manifest(manifest_format: str) -> SourceFormat:
    """The source format that reads files of a manifest entry's ``format``."""
    for fmt in _FORMATS.values():
        if manifest_format in fmt.manifest_formats:
            return fmt
    raise WeightsError(
        f"the known checkpoint has format {manifest_format!r}, which this depthzoo cannot read",
        fix="update depthzoo",
    )


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
    from depthzoo.weights.manifest import list_checkpoints

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
        if format not in _FORMATS:
            raise InvalidArgumentError(unknown_name_message("weight format", format, _FORMATS))
        return source, _FORMATS[format]
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


def _merge_architecture(config: dict[str, Any] | None, overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(config or {})
    if overrides.get("decoder") not in (None, merged.get("decoder")):
        merged.pop("decoder_kwargs", None)  # options of another decoder
    for key, value in overrides.items():
        if key == "decoder_kwargs" and value is not None:
            kwargs = dict(merged.get("decoder_kwargs") or {})
            kwargs.update(value)
            merged[key] = kwargs
        elif value is not None:
            merged[key] = value
    return merged


def build_model(weights: Weights, map_location: str | torch.device = "cpu", **overrides: Any) -> DepthModel:
    """Step two of :func:`load`: build the architecture (with ``overrides``) and load the tensors strictly.

    Args:
        weights: what :func:`read_weights` returned.
        map_location: the device of the returned model.
        **overrides: ``encoder``, ``decoder``, ``decoder_kwargs`` (merged), ``encoder_depth``, ``output_kind``.
    """
    from depthzoo.models.factory import create_model
    from depthzoo.weights.loading import check_same_architecture, misfit
    from depthzoo.weights.state import load_state

    unknown = [key for key in overrides if key not in ARCHITECTURE_KEYS]
    if unknown:
        raise InvalidArgumentError(f"unknown architecture override(s) {unknown}; valid: {', '.join(ARCHITECTURE_KEYS)}")
    config = _merge_architecture(weights.config, overrides)
    if not config.get("encoder") or not config.get("decoder"):
        raise WeightsError(
            "the file holds bare weights and does not say which architecture they belong to",
            source=weights.source,
            fix="pass the architecture, e.g. depthzoo.load(path, encoder='resnet50', decoder='fast_upproj') or "
            "--model.encoder/--model.decoder; or save models with depthzoo.save_model / save_pretrained, which "
            "record it",
        )
    try:
        model = create_model(
            config["encoder"],
            config["decoder"],
            pretrained=False,
            encoder_depth=config.get("encoder_depth"),
            encoder_indices=config.get("encoder_indices"),
            pos_embed_interpolation=config.get("pos_embed_interpolation", "timm"),
            output_kind=config.get("output_kind"),
            **(config.get("decoder_kwargs") or {}),
        )
    except DepthzooError as exc:
        given = {key: value for key, value in overrides.items() if value is not None}
        raise WeightsError(
            "cannot build the architecture " + (f"with the overrides {given} " if given else "the source describes ")
            + f"({exc})",
            source=weights.source,
            fix="correct the overrides" if given else "the encoder or decoder it names is not available in this "
            "installation: update depthzoo, or install the package that registers it",
        ) from exc
    model.config.update({k: v for k, v in config.items() if k not in model.config})
    state = weights.state(model) if callable(weights.state) else weights.state
    check_same_architecture(weights.config, model.config, weights.source)
    what, fix = misfit(model.config)
    load_state(model, state, source=weights.source, what=what, fix=fix)
    return model.to(map_location).eval()


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
def _read_manifest(
    source: Source, path: str | os.PathLike[str] | None = None, verify: bool = True, download: bool | None = None
) -> Weights:
    from depthzoo.weights.manifest import checkpoint_info, fetch_checkpoint

    info = checkpoint_info(source.text)
    file = fetch_checkpoint(source.text, path, verify=verify, download=download)
    fmt = format_for_manifest(info.get("format", ""))
    # Entry fields named like the format's options are its options (e.g. a metric release's max_depth).
    options = {key: info[key] for key in fmt.options if info.get(key) is not None}
    weights = fmt.read(Source(file), **options)
    extra = {"weights_from": source.text}
    if info.get("license"):
        extra["license"] = info["license"]
    weights.config = {**extra, **(weights.config or {})}
    weights.source = f"{source.text}: {file}"
    return weights


def _is_manifest_name(source: Source) -> bool:
    from depthzoo.weights.manifest import list_checkpoints

    return source.text in list_checkpoints() and not os.path.lexists(source.path)


def _read_safetensors(source: Source) -> Weights:
    from depthzoo.weights.model_file import read_model_weights

    state, config = read_model_weights(source.path)
    return Weights(state, config, source.text, "safetensors")


def _read_torch_checkpoint(source: Source) -> Weights:
    from depthzoo.weights.lightning import architecture_from_checkpoint, model_state_from_checkpoint

    checkpoint = source.checkpoint
    config = architecture_from_checkpoint(checkpoint) or None
    return Weights(model_state_from_checkpoint(checkpoint), config, source.text, "torch-checkpoint")


def _read_fcrn_official(source: Source, verify_checksums: bool = True) -> Weights:
    from depthzoo.weights import fcrn

    return fcrn.official_weights(source.path, verify_checksums=verify_checksums)


def _read_hub_folder(source: Source) -> Weights:
    from depthzoo.hub import read_pretrained_folder

    return read_pretrained_folder(source.path)


def _read_hf_repo(
    source: Source,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
) -> Weights:
    from depthzoo.hub import download_pretrained, read_pretrained_folder

    folder = download_pretrained(
        source.text,
        revision=revision,
        cache_dir=cache_dir,
        token=token,
        local_files_only=local_files_only,
        force_download=force_download,
    )
    weights = read_pretrained_folder(folder, source=source.text)
    weights.config = {"weights_from": f"hf://{source.text}", **(weights.config or {})}
    weights.format = "hf-repo"
    return weights


def _read_depth_anything(source: Source, max_depth: float | None = None) -> Weights:
    from depthzoo.weights.depth_anything import release_weights

    # Already read when the format was recognised; otherwise release_weights reads it, with its download hints.
    return release_weights(source.path, max_depth, checkpoint=source.checkpoint_if_read)


def _is_depth_anything(source: Source) -> bool:
    from depthzoo.weights.depth_anything import is_release_state

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
        _read_manifest,
        ("path", "verify", "download"),
        "a known checkpoint name (depthzoo.list_checkpoints())",
    ),
    SourceFormat(
        "hub-folder",
        _is_hub_folder,
        _read_hub_folder,
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
        _read_safetensors,
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
        _read_torch_checkpoint,
        (),
        "a Lightning .ckpt of a DepthTask, or a state dict (.pth/.pt/.bin) with the architecture given",
    ),
    SourceFormat(
        "hf-repo",
        _is_repo_id,
        _read_hf_repo,
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
    "build_model",
    "identify",
    "list_formats",
    "load",
    "read_weights",
    "register_format",
]
