"""Planning shared by the skip-connection decoders: which encoder level joins at which stride, and size matching.

A skip-connection decoder needs a feature pyramid: levels whose strides grow (ResNet 2-32, ConvNeXt and Swin 4-32,
EfficientNet 2-32, any of them shortened by ``encoder_depth``). A plain ViT returns every level at one stride (16);
its tokens must be reassembled into a pyramid first, which is what the ``dpt`` decoder does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor

from depthzoo.errors import InvalidArgumentError
from depthzoo.models.decoders.registry import DECODERS


def check_pyramid(decoder: str, reductions: Sequence[int]) -> None:
    """Raise a clear error unless the encoder's strides strictly increase (a plain ViT's do not).

    Args:
        decoder: the decoder's registered name, for the message.
        reductions: the stride of each encoder level.
    """
    strides = list(reductions)
    if all(a < b for a, b in zip(strides, strides[1:])):
        return
    alternative = (
        "use the 'dpt' decoder, which reassembles a plain ViT's tokens into a pyramid"
        if "dpt" in DECODERS
        else "use a hierarchical encoder, or a decoder without skip connections (e.g. 'fast_upproj')"
    )
    raise InvalidArgumentError(
        f"decoder {decoder!r} joins encoder features of growing strides (a pyramid, as ResNet, ConvNeXt, "
        f"EfficientNet or Swin give), but this encoder returns {len(strides)} levels at strides {strides} "
        f"(a plain ViT keeps one stride)",
        fix=alternative,
    )


def skip_levels(reductions: Sequence[int], strides: Sequence[int]) -> list[int | None]:
    """For each decoder stride, the index of the encoder level at that stride (None if there is none).

    >>> skip_levels([2, 4, 8, 16, 32], [16, 8, 4, 2])   # ResNet: every up-sampled map gets a skip
    [3, 2, 1, 0]
    >>> skip_levels([4, 8, 16, 32], [16, 8, 4, 2])      # ConvNeXt has no stride-2 level
    [2, 1, 0, None]

    Args:
        reductions: the stride of each encoder level.
        strides: the stride of each decoder stage's output.
    """
    index = {stride: level for level, stride in enumerate(reductions)}
    return [index.get(stride) for stride in strides]


def fit_to(x: Tensor, size: Sequence[int]) -> Tensor:
    """``x`` cropped or replicate-padded at the bottom and right to ``size`` (top-left corners stay aligned).

    After 2x up-sampling, a map can be a pixel larger than the encoder level it joins (odd input sizes: a stride-2
    convolution rounds up) or, for encoders that pad, smaller.

    Args:
        x: (B, C, h, w) map.
        size: the (height, width) wanted.
    """
    # No Python int() or branch on the sizes: exported graphs (ONNX, torch.export) keep them symbolic. Padding by 0
    # is a copy of x.
    x = x[..., : size[0], : size[1]]
    return F.pad(x, (0, size[1] - x.shape[-1], 0, size[0] - x.shape[-2]), mode="replicate")


__all__ = ["check_pyramid", "fit_to", "skip_levels"]
