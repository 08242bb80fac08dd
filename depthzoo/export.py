"""Export a depth model for deployment: ONNX, ``torch.export`` (``.pt2``) or TorchScript, with dynamic input size.

The exported graph maps a float32 (B, 3, H, W) RGB batch in [0, 1] (input ``image``) to float32 depth (B, 1, H, W)
at the input size (output ``depth``; ``native=True`` keeps the decoder's resolution, H / output_stride). It is the
eval-mode model with BatchNorm folded into its convolutions (:mod:`depthzoo.inference`), normalisation included.

With ``dynamic=True`` (the default) batch, height and width are free: ONNX and ``.pt2`` trace the model once with
symbolic sizes (``torch.export``), so size-dependent arithmetic (TensorFlow SAME padding, odd sizes) stays exact at
every size from ``2 x`` the encoder's stride up. TorchScript traces with concrete sizes: it is checked at two other
sizes and refused when the trace fixed a size-dependent computation. Each export is verified after writing (ONNX in
onnxruntime when installed) against PyTorch, at the export size and, when dynamic, at two other sizes.

ONNX needs the optional dependencies of ``pip install 'depthzoo[export]'`` (onnx, onnxscript, onnxruntime).
"""

from __future__ import annotations

import importlib.util
import json
import math
import operator
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from depthzoo.errors import DepthzooError, InvalidArgumentError
from depthzoo.inference import fold_batchnorm
from depthzoo.models.depth_model import DepthModel
from depthzoo.utils.files import atomic_path, check_output_path
from depthzoo.utils.validation import check_int

ExportFormat = Literal["onnx", "pt2", "torchscript"]
SUFFIXES: dict[str, str] = {"onnx": ".onnx", "pt2": ".pt2", "torchscript": ".pt"}
ONNX_OPSET = 18  # the lowest opset torch's ONNX exporter writes (>= 17, as deployment runtimes expect)
EXTRA = "pip install 'depthzoo[export]'"
RTOL = 1e-4


class ExportError(DepthzooError, RuntimeError):
    """The model cannot be exported in that format (an operator it lacks, size-dependent code), or the file is off."""


class ExportDependencyError(DepthzooError, ImportError):
    """An optional dependency of the export is not installed; the message names the install command."""


