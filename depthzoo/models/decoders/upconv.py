"""``upconv``: FCRN decoder whose blocks are up-convolution (unpooling + 5x5 conv + BN + ReLU), the paper's slow form."""

from __future__ import annotations

from torch import nn

from depthzoo.models.decoders.fcrn import FCRNDecoder, UpConvolution
from depthzoo.models.decoders.unpool_conv import UnpoolConv
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("upconv")
class UpConvDecoder(FCRNDecoder):
    """FCRN decoder with up-convolution (unpooling + 5x5 conv + BN + ReLU), the paper's slow form."""

    def make_block(self, in_channels: int, out_channels: int) -> nn.Module:
        return UpConvolution(in_channels, out_channels, UnpoolConv, bn_eps=self.bn_eps)
