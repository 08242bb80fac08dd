"""The paper's slow up-convolution layer: 2x unpooling (zero insertion) followed by a 5x5 convolution."""

from __future__ import annotations

from torch import Tensor, nn


def unpool2x(x: Tensor) -> Tensor:
    """Place x[i, j] at U[2i, 2j] of a twice larger map of zeros (the paper's unpooling)."""
    b, c, h, w = x.shape
    out = x.new_zeros(b, c, 2 * h, 2 * w)
    out[:, :, ::2, ::2] = x
    return out


class UnpoolConv(nn.Module):
    """Unpooling + 5x5 convolution (padding 2): doubles the resolution; 25 taps on a 4x larger, mostly-zero map."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=5, padding=2, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(unpool2x(x))


class TransposedConv(nn.Module):
    """The paper's "DeConv" baseline: a learned 4x4 transposed convolution with stride 2 (exactly 2x the size).

    A 5x5 kernel is not used on purpose: a stride-2 transposed 5x5 convolution is the same operator as
    unpooling + 5x5 convolution (``UnpoolConv``) up to the kernel flip, so it would not be a separate baseline.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.deconv(x)


__all__ = ["UnpoolConv", "TransposedConv", "unpool2x"]
