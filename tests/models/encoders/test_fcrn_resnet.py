"""fcrn_resnet50: the Caffe ResNet-50 of the original FCRN, by name through timm and depthzoo."""

from __future__ import annotations

import math

import pytest
import timm
import torch
from safetensors.torch import save_file

from depthzoo.models import DepthModel, create_model, list_encoders
from depthzoo.models.encoders import EncoderWeightsUnavailable, TimmEncoder
from depthzoo.models.encoders.fcrn_resnet import CaffeResNet


@pytest.fixture(scope="module")
def encoder() -> TimmEncoder:
    return TimmEncoder("fcrn_resnet50").eval()


@pytest.fixture(scope="module")
def meta_model() -> DepthModel:
    """The official architecture on the meta device: shapes and counts without computing anything."""
    with torch.device("meta"):
        return create_model("fcrn_resnet50", "fast_upproj", padding="tf", bn_eps=1e-4).eval()


def test_listed_and_described_by_feature_info(encoder: TimmEncoder) -> None:
    assert list_encoders("fcrn*") == ["fcrn_resnet50"]
    assert encoder.channels == [64, 256, 512, 1024, 2048]
    assert encoder.reductions == [2, 4, 8, 16, 32]


@pytest.mark.parametrize(
    ("size", "expected", "output"),
    [
        ((228, 304), [(114, 152), (57, 76), (29, 38), (15, 19), (8, 10)], (128, 160)),  # FCRN.md table
        ((240, 320), [(120, 160), (60, 80), (30, 40), (15, 20), (8, 10)], (128, 160)),
        ((480, 640), [(240, 320), (120, 160), (60, 80), (30, 40), (15, 20)], (240, 320)),
    ],
)
def test_feature_and_output_sizes_follow_tf_padding(
    meta_model: DepthModel, size: tuple[int, int], expected: list[tuple[int, int]], output: tuple[int, int]
) -> None:
    x = torch.zeros(1, 3, *size, device="meta")
    features = meta_model.encoder(x)
    assert [tuple(f.shape[-2:]) for f in features] == expected
    assert [f.shape[1] for f in features] == [64, 256, 512, 1024, 2048]
    assert tuple(meta_model(x).shape) == (1, 1, *output)


def test_feature_sizes_measured_on_real_tensors(encoder: TimmEncoder) -> None:
    with torch.no_grad():
        features = encoder(torch.rand(1, 3, 76, 101))  # odd sizes everywhere: 38x51 -> 19x26 -> 10x13 -> 5x7 -> 3x4
    assert [tuple(f.shape[-2:]) for f in features] == [(38, 51), (19, 26), (10, 13), (5, 7), (3, 4)]


def test_parameter_and_running_stat_counts(meta_model: DepthModel) -> None:
    """FCRN.md: encoder 23,508,096 parameters (with the conv1 bias); the network 63,572,737 and 60,928 BN stats."""
    assert sum(p.numel() for p in meta_model.encoder.parameters()) == 23_508_096
    assert sum(p.numel() for p in meta_model.parameters()) == 63_572_737
    running = [b for n, b in meta_model.named_buffers() if n.endswith(("running_mean", "running_var"))]
    assert sum(b.numel() for b in running) == 60_928 and len(running) == 2 * 66
    assert all(m.eps == 1e-4 for m in meta_model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_caffe_layout_details() -> None:
    net = CaffeResNet()
    assert net.conv1.bias is not None and net.conv1.padding == (3, 3) and net.conv1.stride == (2, 2)
    for stage in (net.layer2, net.layer3, net.layer4):  # stride 2 in the first 1x1 and the shortcut, never in the 3x3
        first = stage[0]
        assert first.conv1.stride == (2, 2) and first.downsample[0].stride == (2, 2) and first.conv2.stride == (1, 1)
    assert net.layer1[0].downsample is not None and net.layer1[0].downsample[0].stride == (1, 1)  # res2a projects
    assert all(
        block.downsample is None for stage in (net.layer1, net.layer2, net.layer3, net.layer4) for block in stage[1:]
    )
    assert not any(
        m.bias is not None for name, m in net.named_modules() if isinstance(m, torch.nn.Conv2d) and name != "conv1"
    )


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" rule, written from its documentation: output ceil(size / stride), the extra pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize(
    ("size", "expected"),
    [(114, (0, 1)), (115, (1, 1)), (57, (1, 1)), (58, (0, 1)), (1, (1, 1)), (2, (0, 1)), (3, (1, 1))],
)
def test_tf_same_padding_rule(size: int, expected: tuple[int, int]) -> None:
    before, after = tf_same_padding(size, 3, 2)
    assert (before, after) == expected
    assert (size + before + after - 3) // 2 + 1 == math.ceil(size / 2)  # TF SAME output size


