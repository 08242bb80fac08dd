"""``fast_upproj``: the FCRN decoder with fast up-projection blocks: interleaved A/B/C/D kernels (``padding``: "geometric" or "tf")."""

from depthzoo.models.decoders.fcrn import InterleavedFCRNDecoder, UpProjection
from depthzoo.models.decoders.registry import register_decoder


@register_decoder("fast_upproj")
class FastUpProjDecoder(InterleavedFCRNDecoder):
    """Fast up-projection blocks: interleaved A/B/C/D kernels (``padding``: "geometric" or "tf")."""

    block = UpProjection
