"""Encoders: any timm name, feature_info-driven channels/strides, NHWC, ViT sizes, offline-safe weights."""

import time

import pytest
import timm
import torch
from safetensors.torch import save_file
from timm.models import build_model_with_cfg, register_model

import depthzoo.models.encoders.pretrained as pretrained_module
from depthzoo.errors import InvalidArgumentError
from depthzoo.models.encoders import EncoderWeightsUnavailable, TimmEncoder, list_encoders
from depthzoo.models.encoders.timm_encoder import spread_blocks


@pytest.mark.parametrize(
    ("name", "size", "shapes"),
    [
        ("test_resnet.r160_in1k", (228, 304), [(32, 114, 152), (32, 57, 76), (48, 29, 38), (192, 15, 19), (96, 8, 10)]),
        ("test_mambaout", (64, 96), [(16, 16, 24), (32, 8, 12), (48, 4, 6), (64, 2, 3)]),  # NHWC model
        ("test_vit.r160_in1k", (228, 304), [(64, 15, 19)] * 4),  # last 4 blocks, padded to 240x304
    ],
)
def test_features_match_feature_info(name: str, size: tuple[int, int], shapes: list[tuple[int, int, int]]) -> None:
    encoder = TimmEncoder(name)
    features = encoder(torch.rand(1, 3, *size))
    assert [tuple(f.shape[1:]) for f in features] == shapes
    assert encoder.channels == [s[0] for s in shapes]
    for f, r in zip(features, encoder.reductions):
        assert f.shape[-2] == pytest.approx(size[0] / r, abs=1)  # measured strides agree with feature_info


def test_nchw_conversion_of_nhwc_models() -> None:
    encoder = TimmEncoder("test_mambaout")
    assert encoder.channels_last_output
    raw = encoder.model(torch.rand(1, 3, 64, 96))
    converted = encoder(torch.rand(1, 3, 64, 96))
    assert raw[0].shape[-1] == encoder.channels[0] and converted[0].shape[1] == encoder.channels[0]


def test_swin_pads_inputs_to_its_patch_size() -> None:
    encoder = TimmEncoder("swin_tiny_patch4_window7_224")
    assert encoder.input_multiple == 4 and encoder.stride == 32


def test_normalisation_constants_come_from_the_pretrained_config() -> None:
    assert TimmEncoder("test_efficientnet.r160_in1k").mean == (0.485, 0.456, 0.406)
    assert TimmEncoder("test_resnet.r160_in1k").std == (0.5, 0.5, 0.5)


def test_unknown_name_suggests() -> None:
    with pytest.raises(KeyError, match=r"unknown encoder 'resnet5'\. Did you mean: .*resnet50.*list_encoders"):
        TimmEncoder("resnet5")


def test_list_encoders_wildcards() -> None:
    names = list_encoders("convnext_t*")
    assert "convnext_tiny" in names and all(n.startswith("convnext_t") for n in names)


class _NoFeatures(torch.nn.Module):
    def __init__(self, **kwargs: object) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)


@register_model
def depthzoo_test_no_features(pretrained: bool = False, **kwargs: object) -> torch.nn.Module:
    return build_model_with_cfg(_NoFeatures, "depthzoo_test_no_features", pretrained, **kwargs)


def test_model_without_feature_extraction_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="cannot be used as a depth encoder.*features_only"):
        TimmEncoder("depthzoo_test_no_features")


def test_pretrained_offline_fails_fast_naming_both_fixes() -> None:
    start = time.perf_counter()
    with pytest.raises(EncoderWeightsUnavailable) as info:
        TimmEncoder("resnet18", pretrained=True)
    assert time.perf_counter() - start < 10
    assert "encoder_weights" in str(info.value) and "pretrained=False" in str(info.value)


def test_pretrained_with_unreachable_hub_fails_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pretrained_module, "_hub_offline", lambda: False)
    probed: list[str] = []
    monkeypatch.setattr(pretrained_module, "host_reachable", lambda url, timeout=3.0: probed.append(url) or False)
    with pytest.raises(EncoderWeightsUnavailable, match="cannot be reached"):
        TimmEncoder("resnet18", pretrained=True)
    assert probed == ["https://huggingface.co"]


