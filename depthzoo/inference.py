"""Fast inference: a copy of the model with BatchNorm folded into its convolutions, in channels_last, run in bf16.

``DepthModel.predict`` and ``depthzoo predict`` use it by default; training, ``test`` and ``validate`` use the model
itself in float32, so published numbers reproduce. The copy is built once per model and weights (a change of the
weights, e.g. a training step or ``load_state_dict``, builds a new one) and leaves the model untouched.

- **BatchNorm folding**: in eval mode a BatchNorm is a per-channel affine map, so when it directly follows a
  convolution it can be merged into that convolution's weights and bias (computed in float64, rounded once), and
  removed. Pairs are found by running the model once on a small input and recording which BatchNorm reads which
  convolution's output; the folded copy is then checked against the original on that input (a BatchNorm whose
  convolution's output is also used elsewhere would show up there), so folding never changes a result. The fast
  up-convolution (:class:`~depthzoo.models.layers.InterleavedConv`) folds too: its BatchNorm acts on each of its four
  interleaved convolutions' channels alike. Other layers register with :func:`register_foldable`.
- **channels_last**: NHWC tensors, the layout oneDNN's fastest convolutions use (1.3-1.6x on CPUs).
- **precision** ``"bf16"``: autocast to bfloat16 (several times the convolution throughput on CPUs with native
  bf16, AVX-512-BF16 or AMX), with the stem kept in fp32 (:class:`FullPrecision`); a trained FCRN's depth is
  0.2 % from fp32 on average (mean relative difference; BENCHMARKS.md). ``"auto"`` picks bf16 where the hardware
  has it natively (:func:`native_bf16`) and fp32 elsewhere. ``"fp32"`` runs the model itself: exactly the plain
  model's result.
- **compile**: ``torch.compile`` on top (a one-off compilation of tens of seconds; worth it for long runs). The bf16
  copy is compiled with Inductor's weight freezing: its weights, which nothing else can change, become constants,
  so Inductor pre-packs them and fuses each convolution with the ReLU and residual add that follow (1.3x over the
  uncompiled copy, 4.3x over fp32, for FCRN-ResNet-50 at batch 4; ``benchmarks/bench_inference.py``). The model
  itself (fp32) is compiled without freezing, since its weights may still change.

>>> import torch, depthzoo
>>> model = depthzoo.create_model("resnet18", "fast_upproj").eval()
>>> fast = FastInference(model, precision="bf16")
>>> fast.folded > 20   # BatchNorms merged into their convolutions
True
>>> x = torch.rand(1, 3, 64, 96)
>>> with torch.no_grad():
...     bool(torch.allclose(fast(x), model(x), rtol=0.05, atol=0.05))
True
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from depthzoo.errors import InvalidArgumentError
from depthzoo.models.layers.upsampling import InterleavedConv

Precision = Literal["fp32", "bf16", "auto"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "auto")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")

# Modules whose output channel c is an affine function of their convolutions' weight[c] and bias[c], so that a
# per-channel affine map after them folds into those convolutions. Conv2d and ConvTranspose2d are built in.
_FOLDABLE: dict[type[nn.Module], Callable[[nn.Module], list[nn.Module]]] = {
    InterleavedConv: lambda m: [m.conv_a, m.conv_b, m.conv_c, m.conv_d],  # type: ignore[attr-defined]
}


def register_foldable(cls: type[nn.Module], convolutions: Callable[[nn.Module], list[nn.Module]]) -> None:
    """Declare that a BatchNorm right after a ``cls`` module folds into the convolutions ``convolutions(module)``.

    Only for layers whose every output channel c is computed by those convolutions' channel c alone (plus
    rearrangements such as interleaving), as in :class:`~depthzoo.models.layers.InterleavedConv`.
    """
    _FOLDABLE[cls] = convolutions


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def native_bf16(device: str | torch.device = "cpu") -> bool:
    """True when ``device`` computes bfloat16 natively: AVX-512-BF16 or AMX on CPUs, Ampere or newer GPUs."""
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return device.type == "cpu" and bool(cpu_flags() & set(BF16_FLAGS))


def resolve_precision(precision: str, device: str | torch.device = "cpu") -> Literal["fp32", "bf16"]:
    """``"fp32"`` or ``"bf16"`` for a requested precision; ``"auto"`` is bf16 where native (:func:`native_bf16`)."""
    if precision not in PRECISIONS:
        raise InvalidArgumentError(
            f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}",
            fix="'auto' uses bf16 where the hardware has it natively and fp32 elsewhere",
        )
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision  # type: ignore[return-value]


def check_cpp_compiler() -> None:
    """Raise a clear error when ``torch.compile`` cannot run on CPUs here: Inductor compiles C++ with a system compiler.

    Without one, the first compiled call would fail deep inside Inductor; this names the fix up front.
    """
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler
    except ImportError:  # another PyTorch layout: let torch.compile speak for itself
        return
    try:
        get_cpp_compiler()
    except Exception as exc:  # Inductor's InvalidCxxCompiler, or the search failing in another way
        raise InvalidArgumentError(
            f"compile=True needs a C++ compiler on CPUs (torch.compile's Inductor builds C++ kernels): {exc}",
            fix="install one (e.g. 'apt install g++', or set CXX), or run without compile (fast bf16 inference needs "
            "no compiler)",
        ) from exc


# ------------------------------------------------------------------------------------------------ BN folding
def _convolutions(module: nn.Module) -> list[nn.Module] | None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        if isinstance(module, nn.ConvTranspose2d) and module.groups != 1:
            return None
        return [module]
    for cls, convolutions in _FOLDABLE.items():
        if isinstance(module, cls):
            return convolutions(module)
    return None


def _foldable_norm(module: nn.Module) -> bool:
    return (
        isinstance(module, nn.BatchNorm2d)
        and module.track_running_stats
        and module.running_mean is not None
        and module.running_var is not None
    )


def find_conv_bn_pairs(model: nn.Module, sample: Tensor) -> list[tuple[nn.Module, nn.BatchNorm2d]]:
    """(producer, BatchNorm) pairs where the BatchNorm's input is exactly the producer's output, by one forward run.

    Producers and BatchNorms called more than once are left out (their folding could not be checked per use).
    """
    outputs: dict[int, nn.Module] = {}
    keep: list[Tensor] = []  # holds the tensors so that their ids stay unique during the run
    calls: dict[nn.Module, int] = {}
    inputs: dict[nn.BatchNorm2d, int] = {}

    def after_producer(module: nn.Module, args: Any, output: Any) -> None:
        calls[module] = calls.get(module, 0) + 1
        if isinstance(output, Tensor):
            outputs[id(output)] = module
            keep.append(output)

    def before_norm(module: nn.Module, args: Any) -> None:
        calls[module] = calls.get(module, 0) + 1
        if args and isinstance(args[0], Tensor):
            inputs[module] = id(args[0])  # type: ignore[index]
            keep.append(args[0])

    handles = []
    for module in model.modules():
        if _convolutions(module) is not None:
            handles.append(module.register_forward_hook(after_producer))
        elif _foldable_norm(module):
            handles.append(module.register_forward_pre_hook(before_norm))
    _run_once(model, sample, handles)
    pairs = []
    for norm, tensor_id in inputs.items():
        producer = outputs.get(tensor_id)
        if producer is not None and calls.get(producer) == 1 and calls.get(norm) == 1:
            pairs.append((producer, norm))
    return pairs


@torch.no_grad()
def _fold(producer: nn.Module, norm: nn.BatchNorm2d) -> None:
    scale = norm.running_var.double().add(norm.eps).rsqrt()
    if norm.weight is not None:
        scale = scale * norm.weight.double()
    shift = -norm.running_mean.double() * scale
    if norm.bias is not None:
        shift = shift + norm.bias.double()
    for conv in _convolutions(producer) or []:
        weight = conv.weight  # type: ignore[union-attr]
        shape = [1] * weight.ndim
        shape[1 if isinstance(conv, nn.ConvTranspose2d) else 0] = -1
        weight.copy_(weight.double() * scale.view(shape))
        bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)  # type: ignore[union-attr]
        new_bias = (bias * scale + shift).to(weight.dtype)
        if conv.bias is None:  # type: ignore[union-attr]
            conv.bias = nn.Parameter(new_bias, requires_grad=False)  # type: ignore[union-attr]
        else:
            conv.bias.copy_(new_bias)  # type: ignore[union-attr]


def _without_norm(norm: nn.Module) -> nn.Module:
    """What replaces a folded BatchNorm: nothing, or the dropout and activation of a fused BatchNorm + act layer."""
    act, drop = getattr(norm, "act", None), getattr(norm, "drop", None)
    if isinstance(act, nn.Module) or isinstance(drop, nn.Module):
        return nn.Sequential(*(m for m in (drop, act) if isinstance(m, nn.Module)))
    return nn.Identity()


def _replace(model: nn.Module, old: nn.Module, new: nn.Module) -> None:
    places = [(parent, name) for parent in model.modules() for name, child in parent.named_children() if child is old]
    for parent, name in places:  # found first: ``new`` may hold ``old``
        setattr(parent, name, new)


def sample_input(model: nn.Module) -> Tensor:
    """A small (1, 3, H, W) input every encoder accepts: twice its stride (at least 64), a multiple of its patch."""
    encoder = getattr(model, "encoder", None)
    stride = int(getattr(encoder, "stride", 32) or 32)
    multiple = int(getattr(model, "input_multiple", 1) or 1)
    height = max(64, 2 * stride)
    width = height * 3 // 2
    return torch.rand(1, 3, -(-height // multiple) * multiple, -(-width // multiple) * multiple)


@torch.no_grad()
def fold_batchnorm(model: nn.Module, sample: Tensor | None = None, rtol: float = 1e-4) -> tuple[nn.Module, int]:
    """A copy of ``model`` (eval mode) with each BatchNorm that follows a convolution merged into it; the count.

    Each folded weight is computed in float64 and rounded once. The folded copy is then checked on ``sample``
    (default :func:`sample_input`) against the unfolded one: should it differ by more than ``rtol`` (relative to the
    largest output; rounding gives about 1e-6, a wrong fold gives order 1), the unfolded copy is returned instead.
    """
    folded = copy.deepcopy(model).eval()
    parameter = next(itertools.chain(folded.parameters(), [torch.zeros(())]))
    sample = (sample if sample is not None else sample_input(model)).to(parameter.device, parameter.dtype)
    reference = folded(sample)
    pairs = find_conv_bn_pairs(folded, sample)
    for producer, norm in pairs:
        _fold(producer, norm)
        _replace(folded, norm, _without_norm(norm))
    check = folded(sample)
    scale = max(float(reference.abs().max()), 1e-12)
    if not float((check - reference).abs().max()) <= rtol * scale:
        return copy.deepcopy(model).eval(), 0
    return folded, len(pairs)


# ------------------------------------------------------------------------------------------------- the runner
class FullPrecision(nn.Module):
    """Runs the wrapped module in float32 even under autocast.

    The stem gets it: it sees the image itself, whose 8 bits per channel bf16's 8-bit mantissa would round (bf16
    there doubles the error of the whole network for about 1 % of its work).

    Args:
        module: the module to run in float32.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        """The module's output for ``x`` in float32."""
        with torch.autocast(x.device.type, enabled=False):
            return self.module(x.float())


