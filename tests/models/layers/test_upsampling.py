"""The fast up-convolution: phases, padding modes, and equality with unpooling + 5x5 conv."""

import pytest
import torch
import torch.nn.functional as F

from depthzoo.models.layers import InterleavedConv, UnpoolConv
from depthzoo.models.layers.upsampling import interleave, unpool2x


def test_interleave_places_each_phase_by_hand() -> None:
    a, b, c, d = (torch.full((1, 1, 1, 1), float(v)) for v in (1, 2, 3, 4))
    # B fills odd rows, C fills odd columns (the official TF indexing; the reverse is a known port bug).
    assert interleave(a, b, c, d)[0, 0].tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_interleave_2x2_input_by_hand() -> None:
    a = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = interleave(a, 10 * a, 100 * a, 1000 * a)[0, 0]
    expected = [
        [1, 100, 2, 200],
        [10, 1000, 20, 2000],
        [3, 300, 4, 400],
        [30, 3000, 40, 4000],
    ]
    assert y.tolist() == expected


def test_unpool_places_values_at_even_positions() -> None:
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert unpool2x(x)[0, 0].tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]


@pytest.mark.parametrize("size", [(5, 7), (1, 1), (6, 4)])
def test_fast_equals_unpool_conv5x5(size: tuple[int, int]) -> None:
    slow = UnpoolConv(3, 4)
    fast = InterleavedConv(3, 4, padding="geometric")
    fast.copy_from_5x5(slow.conv.weight, slow.conv.bias)
    x = torch.randn(2, 3, *size)
    torch.testing.assert_close(fast(x), slow(x), atol=1e-5, rtol=1e-5)


def test_sub_kernels_are_the_even_odd_split_of_the_5x5_kernel() -> None:
    kernel = torch.arange(25.0).view(1, 1, 5, 5)
    fast = InterleavedConv(1, 1)
    fast.copy_from_5x5(kernel, torch.zeros(1))
    assert fast.conv_a.weight[0, 0].tolist() == [[0, 2, 4], [10, 12, 14], [20, 22, 24]]
    assert fast.conv_b.weight[0, 0].tolist() == [[5, 7, 9], [15, 17, 19]]  # 2x3: odd rows, even columns
    assert fast.conv_c.weight[0, 0].tolist() == [[1, 3], [11, 13], [21, 23]]  # 3x2
    assert fast.conv_d.weight[0, 0].tolist() == [[6, 8], [16, 18]]


def _delta_response(padding: str) -> torch.Tensor:
    """Response of each phase to a unit impulse at input (2, 2) when every kernel is all ones."""
    layer = InterleavedConv(1, 1, padding=padding)
    with torch.no_grad():
        for name in "abcd":
            layer.sub_conv(name).weight.fill_(1.0)
            layer.sub_conv(name).bias.zero_()
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    return layer(x)[0, 0]


def test_tf_padding_shifts_b_c_d_by_one_input_pixel() -> None:
    geo, tf = _delta_response("geometric"), _delta_response("tf")
    # A (even rows, even cols) is identical: a 3x3 kernel centred on the pixel.
    torch.testing.assert_close(geo[0::2, 0::2], tf[0::2, 0::2])
    # B (odd rows): geometric reads rows i, i+1 -> impulse at row 2 reaches output rows i = 1, 2;
    # TF reads rows i-1, i -> reaches i = 2, 3.
    assert torch.nonzero(geo[1::2, 0::2].sum(1)).flatten().tolist() == [1, 2]
    assert torch.nonzero(tf[1::2, 0::2].sum(1)).flatten().tolist() == [2, 3]
    # C (odd cols), same along columns; D both.
    assert torch.nonzero(geo[0::2, 1::2].sum(0)).flatten().tolist() == [1, 2]
    assert torch.nonzero(tf[0::2, 1::2].sum(0)).flatten().tolist() == [2, 3]
    assert torch.nonzero(tf[1::2, 1::2]).tolist() == [[2, 2], [2, 3], [3, 2], [3, 3]]


def test_tf_padding_matches_explicit_official_pads() -> None:
    """Official TF pads [[top,bottom],[left,right]]: A (1,1,1,1), B (1,0,1,1), C (1,1,1,0), D (1,0,1,0)."""
    layer = InterleavedConv(2, 3, padding="tf")
    x = torch.randn(1, 2, 4, 6)
    pads = {"a": (1, 1, 1, 1), "b": (1, 1, 1, 0), "c": (1, 0, 1, 1), "d": (1, 0, 1, 0)}  # F.pad order (l, r, t, b)
    outs = {n: F.conv2d(F.pad(x, p), layer.sub_conv(n).weight, layer.sub_conv(n).bias) for n, p in pads.items()}
    y = layer(x)
    torch.testing.assert_close(y[..., 0::2, 0::2], outs["a"])
    torch.testing.assert_close(y[..., 1::2, 0::2], outs["b"])
    torch.testing.assert_close(y[..., 0::2, 1::2], outs["c"])
    torch.testing.assert_close(y[..., 1::2, 1::2], outs["d"])


def test_bad_padding_is_refused() -> None:
    with pytest.raises(ValueError, match="geometric"):
        InterleavedConv(1, 1, padding="same")  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(2, 5, 3, 4), (1, 8, 1, 1), (3, 1, 2, 5)])
def test_interleave_channels_last_equals_nchw(shape: tuple[int, int, int, int]) -> None:
    phases = [torch.randn(shape) for _ in range(4)]
    expected = interleave(*phases)
    nhwc = [p.contiguous(memory_format=torch.channels_last) for p in phases]
    y = interleave(*nhwc)
    assert torch.equal(y, expected)
    if not nhwc[0].is_contiguous():  # unambiguously NHWC (not 1 channel or 1x1): the result stays NHWC
        assert y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous()


def test_interleave_channels_last_gradients_match_nchw() -> None:
    phases = [torch.randn(2, 6, 3, 5, requires_grad=True) for _ in range(4)]
    weight = torch.randn(2, 6, 6, 10)
    (interleave(*phases) * weight).sum().backward()
    expected = [p.grad.clone() for p in phases]
    nhwc = [p.detach().contiguous(memory_format=torch.channels_last).requires_grad_() for p in phases]
    (interleave(*nhwc) * weight).sum().backward()
    for got, want in zip((p.grad for p in nhwc), expected):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