def _pool_rows_reached(size: int, row: int) -> list[int]:
    """Rows of the pooled map whose 3x3 window holds input row ``row`` (TF SAME)."""
    before, _ = tf_same_padding(size, 3, 2)
    return [p for p in range(math.ceil(size / 2)) if 2 * p - before <= row <= 2 * p - before + 2]


@pytest.mark.parametrize("image_size", [(228, 304), (230, 306)])  # conv1 maps: even 114x152 / odd 115x153
def test_conv1_and_pool_alignment_on_a_delta_image(image_size: tuple[int, int]) -> None:
    """A centred delta kernel makes conv1 pick x[2i, 2j]; the pool then spreads it exactly as TF's SAME pool does."""
    net = CaffeResNet().eval()
    with torch.no_grad():
        net.conv1.weight.zero_()
        net.conv1.weight[:, 0, 3, 3] = 1.0  # every output channel copies input channel 0 at the kernel centre
        net.conv1.bias.zero_()
    height, width = image_size
    conv_h, conv_w = math.ceil(height / 2), math.ceil(width / 2)
    for row, col in [(8, 12), (6, 10), (0, 0), (height - 2, width - 2), (7, 12)]:
        image = torch.zeros(1, 3, height, width)
        image[0, 0, row, col] = 1.0
        with torch.no_grad():
            stem = net.act1(net.bn1(net.conv1(image)))
            pooled = net.maxpool(stem)[0, 0]
        hits = torch.nonzero(stem[0, 0]).tolist()
        assert hits == ([[row // 2, col // 2]] if row % 2 == 0 and col % 2 == 0 else [])
        if hits:
            rows = _pool_rows_reached(conv_h, row // 2)
            cols = _pool_rows_reached(conv_w, col // 2)
            assert torch.nonzero(pooled).tolist() == [[r, c] for r in rows for c in cols]


def test_pool_pads_with_minus_infinity() -> None:
    """Negative inputs at the border stay negative: the padding never wins the max."""
    x = -torch.arange(1.0, 17.0).view(1, 1, 4, 4)
    out = CaffeResNet().maxpool(x)[0, 0]
    # 4 -> 2 outputs, pad (0, 1): windows rows/cols {0,1,2} and {2,3}
    assert out.tolist() == [[-1.0, -3.0], [-9.0, -11.0]]


def test_inputs_are_scaled_to_0_255(encoder: TimmEncoder) -> None:
    assert encoder.mean == (0.0, 0.0, 0.0)
    assert encoder.std == pytest.approx((1 / 255,) * 3)
    model = DepthModel(encoder, torch.nn.Identity())
    x = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close((x - model.input_mean) / model.input_std, x * 255, rtol=1e-6, atol=1e-4)


def test_no_imagenet_weights_through_timm() -> None:
    with pytest.raises(EncoderWeightsUnavailable, match="official FCRN checkpoint.*from_fcrn_official"):
        timm.create_model("fcrn_resnet50", pretrained=True)
    with pytest.raises(EncoderWeightsUnavailable):  # depthzoo's path fails at once too, without network
        create_model("fcrn_resnet50", "fast_upproj", pretrained=True)
    assert "from_fcrn_official" in timm.get_pretrained_cfg("fcrn_resnet50").notes[0]  # the reason, for messages


def test_local_encoder_weights_load(tmp_path) -> None:
    source = timm.create_model("fcrn_resnet50")
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(tmp_path / "enc.safetensors"))
    loaded = TimmEncoder("fcrn_resnet50", weights=tmp_path / "enc.safetensors")
    torch.testing.assert_close(loaded.model.layer4[2].conv3.weight, source.layer4[2].conv3.weight)
    torch.testing.assert_close(loaded.model.conv1.bias, source.conv1.bias)


def test_full_model_pools_features_and_optionally_classifies() -> None:
    assert timm.get_pretrained_cfg("fcrn_resnet50").input_size == (3, 228, 304)
    net = timm.create_model("fcrn_resnet50", num_classes=5).eval()
    with torch.no_grad():
        features = net.forward_features(torch.rand(1, 3, 64, 64))
        assert tuple(features.shape) == (1, 2048, 2, 2)
        torch.testing.assert_close(net.forward_head(features, pre_logits=True), features.mean(dim=(-2, -1)))
        assert tuple(net.forward_head(features).shape) == (1, 5)
