"""Fast inference: BatchNorm folding (checked), precision choice, the cached copy behind predict, the task's modes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from depthzoo import inference
from depthzoo.errors import InvalidArgumentError
from depthzoo.inference import FastInference, fast_inference, fold_batchnorm, resolve_precision
from depthzoo.models import create_model

TINY = "test_resnet.r160_in1k"


def randomise_norms(model: nn.Module) -> nn.Module:
    """BatchNorm statistics and affine parameters away from 0/1, so folding has something to fold."""
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                size = module.num_features
                module.running_mean.copy_(torch.rand(size, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(size, generator=generator) - 0.5)
    return model.eval()


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize(
    ("encoder", "decoder", "kwargs"),
    [
        (TINY, "fast_upproj", {"padding": "tf"}),
        (TINY, "fast_upconv", {"padding": "geometric"}),
        (TINY, "upproj", {}),
        (TINY, "deconv", {}),
        ("test_efficientnet.r160_in1k", "upconv", {}),  # timm's BatchNormAct2d: BN + activation in one layer
    ],
)
def test_folding_removes_every_batchnorm_and_keeps_the_result(encoder: str, decoder: str, kwargs: dict) -> None:
    model = randomise_norms(create_model(encoder, decoder, **kwargs))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    folded, count = fold_batchnorm(model)
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert count == norms and not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    x = torch.rand(2, 3, 67, 93)
    with torch.no_grad():
        assert relative(folded(x), model(x)) < 1e-5
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the model is untouched


class SharedConvOutput(nn.Module):
    """A convolution whose output feeds a BatchNorm and a skip connection: folding it would change the skip."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.bn(y) + y


def test_folding_that_would_change_the_result_is_refused() -> None:
    model = randomise_norms(SharedConvOutput())
    folded, count = fold_batchnorm(model, sample=torch.rand(1, 3, 8, 8))
    assert count == 0 and isinstance(folded.bn, nn.BatchNorm2d)
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x))


