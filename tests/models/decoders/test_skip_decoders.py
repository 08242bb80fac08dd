"""Skip-connection decoders: fcrn_skip and DenseDepth's unet, against independent float64 computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from depthzoo.errors import InvalidArgumentError
from depthzoo.models import create_model, list_decoders
from depthzoo.models.decoders import DECODERS, build_decoder
from depthzoo.models.decoders.pyramid import fit_to, skip_levels
from depthzoo.models.layers import InterleavedConv, UnpoolConv, UpConvolution, UpProjection

RESNET50_CHANNELS, RESNET_REDUCTIONS = [64, 256, 512, 1024, 2048], [2, 4, 8, 16, 32]
SMALL_CHANNELS, SMALL_REDUCTIONS = [8, 12, 16, 24, 32], [2, 4, 8, 16, 32]
# DenseDepth's skip points in Keras' DenseNet-169: conv1/relu, pool1, pool2_pool, pool3_pool; then the last block.
DENSEDEPTH_CHANNELS = [64, 64, 128, 256, 1664]


def test_both_are_registered() -> None:
    assert {"fcrn_skip", "unet"} <= set(list_decoders())


def random_features(channels: list[int], reductions: list[int], size: tuple[int, int], seed: int = 0) -> list:
    """Feature maps as a stride-2 conv stack gives them for an input of ``size`` (each level rounds up)."""
    generator = torch.Generator().manual_seed(seed)
    height, width = size
    features = []
    for c, r in zip(channels, reductions):
        shape = (2, c, -(-height // r), -(-width // r))
        features.append(torch.randn(shape, generator=generator, dtype=torch.float64))
    return features


def randomise_batch_norms(module: torch.nn.Module, seed: int = 1) -> None:
    generator = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d):
            size = bn.num_features
            bn.running_mean.copy_(torch.randn(size, generator=generator) * 0.1)
            bn.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
            bn.weight.data.copy_(torch.rand(size, generator=generator) + 0.5)
            bn.bias.data.copy_(torch.randn(size, generator=generator) * 0.1)


# --- fcrn_skip --------------------------------------------------------------------------------------------------


def reference_fcrn_skip(decoder: torch.nn.Module, features: list[torch.Tensor]) -> torch.Tensor:
    """fcrn_skip written out from its description, in float64 and eval mode, with the decoder's own weights.

    Bridge 1x1 conv + BN; per FCRN block: the block, then (if the encoder has a level at the block's output stride)
    crop to that level, concatenate [up-sampled, level], 3x3 conv (no bias) + BN + ReLU; head 3x3 conv + ReLU.
    """
    state = {k: v.double() for k, v in decoder.state_dict().items()}

    def bn(x: torch.Tensor, prefix: str) -> torch.Tensor:
        return F.batch_norm(
            x, state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"], state[f"{prefix}.weight"],
            state[f"{prefix}.bias"], training=False, eps=decoder.bn_eps,
        )

    x = bn(F.conv2d(features[-1], state["bridge_conv.weight"], state["bridge_conv.bias"]), "bridge_bn")
    stride = 32
    by_stride = {2**k: level for level, k in enumerate(range(1, 6))}  # strides 2..32 of SMALL_REDUCTIONS
    for index, block in enumerate(decoder.blocks):
        x = block(x)  # the FCRN blocks are tested against their own references elsewhere
        stride //= 2
        skip = features[by_stride[stride]]
        x = x[..., : skip.shape[-2], : skip.shape[-1]]
        x = torch.cat([x, skip], dim=1)
        x = F.conv2d(x, state[f"fusions.{index}.0.weight"], padding=1)
        x = F.relu(bn(x, f"fusions.{index}.1"))
    return F.relu(F.conv2d(x, state["head_conv.weight"], state["head_conv.bias"], padding=1))


def test_fcrn_skip_matches_its_description_on_odd_input_sizes() -> None:
    decoder = build_decoder("fcrn_skip", SMALL_CHANNELS, SMALL_REDUCTIONS).double().eval()
    randomise_batch_norms(decoder)
    features = random_features(SMALL_CHANNELS, SMALL_REDUCTIONS, (65, 97))  # 33x49 ... 3x4: every 2x overshoots
    with torch.no_grad():
        out = decoder(features)
        expected = reference_fcrn_skip(decoder, features)
    assert out.shape == (2, 1, 33, 49)  # the stride-2 level's size: half the input, rounded up
    assert out.abs().max() > 0
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_fcrn_skip_structure_on_resnet50() -> None:
    with torch.device("meta"):  # shapes only: no 70M weights to initialise
        decoder = build_decoder("fcrn_skip", RESNET50_CHANNELS, RESNET_REDUCTIONS)
        fcrn = build_decoder("fast_upproj", RESNET50_CHANNELS, RESNET_REDUCTIONS)
    assert decoder.block_channels == [512, 256, 128, 64] and decoder.block_strides == [16, 8, 4, 2]
    assert decoder.skip_levels == [3, 2, 1, 0]
    fusions = [(f[0].in_channels, f[0].out_channels) for f in decoder.fusions]
    assert fusions == [(512 + 1024, 512), (256 + 512, 256), (128 + 256, 128), (64 + 64, 64)]
    assert all(isinstance(b, UpProjection) and isinstance(b.branch1_up, InterleavedConv) for b in decoder.blocks)
    assert decoder.bridge_conv.out_channels == 1024 and decoder.head_conv.in_channels == 64
    # Everything else is FCRN's: the same parameters as fast_upproj plus the fusions.
    fusion_params = sum(p.numel() for p in decoder.fusions.parameters())
    assert sum(p.numel() for p in decoder.parameters()) == sum(p.numel() for p in fcrn.parameters()) + fusion_params
    assert fusion_params == sum(cin * cout * 9 + 2 * cout for cin, cout in fusions)


@pytest.mark.parametrize(
    ("options", "block", "layer"),
    [
        ({"block": "upconv"}, UpConvolution, InterleavedConv),
        ({"fast": False}, UpProjection, UnpoolConv),
        ({"block": "upconv", "fast": False}, UpConvolution, UnpoolConv),
        ({"padding": "tf"}, UpProjection, InterleavedConv),
    ],
)
def test_fcrn_skip_block_options(options: dict, block: type, layer: type) -> None:
    decoder = build_decoder("fcrn_skip", SMALL_CHANNELS, SMALL_REDUCTIONS, **options)
    assert all(isinstance(b, block) for b in decoder.blocks)
    assert any(isinstance(m, layer) for m in decoder.blocks.modules())
    if "padding" in options:
        assert decoder.blocks[0].branch1_up.padding == "tf"


def test_fcrn_skip_options_are_checked() -> None:
    with pytest.raises(KeyError, match="expected one of 'upproj', 'upconv'"):
        DECODERS.check_kwargs("fcrn_skip", {"block": "deconv"})
    with pytest.raises(KeyError, match="expected a bool"):
        DECODERS.check_kwargs("fcrn_skip", {"fast": "yes"})
    with pytest.raises(InvalidArgumentError, match="padding='tf' applies to the fast form only"):
        build_decoder("fcrn_skip", SMALL_CHANNELS, SMALL_REDUCTIONS, fast=False, padding="tf")


# --- unet (DenseDepth) ------------------------------------------------------------------------------------------


def resize_2x_half_pixel(x: np.ndarray) -> np.ndarray:
    """Bilinear 2x up-sampling with half-pixel centres (tf.image.resize), in numpy: output i samples i / 2 - 1/4."""

    def along(a: np.ndarray, axis: int) -> np.ndarray:
        n = a.shape[axis]
        centres = np.arange(2 * n) / 2 - 0.25
        low = np.clip(np.floor(centres).astype(int), 0, n - 1)
        high = np.clip(low + 1, 0, n - 1)
        frac = np.clip(centres - np.floor(centres), 0, 1)
        frac = np.where(centres < 0, 0.0, frac)  # clamp to the first pixel before the first centre
        shape = [1] * a.ndim
        shape[axis] = -1
        return np.take(a, low, axis) * (1 - frac.reshape(shape)) + np.take(a, high, axis) * frac.reshape(shape)

    return along(along(x, 2), 3)


def conv_numpy(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """'same' convolution (odd square kernel) in float64 numpy: sum over taps of shifted inputs."""
    k = weight.shape[-1]
    pad = k // 2
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    height, width = x.shape[-2:]
    out = np.zeros((x.shape[0], weight.shape[0], height, width))
    for dy in range(k):
        for dx in range(k):
            window = padded[:, :, dy : dy + height, dx : dx + width]
            out += np.einsum("bchw,oc->bohw", window, weight[:, :, dy, dx])
    return out + bias[None, :, None, None]


def leaky(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.2 * x)


def reference_densedepth(state: dict[str, np.ndarray], features: list[np.ndarray]) -> np.ndarray:
    """DenseDepth's Keras decoder from its model.py, in float64 numpy.

    conv2 (1x1); up1..up4: 2x bilinear resize, concatenate [up-sampled, skip], convA + LeakyReLU(0.2),
    convB + LeakyReLU(0.2); conv3 (3x3); then ReLU.
    """
    x = conv_numpy(features[-1], state["bottleneck.weight"], state["bottleneck.bias"])
    for index, skip in enumerate(reversed(features[:-1])):
        x = np.concatenate([resize_2x_half_pixel(x), skip], axis=1)
        x = leaky(conv_numpy(x, state[f"blocks.{index}.conv_a.weight"], state[f"blocks.{index}.conv_a.bias"]))
        x = leaky(conv_numpy(x, state[f"blocks.{index}.conv_b.weight"], state[f"blocks.{index}.conv_b.bias"]))
    return np.maximum(conv_numpy(x, state["head_conv.weight"], state["head_conv.bias"]), 0.0)


def test_unet_matches_densedepth_keras_decoder() -> None:
    decoder = build_decoder("unet", SMALL_CHANNELS, SMALL_REDUCTIONS).double()
    with torch.no_grad():  # non-zero biases, so a missing bias would show
        for module in decoder.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.bias.normal_(0, 0.1)
    features = random_features(SMALL_CHANNELS, SMALL_REDUCTIONS, (64, 96))
    with torch.no_grad():
        out = decoder(features).numpy()
    state = {k: v.numpy() for k, v in decoder.state_dict().items()}
    expected = reference_densedepth(state, [f.numpy() for f in features])
    assert out.shape == (2, 1, 32, 48)
    assert (out > 0).mean() > 0.2
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_unet_parameters_are_densedepths_42_6m() -> None:
    # Keras model.py with DenseNet-169 and the encoder's width (1664) at the bottleneck, hand-counted from its
    # layer shapes: conv2 1664->1664 (1x1); up1 (1664+256)->832, 832->832; up2 (832+128)->416, 416->416;
    # up3 (416+64)->208, 208->208; up4 (208+64)->104, 104->104 (3x3); conv3 104->1 (3x3); every conv with a bias.
    convs = [(1664, 1664, 1), (1920, 832, 3), (832, 832, 3), (960, 416, 3), (416, 416, 3), (480, 208, 3),
             (208, 208, 3), (272, 104, 3), (104, 104, 3), (104, 1, 3)]
    expected = sum(cin * cout * k * k + cout for cin, cout, k in convs)
    assert expected == 30_173_209
    decoder = build_decoder("unet", DENSEDEPTH_CHANNELS, RESNET_REDUCTIONS)
    assert sum(p.numel() for p in decoder.parameters()) == expected
    densenet169_encoder = 12_484_480  # DenseNet-169's trainable parameters without the classifier
    assert round((expected + densenet169_encoder) / 1e6, 2) == 42.66  # the paper: 42.6M
    # timm's DenseNet-169 joins at its dense blocks' outputs (1280, 512, 256 channels), not DenseDepth's pools.
    timm_levels = build_decoder("unet", [64, 256, 512, 1280, 1664], RESNET_REDUCTIONS)
    assert sum(p.numel() for p in timm_levels.parameters()) - expected == ((1280 - 256) * 832 + (512 - 128) * 416
                                                                          + (256 - 64) * 208) * 9


def test_unet_keras_initialisation_and_half_width_option() -> None:
    decoder = build_decoder("unet", DENSEDEPTH_CHANNELS, RESNET_REDUCTIONS, bottleneck_channels=832)
    assert [b.conv_b.out_channels for b in decoder.blocks] == [416, 208, 104, 52]  # Keras' is_halffeatures
    weight = decoder.blocks[0].conv_a.weight
    fan_in, fan_out = weight.shape[1] * 9, weight.shape[0] * 9
    assert float(weight.detach().abs().max()) <= (6 / (fan_in + fan_out)) ** 0.5  # Glorot-uniform bound
    assert all(float(m.bias.detach().abs().max()) == 0 for m in decoder.modules() if isinstance(m, torch.nn.Conv2d))


# --- both ---------------------------------------------------------------------------------------------------------

ENCODERS = {
    "resnet": ("test_resnet.r160_in1k", None),
    "resnet_depth3": ("test_resnet.r160_in1k", 3),
    "convnext_no_stride2": ("test_convnext.r160_in1k", None),
    "efficientnet": ("test_efficientnet.r160_in1k", None),
    "nhwc": ("test_mambaout", None),
}
NO_STRIDE_2 = ("convnext_no_stride2", "nhwc")  # levels at strides 4-32 only


@pytest.mark.parametrize("decoder", ["fcrn_skip", "unet"])
@pytest.mark.parametrize("kind", list(ENCODERS))
def test_every_pyramid_encoder_family_with_odd_sizes_and_gradients(decoder: str, kind: str) -> None:
    name, depth = ENCODERS[kind]
    torch.manual_seed(0)
    model = create_model(name, decoder, encoder_depth=depth, min_channels=8)
    x = torch.rand(2, 3, 65, 97)
    out = model(x)
    assert model.output_stride == 2
    assert out.shape[:2] == (2, 1) and abs(out.shape[-2] - 33) <= 1 and abs(out.shape[-1] - 49) <= 1
    assert torch.isfinite(out).all() and out.abs().max() > 0
    out.mean().backward()
    grads = [p.grad for p in model.decoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    skips = sum(level is not None for level in model.decoder.skip_levels)
    levels = len(model.decoder.skip_levels)
    assert skips == levels - (kind in NO_STRIDE_2)
    assert skips >= 2


@pytest.mark.slow
@pytest.mark.parametrize("decoder", ["fcrn_skip", "unet"])
def test_swin(decoder: str) -> None:
    model = create_model("swin_tiny_patch4_window7_224", decoder).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 224, 224))
    assert out.shape == (1, 1, 112, 112) and torch.isfinite(out).all()


@pytest.mark.parametrize("decoder", ["fcrn_skip", "unet"])
@pytest.mark.parametrize("dpt_registered", [True, False])
def test_plain_vit_gets_a_clear_error(decoder: str, dpt_registered: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    DECODERS.names()  # load entry points before patching
    if dpt_registered:
        monkeypatch.setitem(DECODERS._entries, "dpt", object)
        hint = "use the 'dpt' decoder"
    else:
        monkeypatch.delitem(DECODERS._entries, "dpt", raising=False)
        hint = "'fast_upproj'"
    with pytest.raises(InvalidArgumentError, match=rf"strides \[16, 16, 16, 16\] \(a plain ViT.*{hint}"):
        create_model("test_vit.r160_in1k", decoder)


def test_saved_models_reload_identically(tmp_path) -> None:
    from depthzoo.weights.model_file import load_model, save_model

    x = torch.rand(1, 3, 64, 96)
    for decoder, options in (("fcrn_skip", {"block": "upconv"}), ("unet", {"bottleneck_channels": 24})):
        model = create_model("test_resnet.r160_in1k", decoder, **options).eval()
        path = save_model(model, tmp_path / f"{decoder}.safetensors")
        again = load_model(path)
        assert again.config["decoder_kwargs"] == options
        with torch.no_grad():
            torch.testing.assert_close(again(x), model(x), rtol=0, atol=0)


def test_pyramid_helpers() -> None:
    assert skip_levels([4, 8, 16, 32], [16, 8, 4, 2]) == [2, 1, 0, None]
    x = torch.arange(12.0).view(1, 1, 3, 4)
    torch.testing.assert_close(fit_to(x, (2, 3)), x[..., :2, :3])
    padded = fit_to(x, (4, 5))
    torch.testing.assert_close(padded[..., :3, :4], x)
    torch.testing.assert_close(padded[..., 3, :4], x[..., 2, :])  # replicated bottom row
    torch.testing.assert_close(padded[..., :3, 4], x[..., :, 3])
