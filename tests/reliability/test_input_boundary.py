"""Principle 3: inputs are validated at the public boundary, and every valid input works.

``DepthModel.forward``/``predict`` and ``create_model`` either support an input (any floating dtype is cast to the
model's) or refuse it with a DepthzooError that says what to pass; nothing leaks through as NaN or a raw error.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from depthzoo.errors import ArgumentTypeError, DepthzooError, InvalidArgumentError
from depthzoo.models import DepthModel, create_model


@pytest.fixture(scope="module")
def model() -> DepthModel:
    return create_model("test_resnet.r160_in1k", "fast_upproj").eval()


@pytest.mark.parametrize(("value", "message"), [
    (float("nan"), "1 NaN or infinite value"),
    (-float("inf"), "1 NaN or infinite value"),
    (-0.5, "values down to -0.5"),
])
def test_predict_refuses_nan_infinite_and_negative_pixels(model: DepthModel, value: float, message: str) -> None:
    """Listed: NaN, -inf and negative values went through; one NaN pixel made the whole depth map NaN."""
    images = torch.rand(2, 3, 16, 20)
    images[1, 2, 3, 4] = value
    with pytest.raises(InvalidArgumentError, match=message) as info:
        model.predict(images)
    if value != -0.5:
        assert "(1, 2, 3, 4)" in str(info.value) and "torch.nan_to_num" in str(info.value)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_every_floating_dtype_works(model: DepthModel, dtype: torch.dtype) -> None:
    """Listed: float16, bfloat16 and float64 inputs crashed with a raw dtype error; they are cast to the model's."""
    images = torch.rand(1, 3, 16, 20)
    expected = model.predict(images)
    cast = images.to(dtype)
    depth = model.predict(cast)
    assert depth.dtype == torch.float32 and depth.shape == (1, 1, 16, 20)
    torch.testing.assert_close(depth, model.predict(cast.float()), rtol=0, atol=0)  # the cast, nothing else
    torch.testing.assert_close(depth, expected, rtol=0.05, atol=0.05)
    with torch.no_grad():
        assert torch.equal(model(cast), model(cast.float()))


def test_an_image_without_pixels_is_refused(model: DepthModel) -> None:
    """Listed: 0-size images crashed inside a convolution."""
    for shape in ((1, 3, 0, 20), (1, 3, 16, 0)):
        with pytest.raises(InvalidArgumentError, match="no pixels"):
            model.predict(torch.rand(shape))
        with pytest.raises(InvalidArgumentError, match="no pixels"):
            model(torch.rand(shape))
    assert model.predict(torch.rand(0, 3, 16, 20)).shape == (0, 1, 16, 20)  # an empty batch is fine


def test_wrong_argument_types_are_refused_clearly(model: DepthModel) -> None:
    """Listed: ``create_model(encoder=18)`` and ``predict([x])`` raised AttributeError; ``pretrained="no"`` was True."""
    with pytest.raises(ArgumentTypeError, match="encoder must be a name .* got 18"):
        create_model(encoder=18)
    with pytest.raises(ArgumentTypeError, match="expected a torch.Tensor of images, got a list.*torch.stack"):
        model.predict([torch.rand(1, 3, 16, 20)])
    with pytest.raises(ArgumentTypeError, match="pretrained must be True or False, got 'no'"):
        create_model("resnet18", pretrained="no")


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda m: m.predict(np.random.rand(1, 3, 8, 8).astype(np.float32)), ArgumentTypeError, "got a ndarray"),
    (lambda m: m.predict(torch.randint(0, 255, (1, 3, 8, 8), dtype=torch.uint8)), ArgumentTypeError, "x.float"),
    (lambda m: m(torch.rand(1, 1, 8, 8)), InvalidArgumentError, r"shaped \(B, 3, H, W\), got \(1, 1, 8, 8\)"),
    (lambda m: m.predict(torch.rand(3, 8, 8)), InvalidArgumentError, r"got \(3, 8, 8\)"),
    (lambda m: m.predict(torch.rand(1, 3, 8, 8) * 255), InvalidArgumentError, "divide 8-bit images by 255"),
    (lambda m: m(torch.rand(1, 3, 8, 8, device="meta")), InvalidArgumentError, "on meta but the model on cpu"),
    (lambda m: create_model("resnet18", decoder=None), ArgumentTypeError, "decoder must be a name"),
    (lambda m: create_model("resnet18", encoder_depth="4"), ArgumentTypeError, "positive number of feature levels"),
    (lambda m: create_model("resnet18", output_kind="metres"), InvalidArgumentError, "output_kind must be one of"),
    (lambda m: create_model("resnet18", encoder_weights=3), ArgumentTypeError, "must be a file path"),
])
def test_other_inputs_that_cannot_work_are_refused_with_what_to_pass(model, call, error, message) -> None:
    """Not listed: every other input that cannot be an image or a model option fails the same way."""
    with pytest.raises(error, match=message) as info:
        call(model)
    assert isinstance(info.value, DepthzooError)
