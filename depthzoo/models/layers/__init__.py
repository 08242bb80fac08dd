"""Layers shared by decoder families: the 2x up-sampling layers and the FCRN up-sampling blocks.

- :mod:`~depthzoo.models.layers.upsampling`: :class:`UnpoolConv` (unpooling + 5x5), :class:`InterleavedConv` (its
  fast A/B/C/D form), :class:`TransposedConv` (4x4 deconvolution);
- :mod:`~depthzoo.models.layers.blocks`: :class:`UpConvolution` and :class:`UpProjection` around any of them.
"""

from depthzoo.models.layers.blocks import UpConvolution, UpProjection
from depthzoo.models.layers.upsampling import InterleavedConv, TransposedConv, UnpoolConv

__all__ = ["InterleavedConv", "TransposedConv", "UnpoolConv", "UpConvolution", "UpProjection"]
