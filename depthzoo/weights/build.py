"""Step two of :func:`depthzoo.load`: build the architecture a source describes and load its tensors strictly.

:func:`build_model` builds with ``create_model(pretrained=False)`` (nothing is downloaded for the encoder), refuses
weights recorded for another architecture in one line that names both, and loads the tensors strictly: every
expected tensor present with its shape, every given tensor used.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from depthzoo.errors import DepthzooError, InvalidArgumentError, WeightsError
from depthzoo.formats.state_dict import load_state
from depthzoo.models.depth_model import DepthModel
from depthzoo.models.factory import create_model
from depthzoo.weights.sources import Weights

ARCHITECTURE_KEYS = (
    "encoder",
    "decoder",
    "decoder_kwargs",
    "encoder_depth",
    "encoder_indices",
    "pos_embed_interpolation",
    "output_kind",
)


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


__all__ = ["ARCHITECTURE_KEYS", "build_model", "check_same_architecture", "describe_architecture", "misfit"]
