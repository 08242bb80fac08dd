"""Export: ONNX (onnxruntime parity), torch.export and TorchScript at sizes other than the export size, and errors.

ONNX tests need ``depthzoo[export]`` (onnx, onnxscript, onnxruntime) and are skipped without it; ``.ci/run``
installs it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import depthzoo
from depthzoo import export as export_module
from depthzoo.cli import main
from depthzoo.errors import DepthzooError, InvalidArgumentError, OutputExistsError
from depthzoo.export import ExportDependencyError, ExportError, export_model, operator_names
from depthzoo.models import create_model

TINY = "test_resnet.r160_in1k"
HAS_ONNX = all(importlib.util.find_spec(name) for name in ("onnx", "onnxscript", "onnxruntime"))
needs_onnx = pytest.mark.skipif(not HAS_ONNX, reason="needs the export extra: pip install 'depthzoo[export]'")
FCRN_DECODERS = [
    ("fast_upproj", {"padding": "tf"}),
    ("fast_upproj", {"padding": "geometric"}),
    ("fast_upconv", {"padding": "tf"}),
    ("upproj", {}),
    ("upconv", {}),
    ("deconv", {}),
]
# The other decoder families: skip connections (fcrn_skip, unet) and DPT on a feature pyramid and on a plain ViT.
OTHER_DECODERS = [
    (TINY, "fcrn_skip", {}),
    (TINY, "unet", {}),
    (TINY, "dpt", {"features": 32}),
    ("test_vit", "dpt", {"features": 32}),
]


def trained_like(model: nn.Module) -> nn.Module:
    """Non-trivial BatchNorm statistics, so that folding them into the export is tested."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
        head = getattr(getattr(model, "decoder", None), "head_conv", None)
        if head is not None:
            head.bias.fill_(1.0)  # depth above the final ReLU almost everywhere: a comparison that means something
    return model.eval()