def test_host_probe_reports_unreachable_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_dns(*args: object, **kwargs: object) -> None:  # what an offline machine answers
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    assert pretrained_module.host_reachable("https://huggingface.co", timeout=1.0) is False


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_local_weights_load_without_network(tmp_path, suffix: str) -> None:
    source = timm.create_model("test_resnet.r160_in1k", pretrained=False)  # full model, classifier included
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    path = tmp_path / f"weights{suffix}"
    save_file(state, str(path)) if suffix == ".safetensors" else torch.save(state, path)
    encoder = TimmEncoder("test_resnet.r160_in1k", weights=path)
    loaded = encoder.model.state_dict()
    assert len(loaded) > 10
    for key, value in loaded.items():  # every encoder tensor comes from the file (the classifier is dropped)
        assert torch.equal(value, state[key]), key


def test_local_weights_missing_file_is_actionable(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist.*state_dict"):
        TimmEncoder("test_resnet.r160_in1k", weights=tmp_path / "nope.safetensors")
    bad = tmp_path / "weights.txt"
    bad.write_text("x")
    with pytest.raises(ValueError, match="suffix"):
        TimmEncoder("test_resnet.r160_in1k", weights=bad)


def test_vit_local_weights_load_every_block_and_drop_the_classifier(tmp_path) -> None:
    source = timm.create_model("test_vit.r160_in1k", pretrained=False)
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    path = tmp_path / "vit.safetensors"
    save_file(state, str(path))
    encoder = TimmEncoder("test_vit.r160_in1k", weights=path, vit_blocks="spread", vit_norm=True)
    loaded = encoder.model.model.state_dict()
    assert "norm.weight" in loaded and not any(k.startswith("head") for k in loaded)
    for key, value in loaded.items():
        assert torch.equal(value, state[key]), key


def test_vit_path_is_timms_features_only_model() -> None:
    """FCRN's ViT encoder (last four blocks, no norm) is what timm's features_only gives, tensor for tensor."""
    ours = TimmEncoder("test_vit.r160_in1k")
    theirs = timm.create_model("test_vit.r160_in1k", features_only=True, out_indices=4, dynamic_img_size=True,
                               dynamic_img_pad=True)
    assert list(ours.model.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(ours.model.state_dict())
    x = torch.rand(1, 3, 50, 70)
    for a, b in zip(ours(x), theirs(x)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert ours.reductions == theirs.feature_info.reduction() and ours.model.out_indices == [2, 3, 4, 5]


def test_spread_blocks_are_the_dpt_choice() -> None:
    assert spread_blocks(12) == [2, 5, 8, 11] and spread_blocks(24) == [5, 11, 17, 23]
    assert spread_blocks(4) == [0, 1, 2, 3]
    with pytest.raises(InvalidArgumentError, match="3 transformer blocks; 4 distinct blocks are needed"):
        spread_blocks(3)


def test_encoder_indices_choose_blocks_and_levels() -> None:
    vit = TimmEncoder("test_vit.r160_in1k", out_indices=[1, 4], vit_norm=True)
    assert vit.model.out_indices == [1, 4] and len(vit(torch.rand(1, 3, 32, 32))) == 2
    cnn = TimmEncoder("test_resnet.r160_in1k", out_indices=[1, 2, 3, 4])
    assert cnn.reductions == [4, 8, 16, 32]


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("test_vit.r160_in1k", {"out_indices": [3, 1]}, r"strictly increasing .* got \[3, 1\].*e\.g\. \[1, 3\]"),
        ("test_vit.r160_in1k", {"out_indices": [-1, 2]}, "non-negative integers"),
        ("test_vit.r160_in1k", {"out_indices": [2, 6]}, r"has 6 transformer blocks \(0\.\.5\).*asks for block 6"),
        ("test_vit.r160_in1k", {"out_indices": []}, "non-empty list"),
        ("test_vit.r160_in1k", {"depth": 2}, "plain ViT.*encoder_indices instead"),
        ("test_resnet.r160_in1k", {"out_indices": [3, 5]}, r"has 5 feature levels; encoder_indices \[3, 5\] asks"),
        ("test_resnet.r160_in1k", {"out_indices": [1], "depth": 2}, "either encoder_indices or encoder_depth"),
        ("test_resnet.r160_in1k", {"class_token": True}, "class_token=True applies to ViTs"),
        ("test_resnet.r160_in1k", {"pos_embed_interpolation": "dinov2"}, "applies to ViTs"),
        ("test_vit.r160_in1k", {"pos_embed_interpolation": "bicubic"}, "must be one of"),
        ("vit_medium_patch16_gap_256", {"class_token": True}, "has no class token"),
    ],
)
def test_impossible_encoder_options_are_explained(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        TimmEncoder(name, **kwargs)
