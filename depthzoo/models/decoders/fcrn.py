"""The FCRN decoder and the paper's five variants: 2 block types x 3 up-sampling layers, registered here.

FCRN (Laina et al. 2016): the deepest encoder feature -> 1x1 bridge conv to half its width + BN (no ReLU) ->
up-sampling blocks, each doubling the resolution and halving the channels -> 3x3 conv to one channel -> ReLU.
The number of blocks is planned from the encoder's stride so that every encoder gives the same output stride
(2 for FCRN: a ResNet-50 at 228x304 gives 8x10 features and a 128x160 depth map).

| name | block | up-sampling layer |
|---|---|---|
| ``upconv`` | up-convolution | unpooling + 5x5 conv (the paper's slow form) |
| ``fast_upconv`` | up-convolution | interleaved A/B/C/D kernels (``padding``: "geometric" or "tf") |
| ``upproj`` | up-projection | unpooling + 5x5 conv |
| ``fast_upproj`` | up-projection | interleaved A/B/C/D kernels (FCRN as released) |
| ``deconv`` | up-convolution | 4x4 transposed convolution, stride 2 (the paper's DeConv baseline) |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from typing_extensions import override

from depthzoo.errors import InvalidArgumentError
from depthzoo.models.decoders.registry import register_decoder
from depthzoo.models.layers.blocks import UpConvolution, UpProjection, UpsampleFactory
from depthzoo.models.layers.upsampling import InterleavedConv, Padding, TransposedConv, UnpoolConv


def plan_upsampling(encoder_stride: int, output_stride: int) -> int:
    """How many 2x blocks take features at ``encoder_stride`` to ``output_stride``; a clear error if none can.

    >>> plan_upsampling(32, 2)  # a ResNet's 1/32 bottleneck to FCRN's 1/2 output: 4 blocks
    4
    """
    ratio = encoder_stride / output_stride
    blocks = round(math.log2(ratio)) if ratio >= 1 else -1
    if blocks < 0 or 2**blocks * output_stride != encoder_stride:
        valid = [encoder_stride // 2**k for k in range(8) if encoder_stride % 2**k == 0]
        raise InvalidArgumentError(
            f"cannot reach output stride {output_stride} from encoder stride {encoder_stride} with 2x up-sampling "
            f"blocks; choose output_stride from {valid}"
        )
    return blocks


def upsampling_strides(encoder_stride: int, output_stride: int) -> list[int]:
    """The output stride of each 2x block :func:`plan_upsampling` plans, deepest first.

    >>> upsampling_strides(32, 2)
    [16, 8, 4, 2]
    """
    return [encoder_stride // 2 ** (k + 1) for k in range(plan_upsampling(encoder_stride, output_stride))]


def halved_widths(width: int, count: int, min_channels: int) -> list[int]:
    """The channels after each of ``count`` blocks that halve ``width`` in turn, never below ``min_channels``.

    >>> halved_widths(1024, 4, 8)
    [512, 256, 128, 64]
    """
    widths = []
    for _ in range(count):
        width = max(width // 2, min_channels)
        widths.append(width)
    return widths


class FCRNDecoder(nn.Module):
    """Bridge -> planned 2x up-sampling blocks -> 3x3 conv -> ReLU.

    Subclasses choose the block and its 2x up-sampling layer with the class attributes ``block`` (UpConvolution or
    UpProjection) and ``upsample`` (a layer class taking (in_channels, out_channels)).

    Args:
        in_channels: channels of each encoder feature level (timm ``feature_info.channels()``); the last is used.
        reductions: stride of each level (``feature_info.reduction()``); the last plans the number of blocks.
        output_stride: input size / output size; FCRN uses 2.
        bridge_channels: width after the 1x1 bridge; default half the encoder's last width (FCRN: 2048 -> 1024).
        min_channels: the halving of channels per block stops here (keeps tiny encoders usable).
        bn_eps: BatchNorm epsilon (the official FCRN weights use 1e-4).
    """

    block: ClassVar[type[nn.Module]]
    upsample: ClassVar[UpsampleFactory]

    def __init__(
        self,
        in_channels: Sequence[int],
        reductions: Sequence[int],
        output_stride: int = 2,
        bridge_channels: int | None = None,
        min_channels: int = 8,
        bn_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if len(in_channels) != len(reductions) or not in_channels:
            raise ValueError(
                f"in_channels {list(in_channels)} and reductions {list(reductions)} must match and be non-empty"
            )
        self.bn_eps = bn_eps
        self.output_stride = output_stride
        width = bridge_channels or max(in_channels[-1] // 2, min_channels)
        self.bridge_conv = nn.Conv2d(in_channels[-1], width, kernel_size=1, bias=True)
        self.bridge_bn = nn.BatchNorm2d(width, eps=bn_eps)
        self.block_strides = upsampling_strides(reductions[-1], output_stride)  # output stride of each block
        self.block_channels = halved_widths(width, len(self.block_strides), min_channels)  # output channels of each
        widths = [width, *self.block_channels]
        self.blocks = nn.Sequential(*(self.make_block(a, b) for a, b in zip(widths, widths[1:])))
        self.out_channels = widths[-1]
        self.head_conv = nn.Conv2d(self.out_channels, 1, kernel_size=3, padding=1, bias=True)
        self.reset_parameters()

    def make_block(self, in_channels: int, out_channels: int) -> nn.Module:
        """One 2x block of the class's ``block`` type around this decoder's up-sampling layer."""
        return self.block(in_channels, out_channels, self.upsample_factory(), bn_eps=self.bn_eps)

    def upsample_factory(self) -> UpsampleFactory:
        """The up-sampling layer factory ``(in_channels, out_channels) -> nn.Module`` of this decoder."""
        return type(self).upsample

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """He initialisation for the new layers (the paper's recalled N(0, 0.01) is too wide for deep 5x5 stacks)."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for module in self.modules():  # fast forms: initialise A-D as the split of one 5x5 kernel
            if isinstance(module, InterleavedConv):
                module.init_as_split_5x5()

    @override
    def forward(self, features: Sequence[Tensor]) -> Tensor:
        x = self.bridge_bn(self.bridge_conv(features[-1]))
        x = self.blocks(x)
        return F.relu(self.head_conv(x))


class InterleavedFCRNDecoder(FCRNDecoder):
    """FCRN decoder whose up-sampling layers are the fast interleaved form (``InterleavedConv``).

    Args:
        padding: "geometric" (default; equals the slow form exactly) or "tf" (the official weights' padding).
        **kwargs: the FCRNDecoder options (output_stride, bridge_channels, min_channels, bn_eps).
    """

    def __init__(self, in_channels: Any, reductions: Any, padding: Padding = "geometric", **kwargs: Any) -> None:
        self.padding = padding  # read by make_block during FCRNDecoder.__init__
        super().__init__(in_channels, reductions, **kwargs)

    @override
    def upsample_factory(self) -> UpsampleFactory:
        return partial(InterleavedConv, padding=self.padding)


@register_decoder("upconv")
class UpConvDecoder(FCRNDecoder):
    """Up-convolution blocks: unpooling + 5x5 conv + BN + ReLU (the paper's slow form)."""

    block = UpConvolution
    upsample = UnpoolConv


@register_decoder("upproj")
class UpProjDecoder(FCRNDecoder):
    """Up-projection blocks whose branches use unpooling + 5x5 conv (the paper's slow form)."""

    block = UpProjection
    upsample = UnpoolConv


@register_decoder("fast_upconv")
class FastUpConvDecoder(InterleavedFCRNDecoder):
    """Fast up-convolution blocks: interleaved A/B/C/D kernels (``padding``: "geometric" or "tf")."""

    block = UpConvolution


@register_decoder("fast_upproj")
class FastUpProjDecoder(InterleavedFCRNDecoder):
    """Fast up-projection blocks: interleaved A/B/C/D kernels (``padding``: "geometric" or "tf")."""

    block = UpProjection


@register_decoder("deconv")
class DeconvDecoder(FCRNDecoder):
    """Transposed-convolution blocks (4x4, stride 2) + BN + ReLU: the paper's DeConv baseline."""

    block = UpConvolution
    upsample = TransposedConv
