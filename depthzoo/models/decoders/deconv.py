"""``deconv``: FCRN decoder whose blocks are transposed-convolution baseline (4x4, stride 2) + BN + ReLU, the paper's DeConv row."""

from __future__ import annotations

from torch import nn

from depthzoo.models.decoders.fcrn import FCRNDecoder, UpConvolution
from depthzoo.models.decoders.unpool_conv import TransposedConv
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("deconv")
class DeconvDecoder(FCRNDecoder):
    """FCRN decoder with transposed-convolution baseline (4x4, stride 2) + BN + ReLU, the paper's DeConv row."""

    def make_block(self, in_channels: int, out_channels: int) -> nn.Module:
        return UpConvolution(in_channels, out_channels, TransposedConv, bn_eps=self.bn_eps)