def first_convolution(model: nn.Module, sample: Tensor) -> nn.Module | None:
    """The convolution the input meets first (by one forward run on ``sample``)."""
    seen: list[nn.Module] = []
    handles = [
        module.register_forward_pre_hook(lambda module, args: seen.append(module) if not seen else None)
        for module in model.modules()
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))
    ]
    _run_once(model, sample, handles)
    return seen[0] if seen else None


def _run_once(model: nn.Module, sample: Tensor, handles: list[Any]) -> None:
    """One forward run without gradients to let ``handles``' hooks observe it; the hooks are removed after."""
    try:
        with torch.no_grad():
            model(sample)
    finally:
        for handle in handles:
            handle.remove()


def cast_parameters(model: nn.Module, dtype: torch.dtype) -> None:
    """Store the weights of ``model``'s convolutions and linear layers in ``dtype``, outside :class:`FullPrecision`.

    Those are the layers autocast runs in bf16 (it would cast their weights at every call); normalisation layers
    keep their float32 parameters, as their kernels expect.
    """
    keep = {id(p) for module in model.modules() if isinstance(module, FullPrecision) for p in module.parameters()}
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            for parameter in module.parameters(recurse=False):
                if parameter.is_floating_point() and id(parameter) not in keep:
                    parameter.data = parameter.data.to(dtype)


