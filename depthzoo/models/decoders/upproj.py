"""``upproj``: the FCRN decoder with up-projection blocks whose branches use unpooling + 5x5 conv (the paper's slow form)."""

from depthzoo.models.decoders.fcrn import FCRNDecoder, UpProjection
from depthzoo.models.decoders.unpool_conv import UnpoolConv
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("upproj")
class UpProjDecoder(FCRNDecoder):
    """Up-projection blocks whose branches use unpooling + 5x5 conv (the paper's slow form)."""

    block = UpProjection
    upsample = UnpoolConv
