"""The FCRN paper's up-sampling blocks, for any 2x up-sampling layer (see :mod:`depthzoo.models.layers.upsampling`).

A block takes an ``upsample`` factory ``(in_channels, out_channels) -> nn.Module``, so one block type serves the
slow form (unpooling + 5x5), the fast interleaved form and the deconvolution alike.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn
from typing_extensions import override

UpsampleFactory = Callable[[int, int], nn.Module]


class UpConvolution(nn.Module):
    """Up-convolution block: a 2x up-sampling layer, BN, ReLU (the paper's Fig. 2b; BN as in the official code)."""

    def __init__(self, in_channels: int, out_channels: int, upsample: UpsampleFactory, bn_eps: float = 1e-5) -> None:
        super().__init__()
        self.up = upsample(in_channels, out_channels)
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps)

    @override
    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.up(x)))


class UpProjection(nn.Module):
    """Up-projection block (the paper's Fig. 2c): two up-sampling branches, one with a residual 3x3 conv.

    branch 1 = BN(up_1(x)) -> ReLU -> 3x3 conv -> BN;  branch 2 = BN(up_2(x));  out = ReLU(branch 1 + branch 2).
    The two branches have separate up-sampling weights, and each up-sampling has one BN over all its phases.
    """

    def __init__(self, in_channels: int, out_channels: int, upsample: UpsampleFactory, bn_eps: float = 1e-5) -> None:
        super().__init__()
        self.branch1_up = upsample(in_channels, out_channels)
        self.branch1_bn = nn.BatchNorm2d(out_channels, eps=bn_eps)
        self.branch1_conv = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=True)
        self.branch1_conv_bn = nn.BatchNorm2d(out_channels, eps=bn_eps)
        self.branch2_up = upsample(in_channels, out_channels)
        self.branch2_bn = nn.BatchNorm2d(out_channels, eps=bn_eps)

    @override
    def forward(self, x: Tensor) -> Tensor:
        branch1 = self.branch1_conv_bn(self.branch1_conv(F.relu(self.branch1_bn(self.branch1_up(x)))))
        branch2 = self.branch2_bn(self.branch2_up(x))
        return F.relu(branch1 + branch2)


__all__ = ["UpConvolution", "UpProjection", "UpsampleFactory"]