class FastInference:
    """Inference in the requested precision: for bf16, a fast copy of the model; for fp32, the model itself.

    bf16: a copy with BatchNorm folded into the convolutions, in channels_last, run under bf16 autocast (its stem in
    fp32, :class:`FullPrecision`), optionally compiled. fp32: the model itself in eval mode, so the result is exactly
    the plain model's (folding and channels_last change float32 results by rounding, about 1e-5, without making
    fp32 faster at batch sizes above 1). Calling it runs a float32 batch and returns float32, without gradients. It
    is not an ``nn.Module`` on purpose: kept on a LightningModule or a model, it stays out of their state dicts.

    Args:
        model: the model (left untouched; fp32 runs it, switching it to eval mode during calls).
        precision: "fp32", "bf16" or "auto" (bf16 where the device has it natively).
        compile: wrap what runs in ``torch.compile`` (bf16: with Inductor's weight freezing, see the module notes).
        channels_last: bf16: run on NHWC tensors.
        fold: bf16: fold BatchNorm into the convolutions.
        cast_weights: bf16: store the copy's convolution and linear weights in bf16 (outside the stem), so autocast
            does not cast them again at every call; the result is the same, autocast rounds them alike.
    """

    def __init__(
        self,
        model: nn.Module,
        precision: Precision = "auto",
        compile: bool = False,
        channels_last: bool = True,
        fold: bool = True,
        cast_weights: bool = True,
    ) -> None:
        device = next(itertools.chain(model.parameters(), [torch.zeros(())])).device
        if compile and device.type == "cpu":
            check_cpp_compiler()
        self.device = device
        self.precision = resolve_precision(precision, device)
        self.compiled = compile
        self.folded = 0
        self.channels_last = channels_last and self.precision == "bf16"
        if self.precision == "fp32":
            module = model
        else:
            sample = sample_input(model).to(device)
            module, self.folded = fold_batchnorm(model, sample) if fold else (copy.deepcopy(model).eval(), 0)
            stem = first_convolution(module, sample)
            if stem is not None:
                _replace(module, stem, FullPrecision(stem))
            module.requires_grad_(False)
            if cast_weights:
                cast_parameters(module, torch.bfloat16)
            if self.channels_last:
                module = module.to(memory_format=torch.channels_last)
        self.module: nn.Module = module
        self._forward: Callable[[Tensor], Tensor] = torch.compile(module) if compile else module

    @property
    def is_copy(self) -> bool:
        """Whether this runs a copy of the model (bf16) rather than the model itself (fp32)."""
        return self.precision == "bf16"

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The autocast context of this precision (a no-op for fp32)."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _freezing(self) -> contextlib.AbstractContextManager[Any]:
        """Inductor's weight freezing while a compiled bf16 copy runs (nothing else holds its weights).

        It must be on when Dynamo traces (it then guards on the weights' identity) and when Inductor compiles, so
        every call sets it; outside compiled copies it stays off.
        """
        if not (self.compiled and self.is_copy):
            return contextlib.nullcontext()
        import torch._inductor.config as inductor_config

        return inductor_config.patch(freezing=True)

    def __call__(self, x: Tensor) -> Tensor:
        """The output for ``x`` (float32, no gradients)."""
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.inference_mode(), self.autocast(), self._freezing():
                if self.channels_last and x.ndim == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
                out = self._forward(x)
        finally:
            self.module.train(was_training)
        return out.float().contiguous()


def _weights_signature(model: nn.Module) -> tuple[Any, ...]:
    tensors: Iterator[Tensor] = itertools.chain(model.parameters(), model.buffers())
    return tuple((t.data_ptr(), t._version, t.dtype, t.device) for t in tensors)


# Copies by model, for predict; a runner of the model itself is never kept (it would keep the model alive).
_CACHE: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[Any, ...], FastInference]] = weakref.WeakKeyDictionary()


def fast_inference(model: nn.Module, precision: Precision = "auto", compile: bool = False) -> FastInference:
    """The :class:`FastInference` of ``model`` for these settings; a bf16 copy is rebuilt when the weights change."""
    key = (precision, compile, _weights_signature(model))
    cached = _CACHE.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    runner = FastInference(model, precision=precision, compile=compile)
    if runner.is_copy:
        _CACHE[model] = (key, runner)
    return runner


__all__ = [
    "FastInference",
    "FullPrecision",
    "cast_parameters",
    "check_cpp_compiler",
    "first_convolution",
    "Precision",
    "cpu_flags",
    "fast_inference",
    "find_conv_bn_pairs",
    "fold_batchnorm",
    "native_bf16",
    "register_foldable",
    "resolve_precision",
    "sample_input",
]
