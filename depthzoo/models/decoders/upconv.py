"""``upconv``: the FCRN decoder with up-convolution blocks: unpooling + 5x5 conv + BN + ReLU (the paper's slow form)."""

from depthzoo.models.decoders.fcrn import FCRNDecoder, UpConvolution
from depthzoo.models.decoders.unpool_conv import UnpoolConv
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("upconv")
class UpConvDecoder(FCRNDecoder):
    """Up-convolution blocks: unpooling + 5x5 conv + BN + ReLU (the paper's slow form)."""

    block = UpConvolution
    upsample = UnpoolConv
