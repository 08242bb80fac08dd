"""Any timm model as a depth encoder: a feature pyramid described by timm's ``feature_info``.

Channels and strides are read from ``feature_info`` (never from hand-written tables). NHWC feature maps (Swin) are
permuted to NCHW; plain ViTs use timm's intermediate-block features with dynamic image size and padding, so any
input size works; models whose patch embedding needs a fixed multiple report it as ``input_multiple`` and the
model pads for them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import timm
from torch import Tensor, nn
from typing_extensions import override

from depthzoo.errors import ArgumentTypeError, InvalidArgumentError
from depthzoo.models.encoders.pretrained import (
    checked_encoder_load,
    judge_encoder_weights,
    read_encoder_state,
    readable_weight_file,
    resolve_weight_file,
)
from depthzoo.registry import RegistryError, unknown_name_message
from depthzoo.utils.validation import check_bool, check_name

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Keyword arguments that make ViT-style models accept any input size. Passed only to model classes that take them.
_DYNAMIC_SIZE_KWARGS = {"dynamic_img_size": True, "dynamic_img_pad": True}
_NON_STRICT_SIZE_KWARGS = {"strict_img_size": False}


class UnsupportedEncoderError(InvalidArgumentError, RuntimeError):
    """The timm model cannot serve as a depth encoder (it has no ``features_only`` feature extraction)."""


def list_encoders(pattern: str = "*", pretrained: bool = False) -> list[str]:
    """Encoder names: every timm model name matching the wildcard ``pattern`` (depthzoo's own encoders included).

    Most timm models can serve as encoders; the few that cannot run ``features_only`` fail with a clear error at
    construction. ``pretrained=True`` lists only names that have ImageNet weights (with their tags).
    """
    return timm.list_models(pattern, pretrained=pretrained)


def check_encoder_name(name: str) -> None:
    """Raise a KeyError with close matches if timm does not know ``name`` (an ArgumentTypeError if not a string)."""
    check_name("encoder", name)
    if not timm.is_model(name):
        raise RegistryError(
            unknown_name_message(
                "encoder",
                name,
                timm.list_models(),
                listing_hint="List encoders with depthzoo.list_encoders('resnet*').",
            )
        )


def _create_features_model(name: str, pretrained: bool, kwargs: dict[str, object]) -> nn.Module:
    """timm.create_model(features_only=True) with the any-input-size options the model family accepts.

    The options that worked are kept as ``model.depthzoo_size_kwargs``.
    """
    for size_kwargs in (_DYNAMIC_SIZE_KWARGS, _NON_STRICT_SIZE_KWARGS, {}):
        extra = dict(kwargs)
        extra.update(size_kwargs)
        if size_kwargs is _DYNAMIC_SIZE_KWARGS and "out_indices" not in extra:
            extra["out_indices"] = 4  # ViTs: the last 4 transformer blocks (timm: an int n means the last n)
        try:
            model = timm.create_model(name, pretrained=pretrained, **extra)
        except TypeError as exc:
            if size_kwargs and "unexpected keyword argument" in str(exc):
                continue  # this family does not take these options; try the next set
            raise
        model.depthzoo_size_kwargs = dict(size_kwargs)
        return model
    raise AssertionError("unreachable")


def full_model_shapes(name: str, size_kwargs: dict[str, object]) -> dict[str, tuple[int, ...]]:
    """Tensor shapes of the whole timm model ``name`` (classifier included), built without memory on "meta"."""
    import torch

    try:
        with torch.device("meta"):
            model = timm.create_model(name, pretrained=False, **size_kwargs)
    except Exception:  # a family that cannot be built on "meta": build it for real
        model = timm.create_model(name, pretrained=False, **size_kwargs)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


class TimmEncoder(nn.Module):
    """A timm model wrapped as ``features_only`` feature extractor returning NCHW maps.

    Args:
        name: any timm model name, optionally with a weight tag (``resnet50.a1_in1k``).
        pretrained: load ImageNet weights (from the local cache or the hub; fails fast and clearly when offline).
        weights: path to a local ``.safetensors``/``.pth`` state_dict of the full timm model; implies pretrained.
            Loaded strictly: every tensor the encoder keeps must be in the file with its shape, and every tensor of
            the file must belong to the model (its classifier excepted), or the error names them.
        out_indices: which feature levels to return (timm semantics); default: all levels (ViTs: the last 4 blocks).
        depth: use only the first ``depth`` feature levels of a hierarchical model (stages beyond are not built):
            a ResNet at depth 4 ends at stride 16 instead of 32, with a 2x finer bottleneck and less compute.
        strict: with ``weights``, False loads only the tensors that fit (partial transfer) and logs what was left
            out, instead of refusing the file.
    """

    def __init__(
        self,
        name: str,
        pretrained: bool = False,
        weights: str | os.PathLike[str] | None = None,
        out_indices: Sequence[int] | None = None,
        depth: int | None = None,
        strict: bool = True,
    ) -> None:
        super().__init__()
        check_encoder_name(name)
        check_bool("pretrained", pretrained)
        check_bool("strict", strict)
        if weights is not None and not isinstance(weights, (str, os.PathLike)):
            raise ArgumentTypeError(f"encoder weights must be a file path, got {weights!r} ({type(weights).__name__})")
        if depth is not None and out_indices is not None:
            raise InvalidArgumentError("give either out_indices or depth, not both (depth n means out_indices 0..n-1)")
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
            is_int = isinstance(depth, int) and not isinstance(depth, bool)
            raise (InvalidArgumentError if is_int else ArgumentTypeError)(
                f"encoder depth must be a positive number of feature levels, got {depth!r}"
            )
        kwargs: dict[str, object] = {"features_only": True}
        if out_indices is not None:
            kwargs["out_indices"] = tuple(out_indices)
        if depth is not None:
            kwargs["out_indices"] = tuple(range(depth))
        state, cached = None, None
        if weights is not None:
            state = read_encoder_state(weights)
            kwargs["pretrained_cfg_overlay"] = {"file": str(weights)}
            pretrained = True
        elif pretrained:
            cached = resolve_weight_file(name, timm.models.get_pretrained_cfg(name))
            if cached is not None:
                kwargs["pretrained_cfg_overlay"] = {"file": str(cached)}
        try:
            if state is None:
                with readable_weight_file(cached):  # timm reads a cached copy itself; a broken one is named
                    self.model = _create_features_model(name, pretrained, kwargs)
            else:
                with checked_encoder_load(state) as report:
                    self.model = _create_features_model(name, pretrained, kwargs)
                judge_encoder_weights(
                    report, self.model, name, weights, strict,
                    whole_model=lambda: full_model_shapes(name, self.model.depthzoo_size_kwargs),
                )
        except (IndexError, AssertionError) as exc:
            if depth is None:
                raise
            levels = len(_create_features_model(name, False, {"features_only": True}).feature_info)
            raise InvalidArgumentError(
                f"encoder {name!r} has {levels} feature levels; depth={depth} asks for more"
            ) from exc
        except (RuntimeError, AttributeError) as exc:  # timm raises either, depending on how the model is built
            if "feature" not in str(exc):
                raise
            raise UnsupportedEncoderError(
                f"timm model {name!r} cannot be used as a depth encoder: it does not support features_only "
                f"feature extraction ({exc}). Pick another encoder, e.g. resnet50, convnext_tiny, efficientnet_b0, "
                f"swin_tiny_patch4_window7_224 or vit_small_patch16_224."
            ) from exc
        info = self.model.feature_info
        if depth is not None and len(set(info.reduction())) < depth:
            raise InvalidArgumentError(
                f"encoder {name!r} returns {len(info.reduction())} feature maps at strides {info.reduction()}, not "
                f"{depth} levels of a pyramid; depth applies to hierarchical encoders (ResNet, ConvNeXt, ...)"
            )
        self.name = name
        self.channels: list[int] = list(info.channels())
        self.reductions: list[int] = list(info.reduction())
        fmt = getattr(self.model, "output_fmt", "NCHW")
        self.channels_last_output = str(getattr(fmt, "value", fmt)).upper() == "NHWC"
        cfg = getattr(self.model, "pretrained_cfg", None) or {}
        self.mean: tuple[float, ...] = tuple(cfg.get("mean", IMAGENET_MEAN))
        self.std: tuple[float, ...] = tuple(cfg.get("std", IMAGENET_STD))
        self.input_multiple = self._required_input_multiple()

    def _required_input_multiple(self) -> int:
        """Inputs must be a multiple of this (a patch embedding that neither pads nor resizes); 1 if free."""
        multiple = 1
        for module in self.model.modules():
            patch = getattr(module, "patch_size", None)
            if patch is None or getattr(module, "dynamic_img_pad", False):
                continue
            sizes = patch if isinstance(patch, (tuple, list)) else (patch, patch)
            for s in sizes:
                if isinstance(s, int) and s > 1:
                    multiple = multiple * s // math.gcd(multiple, s)
        return multiple

    @property
    def stride(self) -> int:
        """The reduction of the deepest returned feature map."""
        return self.reductions[-1]

    @override
    def forward(self, x: Tensor) -> list[Tensor]:
        features = self.model(x)
        if self.channels_last_output:
            features = [f.permute(0, 3, 1, 2) for f in features]
        return list(features)


__all__ = ["TimmEncoder", "UnsupportedEncoderError", "check_encoder_name", "list_encoders"]
