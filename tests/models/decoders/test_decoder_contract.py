"""The contract every registered decoder keeps, checked for each name in ``list_decoders()``.

A new decoder is tested here without writing a test: it must give the output stride it declares, finite outputs and
gradients, depth at the input size for odd sizes, the same outputs after a save/load round trip, and refuse unknown
or mistyped options before anything is built.
"""

from __future__ import annotations

import inspect
import math
import typing
from pathlib import Path

import pytest
import torch

from depthzoo.models import create_model, list_decoders
from depthzoo.models.decoders import DECODERS, check_decoder_kwargs
from depthzoo.registry import RegistryError
from depthzoo.weights.model_file import load_model, save_model

ENCODER = "test_resnet.r160_in1k"  # a tiny 5-level CNN (strides 2..32), random weights
DECODERS_UNDER_TEST = list_decoders()


@pytest.fixture(scope="module", params=DECODERS_UNDER_TEST)
def model(request: pytest.FixtureRequest) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(ENCODER, request.param).eval()


def test_every_decoder_is_under_contract() -> None:
    assert {"upconv", "upproj", "fast_upconv", "fast_upproj", "deconv"} <= set(DECODERS_UNDER_TEST)


def test_native_output_has_the_declared_stride(model: torch.nn.Module) -> None:
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        out = model(x)
    stride = model.output_stride
    assert out.shape == (2, 1, 64 // stride, 96 // stride)


def test_outputs_and_gradients_are_finite(model: torch.nn.Module) -> None:
    model.train()
    try:
        out = model(torch.rand(2, 3, 64, 96))
        assert torch.isfinite(out).all()
        (out * torch.rand_like(out)).mean().backward()
        decoder_grads = [p.grad for p in model.decoder.parameters() if p.requires_grad]
        assert decoder_grads and all(g is not None and torch.isfinite(g).all() for g in decoder_grads)
        assert any(float(g.abs().sum()) > 0 for g in decoder_grads)
        encoder_grads = [p.grad for p in model.encoder.parameters() if p.grad is not None]
        assert encoder_grads and all(torch.isfinite(g).all() for g in encoder_grads)
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()


@pytest.mark.parametrize("size", [(61, 83), (33, 47)])
def test_odd_input_sizes_give_depth_at_the_input_size(model: torch.nn.Module, size: tuple[int, int]) -> None:
    x = torch.rand(1, 3, *size)
    depth = model.predict(x)
    assert depth.shape == (1, 1, *size) and torch.isfinite(depth).all()
    with torch.no_grad():
        native = model(x)
    # The native map covers the input, at most padded up to a multiple of the encoder's stride.
    stride, encoder_stride = model.output_stride, model.encoder.stride
    for n, s in zip(native.shape[-2:], size):
        assert s / stride - 1 <= n <= math.ceil(s / encoder_stride) * encoder_stride / stride, (native.shape, size)


def test_save_and_load_round_trip_is_exact(model: torch.nn.Module, tmp_path: Path) -> None:
    path = save_model(model, tmp_path / "model.safetensors")
    loaded = load_model(path)
    assert loaded.config == model.config
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def _wrong_value(hint: object) -> object | None:
    """A value that clearly does not fit a simple type hint, or None when the hint is not simple."""
    if typing.get_origin(hint) is typing.Literal:
        return "not-one-of-the-choices"
    if hint in (int, float, bool):
        return "not-a-number"
    return None


@pytest.mark.parametrize("name", DECODERS_UNDER_TEST)
def test_options_are_validated_before_building(name: str) -> None:
    with pytest.raises(RegistryError, match=r"unexpected argument.*'no_such_option'.*Valid arguments"):
        check_decoder_kwargs(name, {"no_such_option": 1})
    factory = DECODERS.get(name)
    hints = {}
    for cls in reversed(inspect.getmro(factory) if inspect.isclass(factory) else [factory]):
        init = getattr(cls, "__init__", None)
        if init is not None and init is not object.__init__:
            try:
                hints.update(typing.get_type_hints(init))
            except Exception:
                continue
    typed = {k: _wrong_value(v) for k, v in hints.items() if k not in ("in_channels", "reductions", "return")}
    typed = {k: v for k, v in typed.items() if v is not None}
    assert typed, f"decoder {name!r} declares no simply typed option to validate"
    for option, value in typed.items():
        with pytest.raises(RegistryError, match=f"{option}="):
            check_decoder_kwargs(name, {option: value})
