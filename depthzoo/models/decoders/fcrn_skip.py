"""``fcrn_skip``: FCRN's decoder with skip connections from the encoder, for sharper depth edges.

FCRN's decoder sees only the encoder's deepest feature (stride 32 for a ResNet), so edges the encoder resolved at
stride 4 are lost on the way up. ``fcrn_skip`` keeps FCRN's bridge (1x1 conv + BN), its up-sampling blocks and its
head (3x3 conv to one channel + ReLU), and after each block joins the encoder level at the block's output stride:
the two are concatenated and fused by a 3x3 conv + BN + ReLU back to the block's width. Blocks whose stride has no
encoder level (ConvNeXt and Swin have none at stride 2) go on without a skip.

The block is the up-projection by default (``block="upconv"`` for the up-convolution), in its fast interleaved form
(``fast=False`` for the paper's unpooling + 5x5 form, the same function at 4x the multiply-adds).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from depthzoo.errors import InvalidArgumentError
from depthzoo.models.decoders.fcrn import FCRNDecoder
from depthzoo.models.decoders.pyramid import check_pyramid, fit_to, skip_levels
from depthzoo.models.decoders.registry import register_decoder
from depthzoo.models.layers.blocks import UpConvolution, UpProjection, UpsampleFactory
from depthzoo.models.layers.upsampling import InterleavedConv, Padding, UnpoolConv

BLOCKS: dict[str, type[nn.Module]] = {"upproj": UpProjection, "upconv": UpConvolution}


class SkipFusion(nn.Sequential):
    """Concatenated (up-sampled, skip) maps -> 3x3 conv (no bias: BN follows) -> BN -> ReLU, at ``out_channels``.

    Args:
        in_channels: channels of the concatenation.
        out_channels: channels after fusing.
        bn_eps: BatchNorm epsilon.
    """

    def __init__(self, in_channels: int, out_channels: int, bn_eps: float = 1e-5) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels, eps=bn_eps),
            nn.ReLU(inplace=True),
        )


@register_decoder("fcrn_skip")
class FCRNSkipDecoder(FCRNDecoder):
    """FCRN's bridge and up-sampling blocks, each followed by the fusion of the encoder level at its stride.

    Args:
        in_channels: channels of each encoder level.
        reductions: stride of each encoder level; must increase (a pyramid: not a plain ViT, see ``dpt``).
        block: "upproj" (up-projection, default) or "upconv" (up-convolution).
        fast: the fast interleaved up-sampling (default) or unpooling + 5x5 convolution.
        padding: padding of the fast form, "geometric" (default; equals the slow form) or "tf".
        output_stride: input size / output size (2, as FCRN).
        bridge_channels: width after the 1x1 bridge; default half the encoder's deepest width.
        min_channels: the halving of channels per block stops here.
        bn_eps: BatchNorm epsilon.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        reductions: Sequence[int],
        block: Literal["upproj", "upconv"] = "upproj",
        fast: bool = True,
        padding: Padding = "geometric",
        output_stride: int = 2,
        bridge_channels: int | None = None,
        min_channels: int = 8,
        bn_eps: float = 1e-5,
    ) -> None:
        check_pyramid("fcrn_skip", reductions)
        if block not in BLOCKS:
            raise InvalidArgumentError(f"block must be one of {sorted(BLOCKS)}, got {block!r}")
        if padding != "geometric" and not fast:
            raise InvalidArgumentError(f"padding={padding!r} applies to the fast form only; drop it or set fast=True")
        self.block = BLOCKS[block]  # read by make_block during FCRNDecoder.__init__
        self.fast = fast
        self.padding = padding
        super().__init__(in_channels, reductions, output_stride, bridge_channels, min_channels, bn_eps)
        self.skip_levels = skip_levels(list(reductions)[:-1], self.block_strides)
        self.fusions = nn.ModuleList(
            nn.Identity() if level is None else SkipFusion(width + in_channels[level], width, bn_eps)
            for width, level in zip(self.block_channels, self.skip_levels)
        )
        self.reset_parameters()

    def upsample_factory(self) -> UpsampleFactory:
        """The blocks' 2x up-sampling layer: interleaved (``fast``) or unpooling + 5x5."""
        return partial(InterleavedConv, padding=self.padding) if self.fast else UnpoolConv

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        """The encoder's feature list -> (B, 1, h, w) depth in metres at the output stride."""
        x = self.bridge_bn(self.bridge_conv(features[-1]))
        for block, fusion, level in zip(self.blocks, self.fusions, self.skip_levels):
            x = block(x)
            if level is not None:
                skip = features[level]
                x = fusion(torch.cat([fit_to(x, skip.shape[-2:]), skip], dim=1))
        return F.relu(self.head_conv(x))


__all__ = ["FCRNSkipDecoder", "SkipFusion"]
