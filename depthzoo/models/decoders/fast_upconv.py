"""``fast_upconv``: FCRN decoder whose blocks are the paper's fast (interleaved A/B/C/D) up-convolution."""

from __future__ import annotations

from functools import partial
from typing import Any

from torch import nn

from depthzoo.models.decoders.fcrn import FCRNDecoder, UpConvolution
from depthzoo.models.decoders.interleaved_conv import InterleavedConv, Padding
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("fast_upconv")
class FastUpConvDecoder(FCRNDecoder):
    """FCRN decoder with fast up-convolution blocks.

    Args:
        padding: "geometric" (default; equals the slow form exactly) or "tf" (the official weights' padding).
        **kwargs: the FCRNDecoder options (output_stride, bridge_channels, min_channels, bn_eps).
    """

    def __init__(self, in_channels: Any, reductions: Any, padding: Padding = "geometric", **kwargs: Any) -> None:
        self.padding = padding  # read by make_block during FCRNDecoder.__init__
        super().__init__(in_channels, reductions, **kwargs)

    def make_block(self, in_channels: int, out_channels: int) -> nn.Module:
        return UpConvolution(in_channels, out_channels, partial(InterleavedConv, padding=self.padding), bn_eps=self.bn_eps)