def require(*modules: str, purpose: str) -> None:
    """Raise :class:`ExportDependencyError` naming ``depthzoo[export]`` when a module cannot be imported."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportDependencyError(
            f"{purpose} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed",
            fix=f"install the export extra: {EXTRA}",
        )


class _Exported(nn.Module):
    """What is exported: the model, and (unless native) bilinear up-sampling of its depth to the input size."""

    def __init__(self, model: nn.Module, native: bool) -> None:
        super().__init__()
        self.model = model
        self.native = native

    def forward(self, image: Tensor) -> Tensor:
        depth = self.model(image)
        if self.native:
            return depth
        return F.interpolate(depth, size=image.shape[-2:], mode="bilinear", align_corners=False)


@dataclass
class ExportResult:
    """A written export: where, in which format, its example size, and the largest relative error found."""

    path: Path
    format: str
    input_shape: tuple[int, ...]
    dynamic: bool
    checks: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def summary(self) -> str:
        """One line for the command line."""
        sizes = ", ".join(f"{size}: {error:.1e}" for size, error in self.checks.items())
        return (
            f"wrote {self.path} ({self.format}, input image float32 (B, 3, H, W) RGB in [0, 1] -> depth float32; "
            + ("dynamic batch, height and width" if self.dynamic else f"fixed shape {list(self.input_shape)}")
            + (f"; max relative error vs PyTorch {sizes}" if sizes else "")
            + (f"; {self.note}" if self.note else "")
            + ")"
        )


def _min_size(model: DepthModel) -> int:
    stride = int(getattr(model.encoder, "stride", 32) or 32)
    return max(2 * stride, 2 * model.input_multiple)


def check_sizes(sizes: list[tuple[int, int]], model: DepthModel) -> None:
    """Refuse sizes below what the exported graph supports (two pixels at the encoder's stride)."""
    low = _min_size(model)
    for height, width in sizes:
        if min(height, width) < low:
            raise InvalidArgumentError(
                f"the export size {height}x{width} is below the model's minimum {low}x{low} (two feature pixels at "
                f"the encoder's stride)",
                fix=f"pass --height and --width of at least {low}",
            )


def other_sizes(size: tuple[int, int], model: DepthModel) -> list[tuple[int, int]]:
    """Two sizes other than ``size`` (one larger with odd sides, one smaller) for the checks of a dynamic export."""
    low = _min_size(model)
    height, width = size
    larger = (height + 37, width + 53)
    smaller = (max(low, height * 3 // 4 + 1), max(low, width * 3 // 4 + 3))
    if smaller == size:
        smaller = (height + 2 * low, width + low)
    return [larger, smaller]


_OPERATOR_PATTERNS = (
    re.compile(r"OpOverload\(op='([\w.:]+)'"),  # the ONNX exporter: "No ONNX function found for <OpOverload(...)>"
    re.compile(r"target=torch\.ops\.([\w.]+?)(?:\.default)?\]"),
    re.compile(r"target=((?:math|operator)\.\w+)"),
    re.compile(r"\b((?:aten|prims)::?\.?[a-z_][a-z0-9_.]*)"),
    re.compile(r"[Uu]nsupported (?:operator|op)[^'\"`]*['\"`]([\w.:]+)['\"`]"),
)


def operator_names(exc: BaseException) -> list[str]:
    """The operators an exporter's error (and the errors it was raised from) names, first seen first."""
    names: list[str] = []
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        for pattern in _OPERATOR_PATTERNS:
            for name in pattern.findall(str(error)):
                name = name.removesuffix(".default")
                if name not in names:
                    names.append(name)
        error = error.__cause__ or error.__context__
    return names


def _failure(model: DepthModel, fmt: str, exc: Exception) -> ExportError:
    decoder = model.config.get("decoder", type(model.decoder).__name__)
    operators = operator_names(exc)
    what = f"cannot export the {model.config.get('encoder', '')} + {decoder} model to {fmt}"
    if operators:
        what += f": the model uses operator {', '.join(operators[:3])}, which {fmt} cannot express"
    else:
        text = str(exc).strip()
        what += f" ({type(exc).__name__}: {text.splitlines()[0][:300] if text else 'no message'})"
    return ExportError(
        what,
        fix="rewrite the layer that uses it with standard operators, or use another format (pt2 keeps every "
        "PyTorch operator)",
    )


DYNAMIC_AXES = {0: "batch", 2: "height", 3: "width"}


def _dynamic_shapes(model: DepthModel) -> dict[str, dict[int, Any]]:
    """Free batch, height and width for ``torch.export``, as hints (named dimensions refuse unprovable guards).

    ``torch.export`` proves what it can and checks the rest at run time; a named ``Dim`` would instead fail on true
    guards it cannot prove, such as ``2 * (a // 2) <= a`` of strided layers.
    """
    low = _min_size(model)
    dynamic = torch.export.Dim.DYNAMIC
    return {"image": {0: dynamic(min=1, max=4096), 2: dynamic(min=low, max=16384), 3: dynamic(min=low, max=16384)}}


def _relative_error(expected: Tensor, actual: Tensor) -> float:
    return float((expected - actual).abs().max() / expected.abs().max().clamp_min(1e-12))


def _verify(
    run: Any, model: DepthModel, native: bool, shapes: list[tuple[int, ...]], fmt: str, tolerance: float = RTOL
) -> dict[str, float]:
    """Largest relative error of the exported file against the model itself (eval mode, float32) per input size."""
    errors: dict[str, float] = {}
    generator = torch.Generator().manual_seed(0)
    reference = _Exported(model, native)
    was_training = model.training
    for shape in shapes:
        image = torch.rand(shape, generator=generator)
        try:
            with torch.no_grad():
                expected = reference.eval()(image.to(model.input_mean.device)).float().cpu()
        finally:
            model.train(was_training)
        try:
            actual = run(image)
        except Exception as exc:  # a traced graph with a size baked in fails at other sizes
            raise ExportError(
                f"the {fmt} export fails at input {shape} ({type(exc).__name__}): it fixed a size-dependent "
                f"computation of the model",
                fix="export with --no-dynamic at the size you need, or use onnx/pt2, which keep sizes symbolic",
            ) from exc
        if tuple(actual.shape) != tuple(expected.shape):
            raise ExportError(
                f"the {fmt} export gives shape {tuple(actual.shape)} for input {shape}, PyTorch "
                f"{tuple(expected.shape)}",
                fix="export with --no-dynamic at the size you need, or use onnx/pt2",
            )
        error = _relative_error(expected, actual)
        errors[f"{shape[2]}x{shape[3]}"] = error
        if not error <= tolerance:
            raise ExportError(
                f"the {fmt} export differs from PyTorch by {error:.2e} (relative) at input {shape}: it fixed a "
                f"size-dependent computation of the model",
                fix="export with --no-dynamic at the size you need, or use onnx/pt2, which keep sizes symbolic",
            )
    return errors


def _export_onnx(module: nn.Module, example: Tensor, path: Path, dynamic: bool, model: DepthModel, opset: int) -> None:
    require("onnx", "onnxscript", purpose="ONNX export")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                (example,),
                None,
                dynamo=True,
                opset_version=opset,
                dynamic_axes={"image": DYNAMIC_AXES} if dynamic else None,  # named ONNX dimensions
                input_names=["image"],
                output_names=["depth"],
                verbose=False,
            )
    except Exception as exc:  # the exporter raises many types; each becomes one message naming the operator
        raise _failure(model, "ONNX", exc) from exc
    assert program is not None
    program.model.metadata_props.update(
        {
            "depthzoo.config": json.dumps(model.config, sort_keys=True, default=str),
            "depthzoo.input": "image: float32 (B, 3, H, W) RGB in [0, 1]",
            "depthzoo.output": f"depth: float32 (B, 1, h, w), {model.output_kind}",
        }
    )
    program.save(str(path))


def integer_ceilings(program: torch.export.ExportedProgram) -> int:
    """Rewrite ``math.ceil(a / b)`` on symbolic sizes as ``-(-a // b)``, which ``torch.export.save`` can serialise.

    timm's patch embeddings compute padded grid sizes with ``math.ceil``; the graph keeps that call when the size
    is dynamic, and the ``.pt2`` serialiser has no ``math.ceil``. For integers both forms are equal. Returns how many
    calls were rewritten.
    """
    graph = program.graph
    rewritten = 0

    def value(arg: Any) -> Any:
        return arg.meta["val"] if isinstance(arg, torch.fx.Node) else arg

    for node in list(graph.nodes):
        division = node.args[0] if node.op == "call_function" and node.target is math.ceil else None
        if not isinstance(division, torch.fx.Node) or division.target is not operator.truediv:
            continue
        numerator, denominator = division.args
        if not all(isinstance(value(arg), (int, torch.SymInt)) for arg in (numerator, denominator)):
            continue
        with graph.inserting_before(node):
            negated = graph.call_function(operator.neg, (numerator,))
            negated.meta["val"] = -value(numerator)
            floored = graph.call_function(operator.floordiv, (negated, denominator))
            floored.meta["val"] = negated.meta["val"] // value(denominator)
            ceiling = graph.call_function(operator.neg, (floored,))
            ceiling.meta["val"] = -floored.meta["val"]
        node.replace_all_uses_with(ceiling)
        graph.erase_node(node)
        if not division.users:
            graph.erase_node(division)
        rewritten += 1
    if rewritten:
        graph.lint()
        program.graph_module.recompile()
    return rewritten


def _export_pt2(module: nn.Module, example: Tensor, path: Path, dynamic: bool, model: DepthModel) -> None:
    try:
        program = torch.export.export(module, (example,), dynamic_shapes=_dynamic_shapes(model) if dynamic else None)
        integer_ceilings(program)
        torch.export.save(program, str(path))
    except Exception as exc:
        raise _failure(model, "torch.export", exc) from exc


def _export_torchscript(module: nn.Module, example: Tensor, path: Path, model: DepthModel) -> None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # size arithmetic: checked at other sizes below
            warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated in favour of torch.export
            traced = torch.jit.trace(module, (example,), check_trace=False)
            torch.jit.save(traced, str(path))
    except Exception as exc:
        raise _failure(model, "TorchScript", exc) from exc


def _runner(fmt: str, path: Path) -> tuple[Any, str]:
    """A function running the exported file on a tensor, and a note when it cannot be run here."""
    if fmt == "pt2":
        program = torch.export.load(str(path)).module()
        return (lambda image: program(image)), ""
    if fmt == "torchscript":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            loaded = torch.jit.load(str(path))
        return (lambda image: loaded(image)), ""
    if importlib.util.find_spec("onnxruntime") is None:
        return None, f"not verified: onnxruntime is not installed ({EXTRA})"
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return (lambda image: torch.from_numpy(session.run(None, {"image": image.numpy()})[0])), ""


def export_model(
    model: DepthModel,
    out: str | os.PathLike[str],
    format: ExportFormat | None = None,
    height: int = 240,
    width: int = 320,
    batch: int = 2,
    dynamic: bool = True,
    native: bool = False,
    opset: int = ONNX_OPSET,
    overwrite: bool = False,
    verify: bool = True,
) -> ExportResult:
    """Export ``model`` (left untouched) to ``out``; the format comes from ``format`` or ``out``'s suffix.

    Args:
        model: the depth model.
        out: the output file (``.onnx``, ``.pt2``, ``.pt``); written atomically, never replaced unless ``overwrite``.
        format: "onnx", "pt2" or "torchscript"; default: from the suffix.
        height: the example input's height (the fixed height with ``dynamic=False``).
        width: the example input's width.
        batch: the example batch size (the fixed one with ``dynamic=False``).
        dynamic: free batch, height and width.
        native: output depth at the decoder's resolution instead of the input size.
        opset: the ONNX opset (18 or higher).
        overwrite: replace an existing ``out``.
        verify: run the written file against PyTorch at the export size and (dynamic) two other sizes.

    Raises:
        ExportDependencyError: ONNX export without ``depthzoo[export]`` installed.
        ExportError: an operator the format cannot express (named), or a file that does not reproduce the model.
        OutputExistsError: ``out`` exists and ``overwrite`` is False.
    """
    path = Path(out).expanduser()
    fmt = format or next((name for name, suffix in SUFFIXES.items() if path.suffix.lower() == suffix), None)
    if fmt not in SUFFIXES:
        raise InvalidArgumentError(
            f"cannot tell the export format of {path.name!r}",
            fix="pass format 'onnx', 'pt2' or 'torchscript' (--format), or an output ending in .onnx, .pt2 or .pt",
        )
    height, width = check_int("height", height, minimum=1), check_int("width", width, minimum=1)
    batch = check_int("batch", batch, minimum=1)
    if fmt == "onnx" and opset < ONNX_OPSET:
        raise InvalidArgumentError(
            f"opset {opset} is below {ONNX_OPSET}, the lowest the ONNX exporter writes", fix=f"use --opset {ONNX_OPSET}"
        )
    check_sizes([(height, width)], model)
    check_output_path(path, overwrite)
    if fmt == "onnx":
        require("onnx", "onnxscript", purpose="ONNX export")
    folded, _ = fold_batchnorm(model)
    module = _Exported(folded.float().cpu(), native).eval().requires_grad_(False)
    example_batch = max(batch, 2) if dynamic else batch  # a batch of 1 would be specialised
    example = torch.rand(example_batch, 3, height, width, generator=torch.Generator().manual_seed(0))
    with atomic_path(path, overwrite, keep_suffix=True) as temporary:
        if fmt == "onnx":
            _export_onnx(module, example, temporary, dynamic, model, opset)
        elif fmt == "pt2":
            _export_pt2(module, example, temporary, dynamic, model)
        else:
            _export_torchscript(module, example, temporary, model)
        result = ExportResult(path, fmt, tuple(example.shape), dynamic)
        if verify:
            run, result.note = _runner(fmt, temporary)
            if run is not None:
                shapes = [tuple(example.shape)]
                if dynamic:
                    shapes += [(1, 3, h, w) for h, w in other_sizes((height, width), model)]
                result.checks = _verify(run, model, native, shapes, fmt)
    return result


__all__ = [
    "ExportDependencyError",
    "ExportError",
    "ExportResult",
    "SUFFIXES",
    "export_model",
    "operator_names",
    "require",
]
