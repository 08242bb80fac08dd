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
from typing import Literal

import timm
from timm.models._features import FeatureGetterNet
from torch import Tensor, nn
from typing_extensions import override

from depthzoo.errors import ArgumentTypeError, InvalidArgumentError
from depthzoo.models.encoders.position import (
    POS_EMBED_INTERPOLATIONS,
    PosEmbedInterpolation,
    use_pos_embed_interpolation,
)
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


def _check_indices(indices: Sequence[int], unit: str) -> tuple[int, ...]:
    """``indices`` as a tuple of non-negative, strictly increasing integers (shallow to deep), or a clear error."""
    if isinstance(indices, (str, bytes)) or not isinstance(indices, Sequence) or not indices:
        raise InvalidArgumentError(f"encoder_indices must be a non-empty list of {unit} numbers, got {indices!r}")
    values = []
    for value in indices:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidArgumentError(
                f"encoder_indices must hold non-negative integers ({unit} counted from 0), got {list(indices)!r}"
            )
        values.append(int(value))
    if any(b <= a for a, b in zip(values, values[1:])):
        raise InvalidArgumentError(
            f"encoder_indices must be strictly increasing (shallow to deep), got {values}",
            fix=f"e.g. {sorted(set(values))}",
        )
    return tuple(values)


