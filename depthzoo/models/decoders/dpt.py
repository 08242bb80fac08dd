"""DPT (Ranftl et al. 2021, "Vision Transformers for Dense Prediction") as Depth Anything V2 uses it, for any encoder.

Four encoder levels are reassembled into a pyramid at strides (s/4, s/2, s, 2s), fused from the coarsest with
RefineNet-style blocks, and a small head returns one channel at the input grid (output stride 1):

1. Reassemble, per level i: (class-token readout, optional) -> 1x1 ``project`` conv to ``out_channels[i]`` ->
   ``resize``: on a plain ViT (four blocks at one stride) a 4x4/stride-4 transposed conv (x4), a 2x2/stride-2
   transposed conv (x2), identity, and a 3x3/stride-2 conv (/2). Hierarchical encoders (ResNet, ConvNeXt, Swin,
   EfficientNet) give their four deepest levels, whose strides already double from level to level: no resize
   layer there, and no projection unless ``out_channels`` is given.
2. ``layer_rn``: a 3x3 conv without bias per level, to ``features`` channels.
3. Fusion from the coarsest: ``fusion[3](l3)`` -> ``fusion[2](p, l2)`` -> ``fusion[1](p, l1)`` -> ``fusion[0](p, l0)``.
   A block adds a residual conv unit of its second input to the first (the coarsest block has no second input,
   hence no such unit), applies another residual conv unit, resizes bilinearly with ``align_corners=True`` to the
   next level's size (x2 for the last), then a 1x1 conv. Residual conv unit: ReLU, 3x3 conv, ReLU, 3x3 conv, + input
   (with BatchNorm after each conv when ``use_bn``).
4. Head: 3x3 conv to features/2 -> bilinear (``align_corners=True``) to the input grid -> 3x3 conv to 32, ReLU ->
   1x1 conv to 1 -> ReLU (relative disparity) or sigmoid x ``max_depth`` (metres).

With ``features=64, out_channels=[48, 96, 192, 384]`` on ``vit_small_patch14_dinov2`` (blocks 2, 5, 8, 11, final
norm applied) this is Depth Anything V2 Small; :func:`depthzoo.from_depth_anything_v2` loads the releases into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from depthzoo.errors import InvalidArgumentError
from depthzoo.models.decoders.registry import register_decoder
from depthzoo.utils.validation import check_int, check_number

DEFAULT_MAX_DEPTH = 10.0
HEAD_WIDTH = 32


def default_features(width: int) -> int:
    """The fusion width Depth Anything V2 pairs with an encoder of this (deepest) width: 64, 128 or 256.

    >>> default_features(384), default_features(768), default_features(1024)
    (64, 128, 256)
    """
    return 64 if width <= 384 else 128 if width <= 768 else 256


def default_vit_out_channels(width: int) -> list[int]:
    """Depth Anything V2's reassembly widths for a ViT of this width (Small, Base: C/8..C; Large: C/4, C/2, C, C).

    >>> default_vit_out_channels(384), default_vit_out_channels(1024)
    ([48, 96, 192, 384], [256, 512, 1024, 1024])
    """
    if width <= 768:
        return [width // 8, width // 4, width // 2, width]
    return [width // 4, width // 2, width, width]


class ResidualConvUnit(nn.Module):
    """ReLU -> 3x3 conv -> ReLU -> 3x3 conv, plus the input (BatchNorm after each conv when ``use_bn``).

    Args:
        features: channels in and out.
        use_bn: BatchNorm after the convolutions (which then have no bias).
    """

    def __init__(self, features: int, use_bn: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1, bias=not use_bn)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1, bias=not use_bn)
        self.bn1 = nn.BatchNorm2d(features) if use_bn else nn.Identity()
        self.bn2 = nn.BatchNorm2d(features) if use_bn else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """The unit's output, same shape as ``x``."""
        out = self.bn1(self.conv1(F.relu(x)))
        out = self.bn2(self.conv2(F.relu(out)))
        return out + x


class FusionBlock(nn.Module):
    """[x + unit(skip)] -> unit -> bilinear resize (``align_corners=True``) -> 1x1 conv.

    Args:
        features: channels of both inputs and of the output.
        use_bn: BatchNorm in the residual conv units.
        takes_skip: whether the block has a second input (all but the coarsest).
    """

    def __init__(self, features: int, use_bn: bool, takes_skip: bool) -> None:
        super().__init__()
        self.skip_unit = ResidualConvUnit(features, use_bn) if takes_skip else None
        self.unit = ResidualConvUnit(features, use_bn)
        self.out_conv = nn.Conv2d(features, features, 1)

    def forward(self, x: Tensor, skip: Tensor | None, size: tuple[int, int]) -> Tensor:
        """Fuse ``skip`` into ``x`` and resize to ``size``."""
        if skip is not None:
            if self.skip_unit is None:
                raise AssertionError("the coarsest fusion block takes one input")
            x = x + self.skip_unit(skip)
        x = self.unit(x)
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=True)
        return self.out_conv(x)


