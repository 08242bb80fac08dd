"""Depth Anything V2 releases (Yang et al., NeurIPS 2024) as depthzoo models, loaded exactly.

``from_depth_anything_v2(path, max_depth=None)`` reads a released ``.pth`` (``torch.save(model.state_dict())``,
read with ``weights_only=True``, so a file with code in its pickle is refused before anything runs) and returns
``create_model("vit_<size>_patch14_dinov2", "dpt", ...)`` in eval mode:

- The variant (Small, Base, Large) is inferred from the tensors' shapes (the encoder's width and block count).
- The relative and the metric releases have the same tensor names, so nothing in the file says which head it
  was trained with: ``max_depth=None`` builds the relative head (ReLU: affine-invariant inverse depth, no unit),
  a number builds the metric head (sigmoid x ``max_depth`` metres; 20 for the Hypersim releases, 80 for the
  VKITTI ones). The head built is logged, and a file name that says otherwise ("metric" or not) gives a warning.
- Every tensor of the file maps to exactly one model tensor, except the two groups the official forward pass
  never uses: ``pretrained.mask_token`` (DINOv2's masked-token embedding, for its pre-training) and
  ``depth_head.scratch.refinenet4.resConfUnit1.*`` (the coarsest fusion block has one input). Missing, unknown,
  misshaped or non-finite tensors are errors that name them.
- The encoder fits its position embedding to other token grids by the release's rule (bicubic with the scale
  factor ``(grid + 0.1) / 37``; :mod:`depthzoo.models.encoders.position`), blocks 2, 5, 8, 11 (Large: 4, 11, 17,
  23) with the final norm, so the output equals the official forward pass at any multiple of 14. Other sizes are
  padded to the next multiple of 14 (zeros after normalisation, i.e. the mean colour) and the output is cropped.
- The model takes RGB in [0, 1] and normalises it itself (ImageNet mean and std), like every depthzoo model;
  ``model(x)`` returns (B, 1, H, W) at the input size.

Licences: the Small weights are Apache-2.0; Base and Large are CC-BY-NC-4.0 (non-commercial use only).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from depthzoo.errors import WeightsError, WeightsNotFoundError, listing
from depthzoo.formats.state_dict import load_state
from depthzoo.formats.torch_checkpoint import read_checkpoint
from depthzoo.models.depth_model import DepthModel
from depthzoo.models.factory import create_model
from depthzoo.utils.validation import check_number
from depthzoo.weights.build import build_model
from depthzoo.weights.sources import Weights

logger = logging.getLogger(__name__)

RELEASES_URL = "https://github.com/DepthAnything/Depth-Anything-V2"


@dataclass(frozen=True)
class Variant:
    """One Depth Anything V2 model size: its encoder, DPT widths, intermediate blocks and licence."""

    name: str
    code: str
    encoder: str
    width: int
    blocks: int
    features: int
    out_channels: tuple[int, int, int, int]
    indices: tuple[int, int, int, int]
    license: str

    def architecture(self, max_depth: float | None = None, use_clstoken: bool = False) -> dict[str, Any]:
        """``create_model`` arguments of this variant, with the relative (None) or metric head."""
        decoder_kwargs: dict[str, Any] = {
            "features": self.features,
            "out_channels": list(self.out_channels),
            "activation": "relu" if max_depth is None else "sigmoid",
        }
        if max_depth is not None:
            decoder_kwargs["max_depth"] = float(max_depth)
        if use_clstoken:
            decoder_kwargs["use_clstoken"] = True
        return {
            "encoder": self.encoder,
            "decoder": "dpt",
            "encoder_indices": list(self.indices),
            "pos_embed_interpolation": "dinov2",
            "decoder_kwargs": decoder_kwargs,
        }


VARIANTS: tuple[Variant, ...] = (
    Variant("Small", "vits", "vit_small_patch14_dinov2", 384, 12, 64, (48, 96, 192, 384), (2, 5, 8, 11), "Apache-2.0"),
    Variant(
        "Base", "vitb", "vit_base_patch14_dinov2", 768, 12, 128, (96, 192, 384, 768), (2, 5, 8, 11), "CC-BY-NC-4.0"
    ),
    Variant(
        "Large", "vitl", "vit_large_patch14_dinov2", 1024, 24, 256, (256, 512, 1024, 1024), (4, 11, 17, 23),
        "CC-BY-NC-4.0",
    ),
)

# Tensors of the release that the official forward pass never reads, and why.
UNUSED: dict[str, str] = {
    "pretrained.mask_token": "DINOv2's masked-token embedding, used only in its pre-training",
    "depth_head.scratch.refinenet4.resConfUnit1.": "the coarsest fusion block (refinenet4) has one input, so its "
    "first residual unit is never called",
}

# Name prefixes, release -> depthzoo; "{i}" is a level number, and the release counts its scratch.* levels from 1.
_PREFIXES: tuple[tuple[str, str, int], ...] = (
    ("pretrained.", "encoder.model.model.", 0),
    ("depth_head.projects.{i}.", "decoder.project.{i}.", 0),
    ("depth_head.resize_layers.{i}.", "decoder.resize.{i}.", 0),
    ("depth_head.readout_projects.{i}.0.", "decoder.readout.{i}.", 0),
    ("depth_head.scratch.layer{i}_rn.", "decoder.layer_rn.{i}.", 1),
    ("depth_head.scratch.refinenet{i}.resConfUnit1.", "decoder.fusion.{i}.skip_unit.", 1),
    ("depth_head.scratch.refinenet{i}.resConfUnit2.", "decoder.fusion.{i}.unit.", 1),
    ("depth_head.scratch.refinenet{i}.out_conv.", "decoder.fusion.{i}.out_conv.", 1),
    ("depth_head.scratch.output_conv1.", "decoder.head.conv1.", 0),
    ("depth_head.scratch.output_conv2.0.", "decoder.head.conv2.", 0),
    ("depth_head.scratch.output_conv2.2.", "decoder.head.conv3.", 0),
)


def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix).replace(re.escape("{i}"), r"(?P<level>\d+)") + r"(?P<rest>.+)")


def _translate(name: str, to_depthzoo: bool) -> str | None:
    """``name`` in the other layout (release <-> depthzoo), or None if no prefix covers it."""
    for release, ours, offset in _PREFIXES:
        source, target = (release, ours) if to_depthzoo else (ours, release)
        match = _prefix_pattern(source).fullmatch(name)
        if match is None:
            continue
        groups = match.groupdict()
        if "level" in groups:
            level = int(groups["level"]) + (-offset if to_depthzoo else offset)
            return target.format(i=level) + groups["rest"]
        return target + groups["rest"]
    return None


def release_name(depthzoo_key: str) -> str:
    """The release's name of a depthzoo model tensor.

    >>> release_name("decoder.fusion.3.unit.conv1.weight")
    'depth_head.scratch.refinenet4.resConfUnit2.conv1.weight'
    """
    name = _translate(depthzoo_key, to_depthzoo=False)
    if name is None:
        raise AssertionError(f"no release name for model tensor {depthzoo_key!r}")
    return name


def depthzoo_name(release_key: str) -> str | None:
    """The depthzoo model tensor a release tensor loads into (None for names outside the release layout).

    >>> depthzoo_name("depth_head.scratch.layer1_rn.weight")
    'decoder.layer_rn.0.weight'
    """
    return _translate(release_key, to_depthzoo=True)


def known_unused(release_key: str) -> str | None:
    """Why the official forward pass never uses this tensor, or None if it does."""
    for prefix, reason in UNUSED.items():
        if release_key == prefix or (prefix.endswith(".") and release_key.startswith(prefix)):
            return reason
    return None


def is_release_state(state: Mapping[str, Any]) -> bool:
    """Whether a state dict is in the Depth Anything V2 layout (``pretrained.*`` encoder, ``depth_head.*`` head)."""
    keys = [k for k in state if isinstance(k, str)]
    return any(k.startswith("pretrained.blocks.") for k in keys) and any(k.startswith("depth_head.") for k in keys)


def _download_hint() -> str:
    return (
        f"download an unmodified release (depth_anything_v2_vits.pth, ..._metric_hypersim_vits.pth, ...: "
        f"{RELEASES_URL}; 'depthzoo.list_checkpoints()' names them all with their URLs)"
    )


def release_state(checkpoint: Mapping[str, Any], source: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The release's tensors from what ``torch.load`` returned.

    Besides a plain ``state_dict``, a checkpoint of the official training script (``{"model": state_dict, ...}``,
    with DDP's ``module.`` prefix) is accepted.

    Raises:
        WeightsError: the file is not in the Depth Anything V2 layout; the message says what it looks like.
    """
    state: Mapping[str, Any] = checkpoint
    if not is_release_state(state) and isinstance(checkpoint.get("model"), Mapping):
        state = checkpoint["model"]
    if state and all(isinstance(k, str) and k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    if not is_release_state(state):
        keys = [str(k) for k in checkpoint]
        if "state_dict" in checkpoint and "hyper_parameters" in checkpoint:
            looks = "a Lightning checkpoint; load it with --ckpt_path or DepthTask.load_from_checkpoint"
        elif any(k.startswith("blocks.") for k in keys) and not any(k.startswith("depth_head.") for k in keys):
            looks = "a bare ViT encoder (no depth_head); pass it as encoder_weights of a model you build yourself"
        else:
            looks = f"its {len(keys)} entries start with {listing(keys, limit=4)}"
        raise WeightsError(
            f"not a Depth Anything V2 release: no pretrained.blocks.* and depth_head.* tensors ({looks})",
            source=source,
            fix=_download_hint(),
        )
    bad = [str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(
            f"the state dict holds {len(bad)} value(s) that are not tensors: {listing(bad)}",
            source=source,
            fix=_download_hint(),
        )
    return dict(state)


def infer_variant(state: Mapping[str, torch.Tensor], source: str | os.PathLike[str]) -> Variant:
    """Small, Base or Large from the encoder's width and number of blocks in the release's tensors."""
    cls = state.get("pretrained.cls_token")
    patch = state.get("pretrained.patch_embed.proj.weight")
    if isinstance(cls, torch.Tensor) and cls.ndim == 3:
        width = int(cls.shape[-1])
    elif isinstance(patch, torch.Tensor) and patch.ndim == 4:
        width = int(patch.shape[0])
    else:
        raise WeightsError(
            "cannot tell the model size: pretrained.cls_token and pretrained.patch_embed.proj.weight are missing "
            "or misshaped",
            source=source,
            fix=_download_hint(),
        )
    numbers = {int(m.group(1)) for k in state if (m := re.match(r"pretrained\.blocks\.(\d+)\.", k))}
    blocks = max(numbers) + 1 if numbers else 0
    for variant in VARIANTS:
        if variant.width == width:
            if blocks != variant.blocks:
                raise WeightsError(
                    f"the encoder is {width} wide like Depth Anything V2 {variant.name}, but has {blocks} blocks "
                    f"instead of {variant.blocks}",
                    source=source,
                    fix=_download_hint(),
                )
            return variant
    known = ", ".join(f"{v.name} {v.width}" for v in VARIANTS)
    extra = " (ViT-G: not released, not supported)" if width == 1536 else ""
    raise WeightsError(
        f"an encoder {width} wide is no Depth Anything V2 release{extra}; the releases are {known} wide",
        source=source,
        fix=_download_hint(),
    )


def release_architecture(
    state: Mapping[str, torch.Tensor], source: str | os.PathLike[str], max_depth: float | None
) -> tuple[Variant, dict[str, Any]]:
    """The release's variant, and its ``create_model`` arguments with the chosen head.

    The variant comes from the tensors' shapes; the class-token readout from whether its projections are present.
    """
    variant = infer_variant(state, source)
    use_clstoken = any(k.startswith("depth_head.readout_projects.") for k in state)
    return variant, variant.architecture(max_depth, use_clstoken)


def convert_release_state(
    state: Mapping[str, torch.Tensor], model: DepthModel, source: str | os.PathLike[str], variant: Variant | None = None
) -> dict[str, torch.Tensor]:
    """The release's tensors under ``model``'s names, every one checked; the known-unused ones are left out.

    Raises:
        WeightsError: naming every missing, unknown, misshaped, non-floating or non-finite tensor.
    """
    targets = model.state_dict()
    expected = {release_name(key): key for key in targets}
    if len(expected) != len(targets):
        raise AssertionError("the release name map must be one-to-one")
    unused = sorted(k for k in state if k not in expected and known_unused(k))
    missing = sorted(set(expected) - set(state))
    unknown = sorted(set(state) - set(expected) - set(unused))
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} tensor(s): {listing(missing)}")
    if unknown:
        problems.append(f"{len(unknown)} tensor(s) the model does not have: {listing(unknown)}")
    converted: dict[str, torch.Tensor] = {}
    for name in sorted(set(expected) & set(state)):
        key, tensor = expected[name], state[name]
        target = targets[key]
        if not tensor.is_floating_point():
            problems.append(f"{name} has dtype {tensor.dtype}; expected a floating-point tensor")
        elif tuple(tensor.shape) != tuple(target.shape):
            problems.append(f"{name} has shape {list(tensor.shape)}; expected {list(target.shape)}")
        elif not bool(torch.isfinite(tensor).all()):
            problems.append(f"{name} holds {int((~torch.isfinite(tensor)).sum())} NaN/inf value(s)")
        else:
            converted[key] = tensor.detach().to(target.dtype).contiguous()
    if problems:
        what = f"Depth Anything V2 {variant.name}" if variant is not None else "Depth Anything V2"
        more = f"; ... {len(problems) - 12} more problem(s)" if len(problems) > 12 else ""
        raise WeightsError(
            f"the tensors do not fit {what}: " + "; ".join(problems[:12]) + more, source=source, fix=_download_hint()
        )
    if unused:
        groups = sorted({reason for k in unused if (reason := known_unused(k))})
        logger.info("left out %d tensor(s) the official forward pass never uses: %s (%s)", len(unused),
                    listing(unused, limit=2), "; ".join(groups))
    return converted


def create_release_model(variant: Variant, max_depth: float | None = None, use_clstoken: bool = False) -> DepthModel:
    """The untrained architecture of a release: ``vit_*_patch14_dinov2`` + ``dpt``, relative or metric head."""
    architecture = variant.architecture(max_depth, use_clstoken)
    decoder_kwargs = architecture.pop("decoder_kwargs")
    return create_model(pretrained=False, **architecture, **decoder_kwargs)


def _check_head_choice(path: Path, max_depth: float | None) -> None:
    """Warn when the file name says "metric" and no max_depth was given, or the reverse."""
    says_metric = "metric" in path.name.lower()
    if says_metric and max_depth is None:
        warnings.warn(
            f"{path.name} looks like a metric release, but max_depth is None, so the relative head (ReLU, no unit) "
            f"was built; pass max_depth=20 for the Hypersim (indoor) releases or 80 for the VKITTI (outdoor) ones",
            UserWarning,
            stacklevel=3,
        )
    elif not says_metric and max_depth is not None and path.name.startswith("depth_anything_v2_vit"):
        warnings.warn(
            f"{path.name} looks like a relative release, but max_depth={max_depth:g} built the metric head "
            f"(sigmoid x max_depth); pass max_depth=None for the relative head",
            UserWarning,
            stacklevel=3,
        )


def describe_head(model: DepthModel) -> str:
    """'relative head (ReLU: affine-invariant inverse depth, no unit)' or 'metric head (sigmoid x 20 m)'."""
    return _head_words(getattr(model.decoder, "max_depth", None))


def _head_words(max_depth: float | None) -> str:
    if max_depth is None:
        return "relative head (ReLU: affine-invariant inverse depth, no unit)"
    return f"metric head (sigmoid x {max_depth:g} m)"


def release_weights(
    path: str | os.PathLike[str], max_depth: float | None = None, checkpoint: Mapping[str, Any] | None = None
) -> Weights:
    """A release as :class:`~depthzoo.weights.loader.Weights` (the ``depth-anything-v2`` format of ``load``).

    The architecture of the variant with the chosen head, and the tensors converted for the model built from it.

    Args:
        path: the released ``.pth``.
        max_depth: None for the relative head, metres for the metric head (see :func:`from_depth_anything_v2`).
        checkpoint: what ``torch.load`` already returned for ``path`` (read here otherwise).
    """
    path = Path(path).expanduser()
    if max_depth is not None:
        max_depth = check_number("max_depth", max_depth, low=1e-6)
    if checkpoint is None:
        if not path.is_file():
            raise WeightsNotFoundError("no such Depth Anything V2 file", source=path, fix=_download_hint())
        checkpoint = read_checkpoint(path, fix=_download_hint())
    state = release_state(checkpoint, path)
    variant, config = release_architecture(state, path, max_depth)
    config["weights_from"] = f"Depth Anything V2 {variant.name} ({path.name})"
    config["license"] = variant.license
    _check_head_choice(path, max_depth)

    def converted(model: DepthModel) -> dict[str, torch.Tensor]:
        tensors = convert_release_state(state, model, path, variant)
        logger.info("loaded Depth Anything V2 %s from %s with the %s", variant.name, path.name, _head_words(max_depth))
        return tensors

    return Weights(converted, config, str(path), "depth-anything-v2")


def from_depth_anything_v2(path: str | os.PathLike[str], max_depth: float | None = None) -> DepthModel:
    """A Depth Anything V2 release as a depthzoo model in eval mode (see the module docstring).

    The same as ``depthzoo.load(path, format="depth-anything-v2", max_depth=max_depth)``.

    Args:
        path: a released ``.pth``: ``depth_anything_v2_vit{s,b,l}.pth`` (relative) or
            ``depth_anything_v2_metric_{hypersim,vkitti}_vit{s,b,l}.pth`` (metric).
        max_depth: None builds the relative head; a number the metric head, sigmoid x ``max_depth`` metres (20
            for the Hypersim releases, 80 for the VKITTI ones). The files cannot tell which they are.

    Returns:
        A DepthModel: RGB in [0, 1], (B, 3, H, W) -> (B, 1, H, W) relative disparity or metres;
        ``model.output_kind`` says which.

    Raises:
        WeightsNotFoundError: no such file.
        WeightsError: unreadable, refused (a pickle with code), or not a Depth Anything V2 release.
    """
    return build_model(release_weights(path, max_depth))


def load_release_into(model: DepthModel, state: Mapping[str, torch.Tensor], source: str | os.PathLike[str]) -> None:
    """Load a release's tensors into a model built from a config (``--model.weights release.pth``).

    The model must have the release's architecture (encoder, blocks, position rule, DPT widths); its head may be
    either (the files have the same names), which is how a metric fine-tuning starts from any release.

    Raises:
        WeightsError: the model is built differently (the message lists how), or the tensors do not fit.
    """
    variant, expected = release_architecture(state, source, getattr(model.decoder, "max_depth", None))
    config = model.config
    differences = []
    for key in ("encoder", "decoder", "encoder_indices", "pos_embed_interpolation"):
        have = config.get(key, "timm" if key == "pos_embed_interpolation" else None)
        if have != expected[key]:
            differences.append(f"{key} {have!r} (needs {expected[key]!r})")
    decoder_kwargs = config.get("decoder_kwargs") or {}
    for key in ("features", "out_channels", "use_clstoken"):
        want, have = expected["decoder_kwargs"].get(key), decoder_kwargs.get(key)
        if key == "use_clstoken":
            want, have = bool(want), bool(have)
        if have != want:
            differences.append(f"decoder_kwargs.{key} {have!r} (needs {want!r})")
    if differences:
        raise WeightsError(
            f"the file is Depth Anything V2 {variant.name}, but the model is built with " + "; ".join(differences),
            source=source,
            fix="build it as the release (see configs/dav2_small_nyu.yaml), or load the file with "
            "depthzoo.from_depth_anything_v2",
        )
    load_state(model, convert_release_state(state, model, source, variant), source=source)


__all__ = [
    "UNUSED",
    "VARIANTS",
    "Variant",
    "convert_release_state",
    "create_release_model",
    "depthzoo_name",
    "describe_head",
    "from_depth_anything_v2",
    "infer_variant",
    "is_release_state",
    "known_unused",
    "load_release_into",
    "release_architecture",
    "release_name",
    "release_state",
]
