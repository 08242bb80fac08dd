"""The 2x up-sampling layers of the FCRN paper: unpooling + 5x5 conv, its fast interleaved form, and a deconvolution.

Each layer maps (B, Cin, h, w) to (B, Cout, 2h, 2w) and is built as ``Layer(in_channels, out_channels)``.

The paper's fast up-convolution: four small convolutions on the input whose outputs are interleaved.

Unpooling + 5x5 convolution only ever multiplies the non-zero quarter of the unpooled map, so the 5x5 kernel K
splits into A = K[0::2, 0::2] (3x3), B = K[1::2, 0::2] (2x3), C = K[0::2, 1::2] (3x2) and D = K[1::2, 1::2] (2x2),
each applied to the small input, and Y[2i, 2j] = A, Y[2i+1, 2j] = B, Y[2i, 2j+1] = C, Y[2i+1, 2j+1] = D.
That is a quarter of the multiply-adds of the slow form.

Padding:
- ``"geometric"``: B/C/D look at rows/columns i, i+1, which makes the layer exactly equal to unpooling + 5x5 conv;
- ``"tf"``: the official TensorFlow/MatConvNet model's top/left-heavy padding (B/C/D look at i-1, i), needed to
  reproduce the official weights; it shifts B, C and D by one input pixel relative to the geometric form.

Implementation: the input is padded once by one pixel on every side; each kernel runs as its own convolution on a
view of that padded map (which view depends on the padding mode), and ``pixel_shuffle`` interleaves the four
results (on NHWC tensors, four strided copies of whole channel vectors instead). (Placing all four kernels in one
3x3 window and running a single convolution was measured 2-3x slower on CPU: it wastes 11 of 36 taps and must
assemble the kernel every step.)
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from typing_extensions import override

from depthzoo.errors import InvalidArgumentError

Padding = Literal["geometric", "tf"]

# Sub-kernel shapes (kh, kw) and the output phase (row, col) each one fills.
_KERNELS = {"a": ((3, 3), (0, 0)), "b": ((2, 3), (1, 0)), "c": ((3, 2), (0, 1)), "d": ((2, 2), (1, 1))}
# Which rows/columns of the input padded by 1 on every side each kernel reads: (row slice, column slice).
_WINDOWS: dict[str, dict[str, tuple[slice, slice]]] = {
    "geometric": {  # B/C/D read rows/columns i and i+1
        "a": (slice(None), slice(None)),
        "b": (slice(1, None), slice(None)),
        "c": (slice(None), slice(1, None)),
        "d": (slice(1, None), slice(1, None)),
    },
    "tf": {  # B/C/D read rows/columns i-1 and i
        "a": (slice(None), slice(None)),
        "b": (slice(None, -1), slice(None)),
        "c": (slice(None), slice(None, -1)),
        "d": (slice(None, -1), slice(None, -1)),
    },
}


def interleave(a: Tensor, b: Tensor, c: Tensor, d: Tensor) -> Tensor:
    """Y[2i, 2j] = a, Y[2i+1, 2j] = b, Y[2i, 2j+1] = c, Y[2i+1, 2j+1] = d, for (B, C, h, w) inputs.

    >>> ones = torch.ones(1, 1, 1, 1)
    >>> interleave(ones, 2 * ones, 3 * ones, 4 * ones)[0, 0].tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    if _is_channels_last(a):
        return _interleave_channels_last(a, b, c, d)
    stacked = torch.stack([a, c, b, d], dim=2)  # pixel_shuffle order: (row phase, col phase) = 00, 01, 10, 11
    return F.pixel_shuffle(stacked.flatten(1, 2), 2)


def _is_channels_last(x: Tensor) -> bool:
    """True for an NHWC-stored 4-d tensor that is not also NCHW-contiguous (1 channel or 1x1 maps are both)."""
    return x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def _interleave_channels_last(a: Tensor, b: Tensor, c: Tensor, d: Tensor) -> Tensor:
    """:func:`interleave` for NHWC tensors, in one pass that copies whole channel vectors, returning NHWC.

    In NHWC memory the output (B, 2h, 2w, C) is (B, h, 2, w, 2, C): each phase is one strided slice of it. The
    NCHW route (``stack`` + ``pixel_shuffle``) gathers single elements across the NHWC layout and was measured to
    take a quarter of FCRN's bf16 inference time.
    """
    batch, channels, height, width = a.shape
    out = a.new_empty(batch, height, 2, width, 2, channels)
    for phase, row, col in ((a, 0, 0), (b, 1, 0), (c, 0, 1), (d, 1, 1)):
        out[:, :, row, :, col, :].copy_(phase.permute(0, 2, 3, 1))
    return out.view(batch, 2 * height, 2 * width, channels).permute(0, 3, 1, 2)


class InterleavedConv(nn.Module):
    """Fast up-convolution: (B, Cin, h, w) -> (B, Cout, 2h, 2w) from A 3x3, B 2x3, C 3x2 and D 2x2 kernels."""

    def __init__(self, in_channels: int, out_channels: int, padding: Padding = "geometric") -> None:
        super().__init__()
        if padding not in _WINDOWS:
            raise InvalidArgumentError(f"padding must be one of {sorted(_WINDOWS)}, got {padding!r}")
        self.padding = padding
        self.out_channels = out_channels
        for name, (size, _) in _KERNELS.items():
            self.add_module(f"conv_{name}", nn.Conv2d(in_channels, out_channels, kernel_size=size, bias=True))

    def sub_conv(self, name: str) -> nn.Conv2d:
        """The convolution of kernel ``name`` ("a", "b", "c" or "d")."""
        return getattr(self, f"conv_{name}")

    @torch.no_grad()
    def init_as_split_5x5(self) -> None:
        """He-initialise as the split of one 5x5 kernel, so the layer starts as unpooling + a He-initialised 5x5."""
        kernel = torch.empty(self.out_channels, self.conv_a.in_channels, 5, 5)
        nn.init.kaiming_normal_(kernel, mode="fan_out", nonlinearity="relu")
        self.copy_from_5x5(kernel, None)

    @torch.no_grad()
    def copy_from_5x5(self, weight: Tensor, bias: Tensor | None) -> None:
        """Set A-D from a 5x5 kernel (Cout, Cin, 5, 5), so that this layer equals unpooling + that 5x5 conv."""
        for name, (_, (row, col)) in _KERNELS.items():
            conv = self.sub_conv(name)
            conv.weight.copy_(weight[:, :, row::2, col::2])
            if bias is not None:
                conv.bias.copy_(bias)
            else:
                conv.bias.zero_()

    def phases(self, x: Tensor) -> dict[str, Tensor]:
        """The four (B, Cout, h, w) sub-convolution outputs, keyed "a".."d"."""
        padded = F.pad(x, (1, 1, 1, 1))
        windows = _WINDOWS[self.padding]
        return {name: self.sub_conv(name)(padded[:, :, rows, cols]) for name, (rows, cols) in windows.items()}

    @override
    def forward(self, x: Tensor) -> Tensor:
        return interleave(**self.phases(x))

    @override
    def extra_repr(self) -> str:
        return f"padding={self.padding!r}"


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

    @override
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

    @override
    def forward(self, x: Tensor) -> Tensor:
        return self.deconv(x)


__all__ = ["InterleavedConv", "Padding", "TransposedConv", "UnpoolConv", "interleave", "unpool2x"]
