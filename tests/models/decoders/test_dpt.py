"""The dpt decoder: structure for ViTs and hierarchical encoders, the input grid at any size, options, output kind."""

import pytest
import torch

from depthzoo.errors import InvalidArgumentError
from depthzoo.models import create_model, list_decoders
from depthzoo.models.decoders import DECODERS, build_decoder
from depthzoo.models.decoders.dpt import DPTDecoder

VIT = "test_vit.r160_in1k"  # 64 wide, 6 blocks, patch 16
CNN = "test_resnet.r160_in1k"  # levels at strides 2, 4, 8, 16, 32


@pytest.fixture(scope="module")
def vit_dpt():
    return create_model(VIT, "dpt").eval()


@pytest.fixture(scope="module")
def cnn_dpt():
    return create_model(CNN, "dpt").eval()


def test_registered_with_output_stride_one() -> None:
    assert "dpt" in list_decoders()
    assert DECODERS.get("dpt") is DPTDecoder and DPTDecoder.output_stride == 1


def test_vit_reassembly_is_x4_x2_x1_half_on_spread_normed_blocks(vit_dpt) -> None:
    encoder, decoder = vit_dpt.encoder, vit_dpt.decoder
    assert encoder.model.out_indices == [0, 2, 3, 5]  # 4 evenly spaced of 6 blocks
    assert encoder.model.norm is True  # the final norm is applied to every returned block
    kinds = [(type(m).__name__, getattr(m, "stride", None)) for m in decoder.resize]
    assert kinds == [("ConvTranspose2d", (4, 4)), ("ConvTranspose2d", (2, 2)), ("Identity", None), ("Conv2d", (2, 2))]
    assert decoder.out_channels == [8, 16, 32, 64] and decoder.features == 64  # C/8, C/4, C/2, C; width <= 384
    features = encoder(torch.rand(1, 3, 64, 96))
    maps = [decoder.resize[i](decoder.project[i](f)) for i, f in enumerate(features)]
    assert [tuple(m.shape[-2:]) for m in maps] == [(16, 24), (8, 12), (4, 6), (2, 3)]  # strides 4, 8, 16, 32


def test_hierarchical_encoder_uses_its_four_deepest_levels_as_they_are(cnn_dpt) -> None:
    decoder = cnn_dpt.decoder
    assert decoder.strides == [4, 8, 16, 32]
    assert all(isinstance(m, torch.nn.Identity) for m in [*decoder.resize, *decoder.project])
    assert [conv.in_channels for conv in decoder.layer_rn] == cnn_dpt.encoder.channels[-4:]
    with_projection = build_decoder("dpt", [8, 16, 32, 64], [4, 8, 16, 32], out_channels=[4, 8, 16, 32])
    assert [m.out_channels for m in with_projection.project] == [4, 8, 16, 32]


@pytest.mark.parametrize(
    ("strides", "kinds"),
    [([8, 8, 16, 32], ["ConvTranspose2d", "Identity", "Identity", "Identity"]),  # level 0 is 2x too coarse
     ([2, 4, 8, 16], ["Identity"] * 4)],
)
def test_levels_are_brought_onto_a_doubling_ladder(strides: list[int], kinds: list[str]) -> None:
    decoder = build_decoder("dpt", [8, 16, 32, 64], strides)
    assert [type(m).__name__ for m in decoder.resize] == kinds


def test_strides_that_cannot_form_a_pyramid_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match=r"strides \[4, 4, 8, 64\]"):
        build_decoder("dpt", [8, 16, 32, 64], [4, 4, 8, 64])


@pytest.mark.parametrize("size", [(64, 96), (65, 97), (50, 70), (33, 47)])
@pytest.mark.parametrize("kind", ["vit", "cnn"])
def test_output_is_on_the_input_grid_at_any_size(kind: str, size: tuple[int, int], vit_dpt, cnn_dpt) -> None:
    model = vit_dpt if kind == "vit" else cnn_dpt
    with torch.no_grad():
        out = model(torch.rand(2, 3, *size))
    assert out.shape == (2, 1, *size)
    assert torch.isfinite(out).all() and (out > 0).all() and (out < 10).all()  # sigmoid x 10 m by default


def test_image_size_crops_the_grid_that_covers_padding(cnn_dpt) -> None:
    features = cnn_dpt.encoder(torch.rand(1, 3, 65, 97))
    with torch.no_grad():
        covered = cnn_dpt.decoder(features)  # the stride-4 level is 17x25: it covers 68x100 pixels
        cropped = cnn_dpt.decoder(features, image_size=(65, 97))
    assert covered.shape[-2:] == (68, 100)
    torch.testing.assert_close(cropped, covered[..., :65, :97], rtol=0, atol=0)


