"""Principle 2: loading weights is strict.

Every tensor the model keeps must come from the file with its shape, and every tensor of the file must belong to
the model, or the error names them; ``encoder_weights_strict=False`` is the explicit opt-out for partial transfer,
and logs what it left out. A model file of another architecture is refused in one line that says which it is.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import timm
import torch
from cli_checks import one_error_line, predict_args, write_image
from safetensors.torch import save_file

from depthzoo.errors import WeightsError
from depthzoo.models import create_model
from depthzoo.weights.model_file import save_model


def _timm_state(name: str) -> dict[str, torch.Tensor]:
    return {k: v.contiguous() for k, v in timm.create_model(name).state_dict().items()}


def test_unrelated_tensors_are_refused(tmp_path: Path) -> None:
    """Listed: ``{"foo": zeros(3)}`` was accepted, leaving the encoder entirely random."""
    path = tmp_path / "foo.pth"
    torch.save({"foo": torch.zeros(3)}, path)
    with pytest.raises(WeightsError, match=r"none of the tensors in the file fit resnet18: missing .*conv1\.weight.*"
                                           r"; unexpected foo \(.*foo\.pth\)") as info:
        create_model("resnet18", encoder_weights=path)
    assert "(100 in all)" in str(info.value)  # every missing tensor is counted, the first ones named


def test_weights_of_a_deeper_resnet_are_refused(tmp_path: Path) -> None:
    """Listed: a ResNet-34 state dict was accepted into a ResNet-18."""
    path = tmp_path / "resnet34.pth"
    torch.save(_timm_state("resnet34"), path)
    with pytest.raises(WeightsError, match=r"do not fit resnet18: unexpected layer1\.2\.bn1\.bias.*resnet34\.pth.*"
                                           r"encoder_weights_strict=False"):
        create_model("resnet18", encoder_weights=path)


def test_a_missing_tensor_is_refused(tmp_path: Path) -> None:
    """Listed: a state dict missing a tensor loaded with at most an INFO log line."""
    state = _timm_state("resnet18")
    del state["layer2.0.conv1.weight"]
    save_file(state, tmp_path / "partial.safetensors")
    with pytest.raises(WeightsError, match=r"do not fit resnet18: missing layer2\.0\.conv1\.weight \(.*partial"):
        create_model("resnet18", encoder_weights=tmp_path / "partial.safetensors")


def test_strict_false_loads_what_fits_and_logs_what_it_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = _timm_state("resnet34")
    torch.save(state, tmp_path / "resnet34.pth")
    with caplog.at_level(logging.WARNING):
        model = create_model("resnet18", encoder_weights=tmp_path / "resnet34.pth", encoder_weights_strict=False)
    assert "loaded 120 tensors into resnet18" in caplog.text and "unexpected layer1.2.bn1.bias" in caplog.text
    torch.testing.assert_close(model.encoder.model.layer4[1].conv2.weight, state["layer4.1.conv2.weight"])
    torch.save({"foo": torch.zeros(3)}, tmp_path / "foo.pth")
    with pytest.raises(WeightsError, match="none of the tensors"):  # opting out never accepts a file of nothing
        create_model("resnet18", encoder_weights=tmp_path / "foo.pth", encoder_weights_strict=False)


def test_a_model_file_of_another_architecture_is_one_line_naming_it(cli, model_file: Path, tmp_path: Path) -> None:
    """Listed: ``--model.weights`` with another architecture's file printed hundreds of size-mismatch lines."""
    other = save_model(create_model("resnet18", "fast_upconv"), tmp_path / "other.safetensors")
    write_image(tmp_path / "in" / "a.png")
    status, err = cli(*predict_args(other, tmp_path / "in", tmp_path / "out"))
    line = one_error_line(err)
    assert status == 2 and "the file holds a resnet18 + fast_upconv model, not the test_resnet" in line
    assert "missing" not in line and len(line) < 400  # the architecture, not the tensors that follow from it


@pytest.mark.parametrize("name", ["test_convnext", "test_efficientnet", "test_vit"])
def test_every_encoder_family_loads_exactly_or_names_what_is_wrong(name: str, tmp_path: Path) -> None:
    """Not listed: families whose feature extractors rename, prune or rebuild the model are held to the same rule."""
    generator = torch.Generator().manual_seed(0)
    state = {  # distinct random values, so no tensor can match one of the file's by chance
        k: torch.randn(v.shape, generator=generator) if v.is_floating_point() else v
        for k, v in _timm_state(name).items()
    }
    save_file(state, tmp_path / "whole.safetensors")
    encoder = create_model(name, encoder_weights=tmp_path / "whole.safetensors").encoder.model
    for key, tensor in encoder.state_dict().items():  # every tensor the encoder keeps comes from the file
        if tensor.is_floating_point():
            assert any(v.shape == tensor.shape and torch.equal(v, tensor) for v in state.values()), key
    first = next(k for k in state if k.endswith("weight"))
    del state[first]
    save_file(state, tmp_path / "short.safetensors")
    with pytest.raises(WeightsError, match=rf"missing {re.escape(first)}"):
        create_model(name, encoder_weights=tmp_path / "short.safetensors")
