"""``upproj``: FCRN decoder whose blocks are up-projection with unpooling + 5x5 conv branches, the paper's slow form."""

from __future__ import annotations

from torch import nn

from depthzoo.models.decoders.fcrn import FCRNDecoder, UpProjection
from depthzoo.models.decoders.unpool_conv import UnpoolConv
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("upproj")
class UpProjDecoder(FCRNDecoder):
    """FCRN decoder with up-projection with unpooling + 5x5 conv branches, the paper's slow form."""

    def make_block(self, in_channels: int, out_channels: int) -> nn.Module:
        return UpProjection(in_channels, out_channels, UnpoolConv, bn_eps=self.bn_eps)