def test_precision_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inference, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert resolve_precision("auto") == "bf16" and resolve_precision("fp32") == "fp32"
    monkeypatch.setattr(inference, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    assert resolve_precision("auto") == "bf16"
    monkeypatch.setattr(inference, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert resolve_precision("auto") == "fp32" and resolve_precision("bf16") == "bf16"
    with pytest.raises(InvalidArgumentError, match="precision must be one of fp32, bf16, auto, got 'fp16'"):
        resolve_precision("fp16")


def test_fp32_is_the_plain_model_and_bf16_is_close() -> None:
    model = randomise_norms(create_model(TINY, "fast_upproj", padding="tf"))
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        plain = F.interpolate(model(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
    assert torch.equal(model.predict(x, precision="fp32"), plain)  # exactly the earlier predict
    bf16 = model.predict(x, precision="bf16")
    assert bf16.dtype == torch.float32 and 0 < relative(bf16, plain) < 5e-2  # bf16 really ran, and stays close
    runner = FastInference(model, precision="bf16")
    convolutions = [m for m in runner.module.modules() if isinstance(m, nn.Conv2d)]
    assert all(conv.weight.is_contiguous(memory_format=torch.channels_last) for conv in convolutions)
    stem = runner.module.encoder.model.conv1[0]  # test_resnet's deep stem: three convolutions
    assert isinstance(stem, inference.FullPrecision)  # the image meets an fp32 convolution
    assert sum(isinstance(m, inference.FullPrecision) for m in runner.module.modules()) == 1
    stored = {p.dtype for m in runner.module.modules() if isinstance(m, nn.Conv2d) and m is not stem.module
              for p in m.parameters()}
    assert stored == {torch.bfloat16} and stem.module.weight.dtype == torch.float32
    assert torch.equal(runner(x), FastInference(model, precision="bf16", cast_weights=False)(x))  # rounded alike
    calls = []
    handle = stem.module.register_forward_hook(lambda module, args, out: calls.append((args[0].dtype, out.dtype)))
    runner(x)
    handle.remove()
    assert calls == [(torch.float32, torch.float32)]


def small_fcrn_like() -> nn.Module:
    """A few layers of FCRN's kinds (conv, BatchNorm, ReLU, fast up-convolution), quick to compile."""
    from depthzoo.models.layers import InterleavedConv

    return randomise_norms(nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        InterleavedConv(16, 8), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1),
    ))


def has_cpp_compiler() -> bool:
    try:
        inference.check_cpp_compiler()
    except InvalidArgumentError:
        return False
    return True


def test_compile_without_a_cpp_compiler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch._inductor.cpp_builder as cpp_builder

    def no_compiler() -> str:
        raise RuntimeError("No working C++ compiler found in cpp_builder.get_cpp_compiler()")

    monkeypatch.setattr(cpp_builder, "get_cpp_compiler", no_compiler)
    model = small_fcrn_like()
    with pytest.raises(InvalidArgumentError, match=r"compile=True needs a C\+\+ compiler.*No working C\+\+ compiler"):
        FastInference(model, precision="bf16", compile=True)
    assert FastInference(model, precision="bf16").is_copy  # without compile nothing needs it


@pytest.mark.skipif(not has_cpp_compiler(), reason="torch.compile needs a C++ compiler on CPUs")
def test_compiled_copies_freeze_their_own_weights() -> None:
    """compile=True freezes the bf16 copy's weights into the compiled code; a second model of the same architecture
    (other weights, same input) must get its own compilation, not the first model's constants."""
    x = torch.rand(2, 3, 32, 48)
    results = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = small_fcrn_like()
        fp32 = FastInference(model, precision="fp32")(x)
        compiled = FastInference(model, precision="bf16", compile=True)
        assert compiled.compiled and compiled.is_copy and compiled.folded == 3
        out = compiled(x)
        assert relative(out, fp32) < 2e-2  # bf16's rounding
        results.append((out, fp32))
    (first, first_fp32), (second, second_fp32) = results
    assert relative(first_fp32, second_fp32) > 0.2  # the two models really differ...
    assert relative(second, first_fp32) > 0.2  # ...and the second compiled copy did not run the first's weights


def test_predict_reuses_its_copy_until_the_weights_change() -> None:
    model = create_model(TINY, "fast_upconv").train()
    x = torch.rand(1, 3, 64, 64)
    first = fast_inference(model, precision="bf16")
    assert fast_inference(model, precision="bf16") is first
    before = model.predict(x, precision="bf16")
    assert model.training  # predict leaves the model as it was
    model.predict(x, precision="fp32")
    assert model.training
    with torch.no_grad():
        model.decoder.head_conv.bias.add_(1.0)  # an in-place update, as an optimizer step makes
        expected = F.interpolate(model.eval()(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
    model.train()
    assert fast_inference(model, precision="bf16") is not first
    after = model.predict(x, precision="bf16")
    assert relative(after, expected) <= 2e-2 and not torch.allclose(after, before)


def test_task_predicts_fast_but_evaluates_in_fp32() -> None:
    from depthzoo.task import DepthTask

    task = DepthTask(encoder=TINY, decoder="fast_upproj", predict_precision="bf16")
    randomise_norms(task.model)
    task.on_load_checkpoint({})  # counts as loaded weights
    batch = {"image": torch.rand(2, 3, 64, 64), "name": ["a", "b"], "index": torch.arange(2)}
    task.on_predict_start()
    assert task.fast_inference is not None and task.fast_inference.precision == "bf16"
    predicted = task.predict_step(batch, 0)["depth"]
    task.on_predict_end()
    assert task.fast_inference is None
    with torch.no_grad():
        reference = task.model(batch["image"])
    assert 0 < relative(predicted, reference) < 5e-2

    class Recorder:
        def update(self, pred: torch.Tensor, *args: object) -> None:
            self.pred = pred

    recorder = Recorder()
    batch["depth"] = torch.ones(2, 1, 64, 64)
    with torch.no_grad():
        task._evaluate(batch, recorder)  # type: ignore[arg-type]
    assert torch.equal(recorder.pred, reference)  # test/validate: the model itself, fp32
    with pytest.raises(InvalidArgumentError, match="precision must be one of"):
        DepthTask(encoder=TINY, eval_precision="half")