def spread_blocks(num_blocks: int, count: int = 4) -> list[int]:
    """``count`` evenly spaced blocks ending at the last, as DPT and Depth Anything V2 pick them.

    >>> spread_blocks(12), spread_blocks(24)
    ([2, 5, 8, 11], [5, 11, 17, 23])
    """
    if num_blocks < count:
        raise InvalidArgumentError(
            f"the encoder has {num_blocks} transformer blocks; {count} distinct blocks are needed",
            fix="pick a deeper ViT, or pass encoder_indices explicitly",
        )
    return [(k + 1) * num_blocks // count - 1 for k in range(count)]


def _create_vit(name: str, pretrained: bool, kwargs: dict[str, object]) -> nn.Module | None:
    """The plain timm model if ``name`` is a ViT-style model that takes any input size, else None."""
    try:
        model = timm.create_model(name, pretrained=pretrained, num_classes=0, **_DYNAMIC_SIZE_KWARGS, **kwargs)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            return None  # not a ViT-style model: it does not take these options
        raise
    if not (hasattr(model, "forward_intermediates") and hasattr(model, "prune_intermediate_layers")):
        return None  # took the options without being a ViT with intermediate blocks: try features_only
    return model


def _create_hierarchical(name: str, pretrained: bool, kwargs: dict[str, object]) -> nn.Module:
    """timm.create_model(features_only=True) with the any-input-size options the model family accepts.

    The options that worked are kept as ``model.depthzoo_size_kwargs``.
    """
    for size_kwargs in (_NON_STRICT_SIZE_KWARGS, {}):
        try:
            model = timm.create_model(name, pretrained=pretrained, features_only=True, **kwargs, **size_kwargs)
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

    Plain ViTs (any timm model taking ``dynamic_img_size``) return the maps of four transformer blocks: the last
    four by default, or four evenly spaced ones (``vit_blocks="spread"``, as DPT), or ``out_indices``;
    hierarchical models return their feature levels (all by default, the first ``depth``, or ``out_indices``).

    Args:
        name: any timm model name, optionally with a weight tag (``resnet50.a1_in1k``).
        pretrained: load ImageNet weights (from the local cache or the hub; fails fast and clearly when offline).
        weights: path to a local ``.safetensors``/``.pth`` state_dict of the full timm model; implies pretrained.
            Loaded strictly: every tensor the encoder keeps must be in the file with its shape, and every tensor of
            the file must belong to the model (its classifier excepted), or the error names them.
        out_indices: which transformer blocks (ViTs) or feature levels (hierarchical models) to return, counted
            from 0, shallow to deep; default as described above.
        depth: use only the first ``depth`` feature levels of a hierarchical model (stages beyond are not built):
            a ResNet at depth 4 ends at stride 16 instead of 32, with a 2x finer bottleneck and less compute.
        strict: with ``weights``, False loads only the tensors that fit (partial transfer) and logs what was left
            out, instead of refusing the file.
        vit_blocks: ViTs without ``out_indices``: the "last" four blocks or four "spread" evenly (2, 5, 8, 11 of 12).
        vit_norm: ViTs: pass each returned block through the model's final norm (DPT, Depth Anything V2).
        class_token: ViTs: return ``(map, class_token)`` pairs, the class token (B, C) taken after the same norm.
        pos_embed_interpolation: ViTs: how the position embedding is fitted to other grids, "timm" (timm's rule)
            or "dinov2" (the DINOv2 / Depth Anything V2 release rule; see :mod:`depthzoo.models.encoders.position`).
    """

    def __init__(
        self,
        name: str,
        pretrained: bool = False,
        weights: str | os.PathLike[str] | None = None,
        out_indices: Sequence[int] | None = None,
        depth: int | None = None,
        strict: bool = True,
        vit_blocks: Literal["last", "spread"] = "last",
        vit_norm: bool = False,
        class_token: bool = False,
        pos_embed_interpolation: PosEmbedInterpolation = "timm",
    ) -> None:
        super().__init__()
        check_encoder_name(name)
        check_bool("pretrained", pretrained)
        check_bool("strict", strict)
        if weights is not None and not isinstance(weights, (str, os.PathLike)):
            raise ArgumentTypeError(f"encoder weights must be a file path, got {weights!r} ({type(weights).__name__})")
        if depth is not None and out_indices is not None:
            raise InvalidArgumentError(
                "give either encoder_indices or encoder_depth, not both (depth n means indices 0..n-1)"
            )
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
            is_int = isinstance(depth, int) and not isinstance(depth, bool)
            raise (InvalidArgumentError if is_int else ArgumentTypeError)(
                f"encoder depth must be a positive number of feature levels, got {depth!r}"
            )
        if pos_embed_interpolation not in POS_EMBED_INTERPOLATIONS:
            raise InvalidArgumentError(
                f"pos_embed_interpolation must be one of {POS_EMBED_INTERPOLATIONS}, got {pos_embed_interpolation!r}"
            )
        if vit_blocks not in ("last", "spread"):
            raise InvalidArgumentError(f"vit_blocks must be 'last' or 'spread', got {vit_blocks!r}")
        indices = None if out_indices is None else _check_indices(out_indices, "block or level")
        kwargs: dict[str, object] = {}
        state, cached = None, None
        if weights is not None:
            state = read_encoder_state(weights)
            kwargs["pretrained_cfg_overlay"] = {"file": str(weights)}
            pretrained = True
        elif pretrained:
            cached = resolve_weight_file(name, timm.models.get_pretrained_cfg(name))
            if cached is not None:
                kwargs["pretrained_cfg_overlay"] = {"file": str(cached)}

        def build() -> nn.Module:
            vit = _create_vit(name, pretrained, kwargs)
            if vit is None:
                for option, value, default in (
                    ("class_token", class_token, False),
                    ("pos_embed_interpolation", pos_embed_interpolation, "timm"),
                ):
                    if value != default:
                        raise InvalidArgumentError(
                            f"{option}={value!r} applies to ViTs; encoder {name!r} is a hierarchical model"
                        )
                return self._create_levels(name, pretrained, kwargs, indices, depth)
            if class_token and getattr(vit, "cls_token", None) is None:
                raise InvalidArgumentError(f"class_token=True, but encoder {name!r} has no class token")
            return self._wrap_vit(vit, name, indices, depth, vit_blocks, vit_norm, pos_embed_interpolation)

        if state is None:
            with readable_weight_file(cached):  # timm reads a cached copy itself; a broken one is named
                self.model = build()
        else:
            with checked_encoder_load(state) as report:
                self.model = build()
            judge_encoder_weights(
                report, self.model, name, weights, strict,
                whole_model=lambda: full_model_shapes(name, self.model.depthzoo_size_kwargs),
            )
        self.is_vit = isinstance(self.model, FeatureGetterNet)
        self.class_token = bool(class_token)
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

    @staticmethod
    def _wrap_vit(
        vit: nn.Module,
        name: str,
        indices: tuple[int, ...] | None,
        depth: int | None,
        vit_blocks: str,
        vit_norm: bool,
        pos_embed_interpolation: PosEmbedInterpolation,
    ) -> nn.Module:
        """The intermediate-block getter of timm around ``vit``, with the chosen blocks, norm and position rule."""
        num_blocks = len(getattr(vit, "blocks", ()))
        if depth is not None:
            raise InvalidArgumentError(
                f"encoder {name!r} is a plain ViT ({num_blocks} blocks at one stride); encoder_depth applies to "
                f"hierarchical encoders (ResNet, ConvNeXt, ...)",
                fix="choose its blocks with encoder_indices instead",
            )
        if indices is not None and indices[-1] >= num_blocks:
            raise InvalidArgumentError(
                f"encoder {name!r} has {num_blocks} transformer blocks (0..{num_blocks - 1}); encoder_indices "
                f"{list(indices)} asks for block {indices[-1]}"
            )
        if indices is not None:
            chosen: int | list[int] = list(indices)
        elif vit_blocks == "spread":
            chosen = spread_blocks(num_blocks)
        else:
            chosen = 4  # timm: an int n means the last n blocks
        use_pos_embed_interpolation(vit, pos_embed_interpolation, name)
        getter = FeatureGetterNet(vit, out_indices=chosen, norm=vit_norm)
        getter.pretrained_cfg = vit.pretrained_cfg
        getter.depthzoo_size_kwargs = dict(_DYNAMIC_SIZE_KWARGS)
        return getter

    @staticmethod
    def _create_levels(
        name: str, pretrained: bool, kwargs: dict[str, object], indices: tuple[int, ...] | None, depth: int | None
    ) -> nn.Module:
        """A hierarchical timm model returning the chosen feature levels, with clear errors for impossible ones."""
        kwargs = dict(kwargs)
        if indices is not None:
            kwargs["out_indices"] = indices
        if depth is not None:
            kwargs["out_indices"] = tuple(range(depth))
        try:
            return _create_hierarchical(name, pretrained, kwargs)
        except (IndexError, AssertionError) as exc:
            if depth is None and indices is None:
                raise
            levels = len(_create_hierarchical(name, False, {}).feature_info)
            asked = f"depth={depth}" if depth is not None else f"encoder_indices {list(indices or ())}"
            raise InvalidArgumentError(f"encoder {name!r} has {levels} feature levels; {asked} asks for more") from exc
        except (RuntimeError, AttributeError) as exc:  # timm raises either, depending on how the model is built
            if "feature" not in str(exc):
                raise
            raise UnsupportedEncoderError(
                f"timm model {name!r} cannot be used as a depth encoder: it does not support features_only "
                f"feature extraction ({exc}). Pick another encoder, e.g. resnet50, convnext_tiny, efficientnet_b0, "
                f"swin_tiny_patch4_window7_224 or vit_small_patch16_224."
            ) from exc

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
    def forward(self, x: Tensor) -> list[Tensor] | list[tuple[Tensor, Tensor]]:
        """The feature maps (NCHW), shallow to deep; ``(map, class_token)`` pairs when ``class_token`` is on."""
        if self.class_token:
            pairs = self.model.model.forward_intermediates(
                x, indices=self.model.out_indices, norm=self.model.norm, return_prefix_tokens=True,
                output_fmt="NCHW", intermediates_only=True,
            )
            return [(features, prefix[:, 0]) for features, prefix in pairs]
        features = self.model(x)
        if self.channels_last_output:
            features = [f.permute(0, 3, 1, 2) for f in features]
        return list(features)


__all__ = ["TimmEncoder", "UnsupportedEncoderError", "check_encoder_name", "list_encoders", "spread_blocks"]
