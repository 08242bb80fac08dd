"""Decoders: the registry and the FCRN paper's up-sampling decoders (each registered in its own module)."""

from depthzoo.models.decoders import deconv, fast_upconv, fast_upproj, upconv, upproj  # noqa: F401  (registration)
from depthzoo.models.decoders.fcrn import FCRNDecoder, UpConvolution, UpProjection
from depthzoo.models.decoders.interleaved_conv import InterleavedConv
from depthzoo.models.decoders.registry import (
    DECODERS,
    build_decoder,
    check_decoder_kwargs,
    list_decoders,
    register_decoder,
)
from depthzoo.models.decoders.unpool_conv import TransposedConv, UnpoolConv

__all__ = [
    "DECODERS",
    "FCRNDecoder",
    "InterleavedConv",
    "TransposedConv",
    "UnpoolConv",
    "UpConvolution",
    "UpProjection",
    "build_decoder",
    "check_decoder_kwargs",
    "list_decoders",
    "register_decoder",
]