def reference(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return F.interpolate(model(image), size=image.shape[-2:], mode="bilinear", align_corners=False)


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    assert float(b.abs().max()) > 0.1  # a comparison of zeros would prove nothing
    return float((a - b).abs().max() / b.abs().max())


def check_pt2(path: Path, model: nn.Module, sizes: list[tuple[int, int, int]]) -> None:
    program = torch.export.load(str(path)).module()
    for batch, height, width in sizes:
        image = torch.rand(batch, 3, height, width)
        out = program(image)
        assert out.shape == (batch, 1, height, width)
        assert relative(out, reference(model, image)) <= 1e-4, (batch, height, width)


def test_pt2_from_the_command_line_keeps_size_free(tmp_path: Path, capsys) -> None:
    model = trained_like(create_model(TINY, "fast_upproj", padding="tf"))
    source = depthzoo.save_model(model, tmp_path / "m.safetensors")
    out = tmp_path / "m.pt2"
    assert main(["export", str(source), str(out), "--height", "96", "--width", "128"]) == 0
    printed = capsys.readouterr().out
    assert "dynamic batch, height and width" in printed and "133x181" in printed  # its own checks at other sizes
    check_pt2(out, model, [(1, 97, 131), (3, 64, 80)])  # two sizes other than 96x128, odd ones and another batch
    assert main(["export", str(source), str(out)]) == 2  # an existing output is refused
    assert "exists already" in capsys.readouterr().err


def test_torchscript_parity_at_other_sizes(tmp_path: Path) -> None:
    model = trained_like(create_model(TINY, "fast_upconv", padding="geometric"))
    result = export_model(model, tmp_path / "m.pt", height=96, width=128)
    assert result.format == "torchscript" and len(result.checks) == 3
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        loaded = torch.jit.load(str(tmp_path / "m.pt"))
    for shape in ((1, 3, 97, 131), (2, 3, 64, 80)):
        image = torch.rand(shape)
        assert relative(loaded(image), reference(model, image)) <= 1e-4


def test_fixed_shape_and_native_resolution(tmp_path: Path) -> None:
    model = trained_like(create_model(TINY, "deconv"))
    result = export_model(model, tmp_path / "m.pt", height=64, width=96, batch=1, dynamic=False, native=True)
    assert not result.dynamic and list(result.checks) == ["64x96"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        loaded = torch.jit.load(str(tmp_path / "m.pt"))
    image = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        assert relative(loaded(image), model(image)) <= 1e-4 and loaded(image).shape == (1, 1, 32, 48)


@pytest.mark.slow
@pytest.mark.parametrize(("decoder", "kwargs"), [*FCRN_DECODERS, ("vit", {})])
def test_pt2_every_fcrn_decoder(tmp_path: Path, decoder: str, kwargs: dict) -> None:
    """All FCRN decoders, and a ViT encoder whose patch padding computes sizes with math.ceil."""
    encoder, decoder = ("test_vit", "fast_upconv") if decoder == "vit" else (TINY, decoder)
    model = trained_like(create_model(encoder, decoder, **kwargs))
    export_model(model, tmp_path / "m.pt2", height=96, width=128)
    check_pt2(tmp_path / "m.pt2", model, [(1, 97, 131), (2, 160, 96)])


class DataDependentDecoder(nn.Module):
    """A decoder whose control flow depends on the data: not exportable as a graph."""

    output_stride = 32

    def __init__(self, in_channels: list[int], reductions: list[int]) -> None:
        super().__init__()
        self.head = nn.Conv2d(in_channels[-1], 1, 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        depth = self.head(features[-1])
        return depth if float(depth.mean()) > 0 else -depth


def test_a_trace_that_fixed_a_size_is_refused(tmp_path: Path) -> None:
    model = trained_like(create_model("test_vit", "fast_upconv"))  # its patch padding depends on the size
    with pytest.raises(ExportError, match="torchscript export .* at input .*fixed a size-dependent computation"):
        export_model(model, tmp_path / "m.pt", height=96, width=128)
    assert not list(tmp_path.iterdir())
    export_model(model, tmp_path / "m.pt", height=96, width=128, dynamic=False)  # one fixed size is fine


def test_unexportable_models_are_refused_with_a_reason(tmp_path: Path) -> None:
    from depthzoo.models.depth_model import DepthModel
    from depthzoo.models.encoders import TimmEncoder

    encoder = TimmEncoder(TINY)
    model = DepthModel(encoder, DataDependentDecoder(encoder.channels, encoder.reductions), {"encoder": TINY,
                                                                                          "decoder": "data_dependent"})
    with pytest.raises(ExportError, match="cannot export the test_resnet.r160_in1k \\+ data_dependent model"):
        export_model(model, tmp_path / "m.pt2", height=64, width=64)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_operator_names_come_from_the_exporters_messages() -> None:
    inner = RuntimeError(
        "No ONNX function found for <OpOverload(op='depthzoo_test.soft_clip', overload='default')>. Failure message: "
        "No decompositions registered"
    )
    outer = RuntimeError("translating %x = call_function[target=torch.ops.aten.special_bessel_j0.default]")
    outer.__cause__ = inner
    assert operator_names(outer) == ["aten.special_bessel_j0", "depthzoo_test.soft_clip"]


def test_bad_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = create_model(TINY, "fast_upconv")
    with pytest.raises(InvalidArgumentError, match="cannot tell the export format of 'm.tflite'"):
        export_model(model, tmp_path / "m.tflite")
    with pytest.raises(InvalidArgumentError, match="below the model's minimum 64x64"):
        export_model(model, tmp_path / "m.pt2", height=32, width=64)
    with pytest.raises(InvalidArgumentError, match="opset 17 is below 18"):
        export_model(model, tmp_path / "m.onnx", opset=17)
    (tmp_path / "exists.pt2").write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match="exists already"):
        export_model(model, tmp_path / "exists.pt2")
    assert (tmp_path / "exists.pt2").read_bytes() == b"mine"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(export_module.importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("onnx") else real_find_spec(name, *a))
    with pytest.raises(ExportDependencyError, match=r"ONNX export needs onnx.*'depthzoo\[export\]'"):
        export_model(model, tmp_path / "m.onnx")
    assert issubclass(ExportDependencyError, DepthzooError) and issubclass(ExportError, DepthzooError)


# ----------------------------------------------------------------------------------------------------------- ONNX
def check_onnx(path: Path, model: nn.Module, sizes: list[tuple[int, int, int]]) -> None:
    import onnx
    import onnxruntime

    proto = onnx.load(str(path))
    assert max(entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")) >= 17
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch, height, width in sizes:
        image = torch.rand(batch, 3, height, width)
        out = torch.from_numpy(session.run(None, {"image": image.numpy()})[0])
        assert out.shape == (batch, 1, height, width)
        assert relative(out, reference(model, image)) <= 1e-4, (batch, height, width)


@needs_onnx
@pytest.mark.parametrize(("decoder", "kwargs"), FCRN_DECODERS)
def test_onnx_parity_in_onnxruntime(tmp_path: Path, decoder: str, kwargs: dict) -> None:
    model = trained_like(create_model(TINY, decoder, **kwargs))
    export_model(model, tmp_path / "m.onnx", height=96, width=128)
    check_onnx(tmp_path / "m.onnx", model, [(1, 97, 131), (3, 64, 80)])


@needs_onnx
@pytest.mark.parametrize(("encoder", "decoder", "kwargs"), OTHER_DECODERS)
def test_onnx_parity_of_the_other_decoder_families(tmp_path: Path, encoder: str, decoder: str, kwargs: dict) -> None:
    model = trained_like(create_model(encoder, decoder, **kwargs))
    export_model(model, tmp_path / "m.onnx", height=96, width=128)
    check_onnx(tmp_path / "m.onnx", model, [(1, 97, 131), (2, 64, 80)])


@needs_onnx
@pytest.mark.slow
def test_onnx_official_fcrn_architecture(tmp_path: Path, official_model) -> None:
    """The official FCRN (Caffe ResNet-50 with TensorFlow SAME max-pool, TF-padded up-projections) at odd sizes."""
    export_model(official_model, tmp_path / "fcrn.onnx", height=228, width=304)
    check_onnx(tmp_path / "fcrn.onnx", official_model, [(1, 241, 321), (2, 160, 208)])


@needs_onnx
def test_onnx_names_the_operator_it_cannot_express(tmp_path: Path) -> None:
    @torch.library.custom_op("depthzoo_test::soft_clip", mutates_args=())
    def soft_clip(x: torch.Tensor) -> torch.Tensor:
        return x.clamp(0, 10)

    @soft_clip.register_fake
    def _(x: torch.Tensor) -> torch.Tensor:
        return torch.empty_like(x)

    class CustomOpDecoder(nn.Module):
        output_stride = 32

        def __init__(self, channels: int) -> None:
            super().__init__()
            self.head = nn.Conv2d(channels, 1, 1)

        def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
            return soft_clip(self.head(features[-1]))

    from depthzoo.models.depth_model import DepthModel
    from depthzoo.models.encoders import TimmEncoder

    encoder = TimmEncoder(TINY)
    model = DepthModel(encoder, CustomOpDecoder(encoder.channels[-1]), {"encoder": TINY, "decoder": "custom"})
    with pytest.raises(ExportError, match="custom model to ONNX: the model uses operator depthzoo_test.soft_clip"):
        export_model(model, tmp_path / "m.onnx", height=64, width=64)
    export_model(model, tmp_path / "m.pt2", height=64, width=64)  # torch.export keeps custom operators
