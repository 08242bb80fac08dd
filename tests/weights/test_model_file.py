"""depthzoo model files: safetensors weights + the build config, rebuilt offline and loaded strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from depthzoo.models import create_model
from depthzoo.weights.model_file import load_model, read_model_config, save_model


@pytest.fixture(scope="module")
def model():
    net = create_model("test_resnet.r160_in1k", "fast_upproj", padding="tf", bn_eps=1e-4)
    with torch.no_grad():  # non-default values everywhere, BN statistics included
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5)
    return net.eval()


def test_round_trip_reproduces_outputs_and_config(tmp_path: Path, model) -> None:
    path = save_model(model, tmp_path / "sub" / "m.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert metadata["format"] == "depthzoo-model" and json.loads(metadata["config"]) == model.config
    loaded = load_model(path)
    assert loaded.config == model.config and not loaded.training
    assert loaded.config["decoder_kwargs"] == {"padding": "tf", "bn_eps": 1e-4}
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert not list(tmp_path.glob("sub/*.partial"))


def test_extra_config_keys_survive(tmp_path: Path, model) -> None:
    model.config["notes"] = "converted"
    try:
        loaded = load_model(save_model(model, tmp_path / "m.safetensors"))
    finally:
        model.config.pop("notes")
    assert loaded.config["notes"] == "converted"


def test_wrong_or_missing_files_are_explained(tmp_path: Path, model) -> None:
    with pytest.raises(
        FileNotFoundError, match="does not exist; write one with depthzoo.save_model"
    ):
        load_model(tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match="not a readable safetensors file.*junk.safetensors"):
        load_model(tmp_path / "junk.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "bare.safetensors"))
    with pytest.raises(ValueError, match="not a depthzoo model file"):
        read_model_config(tmp_path / "bare.safetensors")
    metadata = {"format": "depthzoo-model", "format_version": "99", "config": json.dumps(model.config)}
    save_file({"w": torch.zeros(2)}, str(tmp_path / "future.safetensors"), metadata=metadata)
    with pytest.raises(ValueError, match="format version '99'"):
        load_model(tmp_path / "future.safetensors")


def test_tensors_that_do_not_fit_are_named(tmp_path: Path, model) -> None:
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state.pop("decoder.head_conv.bias")
    state["decoder.extra"] = torch.zeros(1)
    state["decoder.bridge_conv.weight"] = torch.zeros(3, 3, 1, 1)
    metadata = {"format": "depthzoo-model", "format_version": "1", "config": json.dumps(model.config)}
    save_file(state, str(tmp_path / "bad.safetensors"), metadata=metadata)
    with pytest.raises(
        ValueError,
        match=r"missing decoder\.head_conv\.bias; unexpected decoder\.extra; wrong shape "
        r"decoder\.bridge_conv\.weight \[3, 3, 1, 1\]",
    ):
        load_model(tmp_path / "bad.safetensors")


def test_models_without_a_build_config_cannot_be_saved(tmp_path: Path, model) -> None:
    saved, model.config = model.config, {}
    try:
        with pytest.raises(ValueError, match="must name its encoder and decoder"):
            save_model(model, tmp_path / "m.safetensors")
    finally:
        model.config = saved


def test_encoder_depth_is_saved_and_rebuilt(tmp_path: Path) -> None:
    short = create_model("test_resnet.r160_in1k", "fast_upconv", encoder_depth=3).eval()
    loaded = load_model(save_model(short, tmp_path / "short.safetensors"))
    assert loaded.config["encoder_depth"] == 3 and loaded.encoder.reductions == short.encoder.reductions
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), short(x), rtol=0, atol=0)
