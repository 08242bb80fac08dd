"""The paper's decoders: structure, fast == slow, every decoder with CNN / NHWC / ViT encoders, planning."""

import pytest
import torch

from depthzoo.models import create_model, list_decoders
from depthzoo.models.decoders import DECODERS, build_decoder
from depthzoo.models.decoders.fcrn import FCRNDecoder, plan_upsampling
from depthzoo.models.layers import InterleavedConv, UnpoolConv

RESNET50_CHANNELS = [64, 256, 512, 1024, 2048]
RESNET50_REDUCTIONS = [2, 4, 8, 16, 32]
SMALL_CHANNELS, SMALL_REDUCTIONS = [8, 16, 32, 64], [4, 8, 16, 32]


# The paper's decoders: those of the fcrn module (fcrn_skip builds on FCRNDecoder too, and is tested on its own).
FCRN_FAMILY = [
    name
    for name in list_decoders()
    if issubclass(DECODERS.get(name), FCRNDecoder) and DECODERS.get(name).__module__ == FCRNDecoder.__module__
]


def test_the_fcrn_family_is_the_papers_five_decoders() -> None:
    assert sorted(FCRN_FAMILY) == ["deconv", "fast_upconv", "fast_upproj", "upconv", "upproj"]


def _copy_slow_into_fast(slow: torch.nn.Module, fast: torch.nn.Module) -> None:
    slow_state = slow.state_dict()
    fast.load_state_dict({k: v for k, v in slow_state.items() if k in fast.state_dict()}, strict=False)
    copied = 0
    for name, module in fast.named_modules():
        if isinstance(module, InterleavedConv):
            twin = slow.get_submodule(name)
            assert isinstance(twin, UnpoolConv)
            module.copy_from_5x5(twin.conv.weight, twin.conv.bias)
            copied += 1
    assert copied > 0


@pytest.mark.parametrize(("slow_name", "fast_name"), [("upconv", "fast_upconv"), ("upproj", "fast_upproj")])
@pytest.mark.parametrize("train", [False, True])
def test_fast_equals_slow_with_copied_weights(slow_name: str, fast_name: str, train: bool) -> None:
    slow = build_decoder(slow_name, SMALL_CHANNELS, SMALL_REDUCTIONS)
    fast = build_decoder(fast_name, SMALL_CHANNELS, SMALL_REDUCTIONS)
    _copy_slow_into_fast(slow, fast)
    slow.train(train)
    fast.train(train)
    features = [torch.randn(2, 64, 3, 4)]
    out_slow, out_fast = slow(features), fast(features)
    assert out_slow.shape == (2, 1, 48, 64)  # 4 blocks of 2x: stride 32 -> 2
    assert out_slow.abs().max() > 0
    torch.testing.assert_close(out_fast, out_slow, atol=1e-5, rtol=1e-5)


def test_fast_init_is_a_split_5x5_kernel_like_the_slow_form() -> None:
    torch.manual_seed(1)
    slow = build_decoder("upconv", RESNET50_CHANNELS, RESNET50_REDUCTIONS)
    fast = build_decoder("fast_upconv", RESNET50_CHANNELS, RESNET50_REDUCTIONS)
    slow_std = slow.blocks[0].up.conv.weight.detach().std()
    fast_std = torch.cat([fast.blocks[0].up.sub_conv(n).weight.detach().flatten() for n in "abcd"]).std()
    assert abs(float(fast_std / slow_std) - 1) < 0.02


@pytest.mark.parametrize(
    ("name", "channels"), [("upconv", [1024, 512, 256, 128, 64]), ("upproj", [1024, 512, 256, 128, 64])]
)
def test_fcrn_structure_for_resnet50(name: str, channels: list[int]) -> None:
    decoder = build_decoder(name, RESNET50_CHANNELS, RESNET50_REDUCTIONS)
    assert decoder.bridge_conv.in_channels == 2048 and decoder.bridge_conv.out_channels == channels[0]
    assert len(decoder.blocks) == 4
    assert decoder.head_conv.in_channels == channels[-1] and decoder.head_conv.out_channels == 1


def test_decoder_output_is_non_negative_metres() -> None:
    decoder = build_decoder("fast_upproj", SMALL_CHANNELS, SMALL_REDUCTIONS)
    assert (decoder([torch.randn(3, 64, 4, 4)]) >= 0).all()  # final ReLU, as the official head


@pytest.mark.parametrize(
    ("encoder_stride", "output_stride", "blocks"), [(32, 2, 4), (16, 2, 3), (32, 4, 3), (8, 8, 0), (4, 2, 1)]
)
def test_upsampling_plan(encoder_stride: int, output_stride: int, blocks: int) -> None:
    assert plan_upsampling(encoder_stride, output_stride) == blocks


def test_unreachable_output_stride_names_valid_choices() -> None:
    with pytest.raises(ValueError, match=r"choose output_stride from \[14, 7\]"):
        plan_upsampling(14, 2)


ENCODERS = {
    "cnn": "test_resnet.r160_in1k",
    "cnn_stride32_4levels": "test_convnext.r160_in1k",
    "nhwc": "test_mambaout",
    "vit": "test_vit.r160_in1k",
}


@pytest.mark.parametrize("decoder", FCRN_FAMILY)
@pytest.mark.parametrize("kind", list(ENCODERS))
def test_every_decoder_with_every_encoder_family(decoder: str, kind: str) -> None:
    model = create_model(ENCODERS[kind], decoder, min_channels=8).eval()
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        out = model(x)
    assert model.output_stride == 2
    # Same output stride for every encoder: 64x96 in -> about 32x48 out (ViT: 4x6 tokens x 8).
    assert out.shape[:2] == (1, 1)
    assert abs(out.shape[-2] - 32) <= 2 and abs(out.shape[-1] - 48) <= 2
    assert torch.isfinite(out).all()


def test_decoder_kwargs_are_validated_before_building() -> None:
    with pytest.raises(KeyError, match=r"'paddng' \(did you mean 'padding'\?\).*Valid arguments"):
        DECODERS.check_kwargs("fast_upproj", {"paddng": "tf"})
    with pytest.raises(KeyError, match="expected one of 'geometric', 'tf'"):
        DECODERS.check_kwargs("fast_upproj", {"padding": "same"})
    with pytest.raises(KeyError, match="expected an int"):
        DECODERS.check_kwargs("upproj", {"output_stride": "2"})
    with pytest.raises(KeyError, match="unexpected argument"):  # slow forms have no padding option
        DECODERS.check_kwargs("upproj", {"padding": "tf"})
    DECODERS.check_kwargs("fast_upconv", {"padding": "tf", "output_stride": 4, "bn_eps": 1e-4})