class DPTHead(nn.Module):
    """3x3 conv to features/2 -> (resize, done by the decoder) -> 3x3 conv to 32 -> ReLU -> 1x1 conv to 1.

    Args:
        features: fusion width.
    """

    def __init__(self, features: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features // 2, 3, padding=1)
        self.conv2 = nn.Conv2d(features // 2, HEAD_WIDTH, 3, padding=1)
        self.conv3 = nn.Conv2d(HEAD_WIDTH, 1, 1)


def _resize_layer(channels: int, factor: float) -> nn.Module:
    """The reassembly resize for a stride ratio: x4 / x2 transposed convs, identity, or a stride-2 conv (/2)."""
    if factor == 4:
        return nn.ConvTranspose2d(channels, channels, kernel_size=4, stride=4)
    if factor == 2:
        return nn.ConvTranspose2d(channels, channels, kernel_size=2, stride=2)
    if factor == 1:
        return nn.Identity()
    if factor == 0.5:
        return nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=1)
    raise AssertionError(f"unsupported resize factor {factor}")


def _resize_factors(strides: Sequence[int]) -> list[float]:
    """Up-sampling factor per level that puts the four levels at strides doubling up to the deepest one."""
    if len(set(strides)) == 1:  # a plain ViT: (s/4, s/2, s, 2s) as DPT reassembles
        return [4, 2, 1, 0.5]
    factors = [strides[i] / (strides[3] / 2 ** (3 - i)) for i in range(4)]
    if any(f not in (4, 2, 1, 0.5) for f in factors):
        raise InvalidArgumentError(
            f"dpt needs four encoder levels at one stride (a ViT) or at strides that double from level to level; "
            f"the encoder's last four levels are at strides {list(strides)}",
            fix="pick another encoder, or choose its levels with encoder_indices",
        )
    return factors


@register_decoder("dpt")
class DPTDecoder(nn.Module):
    """The DPT decoder of Depth Anything V2 for the last four levels of any encoder; output stride 1.

    Args:
        in_channels: channels of each encoder feature level; the last four are used.
        reductions: stride of each level; four equal strides mean a plain ViT.
        features: fusion width; default by the encoder's deepest width as Depth Anything V2 (64 up to 384
            channels, 128 up to 768, else 256).
        out_channels: widths the four levels are projected to; default on a ViT as Depth Anything V2 (C/8, C/4,
            C/2, C up to 768 channels, else C/4, C/2, C, C); on a hierarchical encoder the levels' own widths,
            without projection.
        use_bn: BatchNorm in the residual conv units (off in all Depth Anything V2 releases).
        use_clstoken: project each ViT level with its class token (readout: concatenate, linear, GELU).
        activation: "sigmoid" (metric: sigmoid x ``max_depth`` metres) or "relu" (relative disparity: affine-
            invariant inverse depth, as the relative Depth Anything V2 releases). It sets ``output_kind``.
        max_depth: the largest depth the metric head can give, in metres (default 10, NYU's range; Depth Anything
            V2's indoor release uses 20, its outdoor one 80). Only with ``activation="sigmoid"``.
    """

    output_stride = 1

    @classmethod
    def encoder_options(cls, decoder_kwargs: dict[str, Any]) -> dict[str, Any]:
        """What the encoder must return for this decoder: ViTs give normed, spread-out blocks (and class tokens)."""
        return {"vit_blocks": "spread", "vit_norm": True, "class_token": bool(decoder_kwargs.get("use_clstoken"))}

    def __init__(
        self,
        in_channels: Sequence[int],
        reductions: Sequence[int],
        features: int | None = None,
        out_channels: list[int] | None = None,
        use_bn: bool = False,
        use_clstoken: bool = False,
        activation: Literal["sigmoid", "relu"] = "sigmoid",
        max_depth: float | None = None,
    ) -> None:
        super().__init__()
        if len(in_channels) != len(reductions) or len(in_channels) < 4:
            raise InvalidArgumentError(
                f"dpt needs four encoder feature levels; the encoder gives {len(in_channels)} (channels "
                f"{list(in_channels)}, strides {list(reductions)})",
                fix="use an encoder with four or more levels (do not end it early with encoder_depth < 4)",
            )
        widths, strides = [int(c) for c in in_channels[-4:]], [int(r) for r in reductions[-4:]]
        self.strides = strides
        self.is_vit = len(set(strides)) == 1
        factors = _resize_factors(strides)
        if activation not in ("sigmoid", "relu"):
            raise InvalidArgumentError(
                f"activation must be 'sigmoid' (metric) or 'relu' (relative), got {activation!r}"
            )
        if activation == "relu" and max_depth is not None:
            raise InvalidArgumentError(
                "max_depth scales the metric head; the relu head predicts relative disparity, which has no unit",
                fix="drop max_depth, or use activation='sigmoid'",
            )
        if use_clstoken and not self.is_vit:
            raise InvalidArgumentError(
                f"use_clstoken needs a ViT encoder with a class token; this encoder is hierarchical (strides {strides})"
            )
        features = default_features(widths[-1]) if features is None else check_int("features", features, minimum=2)
        if out_channels is None:
            out_channels = default_vit_out_channels(widths[-1]) if self.is_vit else list(widths)
            project = self.is_vit
        else:
            listed = isinstance(out_channels, Sequence) and not isinstance(out_channels, (str, bytes))
            if not listed or len(out_channels) != 4:
                raise InvalidArgumentError(f"out_channels must list 4 widths, one per level, got {out_channels!r}")
            out_channels = [check_int(f"out_channels[{i}]", c, minimum=1) for i, c in enumerate(out_channels)]
            project = True
        self.features = features
        self.out_channels = list(out_channels)
        self.activation = activation
        self.max_depth = (
            check_number("max_depth", DEFAULT_MAX_DEPTH if max_depth is None else max_depth, low=1e-6)
            if activation == "sigmoid"
            else None
        )
        self.output_kind = "metric" if activation == "sigmoid" else "relative_disparity"
        self.use_clstoken = bool(use_clstoken)
        self.readout = nn.ModuleList([nn.Linear(2 * w, w) for w in widths]) if use_clstoken else None
        self.project = nn.ModuleList(
            [nn.Conv2d(w, c, kernel_size=1) if project else nn.Identity() for w, c in zip(widths, out_channels)]
        )
        self.resize = nn.ModuleList([_resize_layer(c, f) for c, f in zip(out_channels, factors)])
        self.layer_rn = nn.ModuleList([nn.Conv2d(c, features, 3, padding=1, bias=False) for c in out_channels])
        self.fusion = nn.ModuleList([FusionBlock(features, use_bn, takes_skip=i < 3) for i in range(4)])
        self.head = DPTHead(features)

    def extra_repr(self) -> str:
        """Widths, strides and which head (metric or relative) the decoder has."""
        head = "relu (relative disparity)" if self.max_depth is None else f"sigmoid x {self.max_depth:g} m (metric)"
        return f"features={self.features}, out_channels={self.out_channels}, strides={self.strides}, head={head}"

    def _reassemble(self, index: int, level: Tensor | tuple[Tensor, Tensor]) -> Tensor:
        if self.readout is not None:
            if not isinstance(level, tuple):
                raise InvalidArgumentError("use_clstoken needs (map, class_token) pairs from the encoder")
            feature, class_token = level
            batch, channels, height, width = feature.shape
            tokens = feature.flatten(2).transpose(1, 2)
            tokens = torch.cat([tokens, class_token[:, None, :].expand_as(tokens)], dim=-1)
            tokens = F.gelu(self.readout[index](tokens))
            level = tokens.transpose(1, 2).reshape(batch, channels, height, width)
        elif isinstance(level, tuple):
            level = level[0]
        return self.layer_rn[index](self.resize[index](self.project[index](level)))

    def forward(
        self, features: Sequence[Tensor | tuple[Tensor, Tensor]], image_size: tuple[int, int] | None = None
    ) -> Tensor:
        """(B, 1, H, W) depth (or relative disparity) on the input grid.

        Args:
            features: the encoder's levels (the last four are used); ``(map, class_token)`` pairs with readout.
            image_size: the input's (H, W); the output is cropped to it. Without it the output covers the grid the
                finest used level spans (its size times its stride).
        """
        levels = list(features)[-4:]
        maps = [self._reassemble(i, level) for i, level in enumerate(levels)]
        path = self.fusion[3](maps[3], None, maps[2].shape[-2:])
        path = self.fusion[2](path, maps[2], maps[1].shape[-2:])
        path = self.fusion[1](path, maps[1], maps[0].shape[-2:])
        path = self.fusion[0](path, maps[0], (2 * maps[0].shape[-2], 2 * maps[0].shape[-1]))
        finest = levels[0][0] if isinstance(levels[0], tuple) else levels[0]
        grid = (finest.shape[-2] * self.strides[0], finest.shape[-1] * self.strides[0])
        out = F.interpolate(self.head.conv1(path), size=grid, mode="bilinear", align_corners=True)
        out = self.head.conv3(F.relu(self.head.conv2(out)))
        out = torch.sigmoid(out) * self.max_depth if self.max_depth is not None else F.relu(out)
        if image_size is not None:
            # The grid covers the input's padding: crop it away. Where the grid is smaller than the input (encoders
            # that round sizes down), resize to it; at equal sizes this resize is an exact copy. No Python branch on
            # the sizes, so exported graphs keep them symbolic.
            out = out[..., : image_size[0], : image_size[1]]
            out = F.interpolate(out, size=(image_size[0], image_size[1]), mode="bilinear", align_corners=False)
        return out


__all__ = ["DPTDecoder", "FusionBlock", "ResidualConvUnit", "default_features", "default_vit_out_channels"]
