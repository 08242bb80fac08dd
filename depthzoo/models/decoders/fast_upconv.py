"""``fast_upconv``: the FCRN decoder with fast up-convolution blocks: interleaved A/B/C/D kernels (``padding``: "geometric" or "tf")."""

from depthzoo.models.decoders.fcrn import InterleavedFCRNDecoder, UpConvolution
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("fast_upconv")
class FastUpConvDecoder(InterleavedFCRNDecoder):
    """Fast up-convolution blocks: interleaved A/B/C/D kernels (``padding``: "geometric" or "tf")."""

    block = UpConvolution
