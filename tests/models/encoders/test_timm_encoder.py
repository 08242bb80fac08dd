"""Encoders: any timm name, feature_info-driven channels/strides, NHWC, ViT sizes, offline-safe weights."""

import time

import pytest
import timm
import torch
from safetensors.torch import save_file
from timm.models import build_model_with_cfg, register_model

import depthzoo.models.encoders.pretrained as pretrained_module
from depthzoo.models.encoders import EncoderWeightsUnavailable, TimmEncoder, list_encoders


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
