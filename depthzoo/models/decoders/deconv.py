"""``deconv``: the FCRN decoder with transposed-convolution blocks (4x4, stride 2) + BN + ReLU: the paper's DeConv baseline."""

from depthzoo.models.decoders.fcrn import FCRNDecoder, UpConvolution
from depthzoo.models.decoders.unpool_conv import TransposedConv
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("deconv")
class DeconvDecoder(FCRNDecoder):
    """Transposed-convolution blocks (4x4, stride 2) + BN + ReLU: the paper's DeConv baseline."""

    block = UpConvolution
    upsample = TransposedConv