@pytest.mark.parametrize("kind", ["vit", "vit_readout", "cnn"])
def test_every_parameter_gets_a_gradient(kind: str) -> None:
    """No unused parameter (DDP would need find_unused_parameters): refinenet4 has no skip unit at all."""
    options = {"use_clstoken": True} if kind == "vit_readout" else {}
    model = create_model(CNN if kind == "cnn" else VIT, "dpt", **options).train()
    out = model(torch.rand(2, 3, 48, 64))
    out.mean().backward()
    missing = [n for n, p in model.decoder.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    assert model.decoder.fusion[3].skip_unit is None


def test_class_token_readout_uses_the_class_tokens() -> None:
    model = create_model(VIT, "dpt", use_clstoken=True).eval()
    pairs = model.encoder(torch.rand(1, 3, 32, 48))
    assert all(isinstance(p, tuple) and p[0].shape == (1, 64, 2, 3) and p[1].shape == (1, 64) for p in pairs)
    feature, token = pairs[0]
    decoder = model.decoder
    with torch.no_grad():
        tokens = feature.flatten(2).transpose(1, 2)  # readout: concatenate each patch token with the class token
        joined = torch.cat([tokens, token[:, None].expand_as(tokens)], -1)
        level = torch.nn.functional.gelu(decoder.readout[0](joined)).transpose(1, 2).reshape(1, 64, 2, 3)
        expected = decoder.layer_rn[0](decoder.resize[0](decoder.project[0](level)))
        torch.testing.assert_close(decoder._reassemble(0, (feature, token)), expected)
        assert not torch.allclose(decoder._reassemble(0, (feature, token + 1)), expected)
    assert not isinstance(create_model(VIT, "dpt").encoder(torch.rand(1, 3, 32, 48))[0], tuple)


def test_activation_sets_the_output_kind_and_the_head() -> None:
    relative = create_model(CNN, "dpt", activation="relu")
    metric = create_model(CNN, "dpt", max_depth=80.0)
    assert relative.output_kind == "relative_disparity" and "relu (relative disparity)" in repr(relative)
    assert metric.output_kind == "metric" and metric.decoder.max_depth == 80.0
    assert "sigmoid x 80 m (metric)" in repr(metric) and "output_kind='metric'" in repr(metric)
    assert create_model(CNN, "dpt", activation="relu", output_kind="metric").output_kind == "metric"  # declared
    with torch.no_grad():
        out = metric.eval()(torch.rand(1, 3, 32, 32))
    assert (out > 0).all() and (out < 80).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "softplus"}, "expected one of 'sigmoid', 'relu'"),
        ({"featurs": 64}, r"'featurs' \(did you mean 'features'\?\)"),
        ({"use_bn": "yes"}, "expected a bool"),
    ],
)
def test_options_are_checked_before_building(kwargs: dict, message: str) -> None:
    with pytest.raises(KeyError, match=message):
        DECODERS.check_kwargs("dpt", kwargs)


@pytest.mark.parametrize(
    ("channels", "strides", "kwargs", "message"),
    [
        ([8, 16, 32, 64], [4, 8, 16, 32], {"activation": "relu", "max_depth": 10.0}, "relative disparity.*no unit"),
        ([8, 16, 32, 64], [4, 8, 16, 32], {"out_channels": [8, 16, 32]}, "out_channels must list 4 widths"),
        ([8, 16, 32, 64], [4, 8, 16, 32], {"out_channels": [8, 16, 0, 4]}, r"out_channels\[2\] must be at least 1"),
        ([8, 16, 32, 64], [4, 8, 16, 32], {"features": 1}, "features must be at least 2"),
        ([8, 16, 32, 64], [4, 8, 16, 32], {"max_depth": -1.0}, r"max_depth must lie in"),
        ([8, 16, 32, 64], [4, 8, 16, 32], {"use_clstoken": True}, "needs a ViT encoder with a class token"),
        ([8, 16, 32], [4, 8, 16], {}, "dpt needs four encoder feature levels; the encoder gives 3"),
    ],
)
def test_impossible_options_are_explained(channels, strides, kwargs, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        build_decoder("dpt", channels, strides, **kwargs)


def test_an_encoder_ended_too_early_is_explained() -> None:
    with pytest.raises(InvalidArgumentError, match="four encoder feature levels.*encoder_depth"):
        create_model(CNN, "dpt", encoder_depth=3)


def test_release_sized_small_model_has_the_release_parameters_minus_the_unused_ones() -> None:
    """24,785,089 released values - mask_token (384) - refinenet4.resConfUnit1 (2 x (64*64*9 + 64))."""
    model = create_model("vit_small_patch14_dinov2", "dpt")
    assert model.encoder.model.out_indices == [2, 5, 8, 11]
    assert model.decoder.out_channels == [48, 96, 192, 384] and model.decoder.features == 64
    assert sum(p.numel() for p in model.parameters()) == 24_785_089 - 384 - 2 * (64 * 64 * 9 + 64)
