"""The official FCRN NYU weights (Laina et al. 2016) as a depthzoo model: name mapping, checks, conversion.

``from_fcrn_official(path)`` reads either official release -- the TensorFlow checkpoint (``NYU_FCRN.ckpt`` with
its ``.index`` and ``.data-00000-of-00001`` files, or the ``NYU_FCRN-checkpoint.zip`` holding them) or the pickled
``NYU_ResNet-UpProj.npy`` -- without TensorFlow and without unpickling arbitrary code, and returns
``fcrn_resnet50`` + ``fast_upproj(padding="tf", bn_eps=1e-4)`` in eval mode: RGB in [0, 1] at 228x304 in,
depth in metres at 128x160 out.

The official graph has 394 tensors: 91 conv weights (HWIO, converted to OIHW by ``transpose(3, 2, 0, 1)``, no
flip), 39 biases, and 66 batch norms x {mean, variance, scale, offset} -> {running_mean, running_var, weight,
bias}. Every one must be present with its exact shape and map to exactly one model tensor; anything missing,
misshaped, non-finite or unknown is an error that names the tensor. Extra checkpoint entries that are not weights
(optimizer slots such as ``.../Momentum``, ``global_step``, and the integer index tables ``x_0``..``x_3`` that the
first official TF interleave code kept as variables) are skipped and logged.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from depthzoo.errors import WeightsError, WeightsNotFoundError, listing
from depthzoo.formats.safe_pickle import load_npy
from depthzoo.formats.tf_checkpoint import TFCheckpoint, ZipMembers
from depthzoo.models.depth_model import DepthModel
from depthzoo.models.factory import create_model
from depthzoo.utils.files import open_zip
from depthzoo.weights.build import build_model
from depthzoo.weights.sources import Weights

logger = logging.getLogger(__name__)

ENCODER = "fcrn_resnet50"
DECODER = "fast_upproj"
DECODER_KWARGS: dict[str, object] = {"padding": "tf", "bn_eps": 1e-4}
NUM_OFFICIAL_TENSORS = 394
# The release zip is 472,588,519 bytes; what it can expand to is bounded well above the real release, so a forged
# archive fails before anything is read (the reader extracts nothing: members are read in place).
RELEASE_ZIP_MAX_BYTES = 2 << 30
RELEASE_ZIP_MAX_RATIO = 200.0

# Stages res2..res5 of the Caffe ResNet-50 and their block letters; up-projection block ids in decoder order.
STAGE_BLOCKS = {2: "abc", 3: "abcd", 4: "abcdef", 5: "abc"}
UPPROJ_IDS = ("2x", "4x", "8x", "16x")
BN_PARAMS = {"mean": "running_mean", "variance": "running_var", "scale": "weight", "offset": "bias"}

LayerKind = Literal["conv", "conv_bias", "bn"]

# Entries of a training checkpoint that are not weights of the network, by name. (pattern, description, dtype kind)
_IGNORED: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(
            r".+/(Momentum|Adam|Adam_1|RMSProp|RMSProp_1|Adagrad|AdagradDA|Adadelta|Adadelta_1|Ftrl|Ftrl_1|ExponentialMovingAverage)(_\d+)?$"
        ),
        "optimizer slot",
        "any",
    ),
    (re.compile(r"^(global_step|beta1_power|beta2_power)(_\d+)?$"), "training counter", "any"),
    (re.compile(r"^_CHECKPOINTABLE_OBJECT_GRAPH$"), "object graph", "any"),
    (re.compile(r"^(.+/)?x_[0-3](_\d+)?$"), "interleave index table", "integer"),
)


def official_layers() -> dict[str, tuple[str, LayerKind]]:
    """Official layer name -> (module path inside DepthModel, kind), in graph order (91 conv layers, 66 BN)."""
    layers: dict[str, tuple[str, LayerKind]] = {
        "conv1": ("encoder.model.conv1", "conv_bias"),
        "bn_conv1": ("encoder.model.bn1", "bn"),
    }
    for stage, letters in STAGE_BLOCKS.items():
        for index, letter in enumerate(letters):
            block = f"encoder.model.layer{stage - 1}.{index}"
            if letter == "a":
                layers[f"res{stage}a_branch1"] = (f"{block}.downsample.0", "conv")
                layers[f"bn{stage}a_branch1"] = (f"{block}.downsample.1", "bn")
            for branch, number in (("2a", 1), ("2b", 2), ("2c", 3)):
                layers[f"res{stage}{letter}_branch{branch}"] = (f"{block}.conv{number}", "conv")
                layers[f"bn{stage}{letter}_branch{branch}"] = (f"{block}.bn{number}", "bn")
    layers["layer1"] = ("decoder.bridge_conv", "conv_bias")
    layers["layer1_BN"] = ("decoder.bridge_bn", "bn")
    for index, block_id in enumerate(UPPROJ_IDS):
        block = f"decoder.blocks.{index}"
        for branch in (1, 2):
            for letter in "ABCD":
                layers[f"layer{block_id}_br{branch}_Conv{letter}"] = (
                    f"{block}.branch{branch}_up.conv_{letter.lower()}",
                    "conv_bias",
                )
            layers[f"layer{block_id}_br{branch}_BN"] = (f"{block}.branch{branch}_bn", "bn")
            if branch == 1:
                layers[f"layer{block_id}_Conv"] = (f"{block}.branch1_conv", "conv_bias")
                layers[f"layer{block_id}_BN"] = (f"{block}.branch1_conv_bn", "bn")
    layers["ConvPred"] = ("decoder.head_conv", "conv_bias")
    return layers


def official_tensor_map() -> dict[str, str]:
    """Official tensor name ("layer/param") -> DepthModel state_dict key, for all 394 official tensors."""
    mapping: dict[str, str] = {}
    for layer, (module, kind) in official_layers().items():
        if kind == "bn":
            mapping.update({f"{layer}/{param}": f"{module}.{target}" for param, target in BN_PARAMS.items()})
        else:
            mapping[f"{layer}/weights"] = f"{module}.weight"
            if kind == "conv_bias":
                mapping[f"{layer}/biases"] = f"{module}.bias"
    return mapping


def create_official_model() -> DepthModel:
    """The untrained official architecture: fcrn_resnet50 + fast_upproj with TF padding and BN eps 1e-4."""
    return create_model(ENCODER, DECODER, pretrained=False, **DECODER_KWARGS)


def _official_shape(target_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The official (TensorFlow, HWIO) shape of a tensor whose PyTorch shape is ``target_shape`` (OIHW)."""
    if len(target_shape) == 4:
        return (target_shape[2], target_shape[3], target_shape[1], target_shape[0])
    return target_shape


@functools.lru_cache(maxsize=1)
def official_shapes() -> dict[str, tuple[int, ...]]:
    """Official tensor name -> its shape in the official files (conv weights HWIO), from the architecture itself."""
    with torch.device("meta"):
        targets = create_official_model().state_dict()
    return {name: _official_shape(tuple(targets[key].shape)) for name, key in official_tensor_map().items()}


class OfficialWeightsError(WeightsError):
    """The official weight file does not hold exactly the 394 tensors of the FCRN graph with their shapes."""


def convert_official_tensors(tensors: Mapping[str, np.ndarray], model: DepthModel) -> dict[str, torch.Tensor]:
    """Map the 394 official tensors onto ``model``'s state_dict keys (HWIO -> OIHW), checking everything first.

    Raises:
        OfficialWeightsError: naming every missing, unknown, misshaped, non-numeric or non-finite tensor.
    """
    mapping = official_tensor_map()
    targets = model.state_dict()
    if len(mapping) != NUM_OFFICIAL_TENSORS or len(set(mapping.values())) != len(mapping):
        raise AssertionError("the official name map must be one-to-one over 394 tensors")
    problems: list[str] = []
    missing = sorted(set(mapping) - set(tensors))
    unknown = sorted(set(tensors) - set(mapping))
    if missing:
        problems.append(f"missing {len(missing)} official tensor(s): {listing(missing)}")
    if unknown:
        problems.append(f"{len(unknown)} unknown tensor(s) that the FCRN graph does not have: {listing(unknown)}")
    converted: dict[str, torch.Tensor] = {}
    for name, key in mapping.items():
        if name not in tensors:
            continue
        array = np.asarray(tensors[name])
        expected = _official_shape(tuple(targets[key].shape))
        if array.dtype.kind != "f":
            problems.append(f"{name} has dtype {array.dtype}; expected float32")
            continue
        if array.shape != expected:
            problems.append(f"{name} has shape {list(array.shape)}; expected {list(expected)}")
            continue
        if not np.isfinite(array).all():
            problems.append(f"{name} holds {int((~np.isfinite(array)).sum())} NaN/inf value(s)")
            continue
        if name.endswith("/variance") and (array < 0).any():
            problems.append(f"{name} has negative variances")
            continue
        if array.ndim == 4:
            array = array.transpose(3, 2, 0, 1)  # HWIO -> OIHW; TF and PyTorch both correlate, so no flip
        converted[key] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if problems:
        more = f"; ... {len(problems) - 12} more problem(s)" if len(problems) > 12 else ""
        raise OfficialWeightsError("the file is not the official FCRN weights: " + "; ".join(problems[:12]) + more)
    return converted


@dataclass
class OfficialTensors:
    """The official tensors read from a file, and the non-weight entries that were skipped (with why)."""

    tensors: dict[str, np.ndarray]
    source_format: Literal["tf-checkpoint", "npy"]
    skipped: dict[str, str] = field(default_factory=dict)


def _skip_reason(name: str, dtype_kind: str) -> str | None:
    for pattern, reason, kinds in _IGNORED:
        if pattern.match(name) and (kinds == "any" or dtype_kind in "iub"):
            return reason
    return None


def _read_tf_checkpoint(checkpoint: TFCheckpoint) -> OfficialTensors:
    """The official tensors of an opened checkpoint; shapes are checked before any tensor is read."""
    official = official_shapes()
    misshaped = [
        f"{name} {list(entry.shape)} (official: {list(official[name])})"
        for name, entry in checkpoint.entries.items()
        if name in official and tuple(entry.shape) != official[name]
    ]
    if misshaped:
        raise OfficialWeightsError(
            f"checkpoint {checkpoint.prefix.name} is not the official FCRN model: wrong shape {listing(misshaped)}"
        )
    wanted, skipped = [], {}
    for name, entry in checkpoint.entries.items():
        if name in official:
            wanted.append(name)
            continue
        dtype = entry.numpy_dtype
        reason = _skip_reason(name, dtype.kind if dtype is not None else "O")
        if reason is None:
            raise OfficialWeightsError(
                f"checkpoint {checkpoint.prefix.name} holds tensor {name!r} ({entry.dtype_name} {list(entry.shape)}), "
                f"which is neither an FCRN weight nor a known training-only entry; is this the official FCRN model?"
            )
        skipped[name] = reason
    return OfficialTensors(checkpoint.read(wanted), "tf-checkpoint", skipped)


def _read_npy(array: object, name: str) -> OfficialTensors:
    """The official tensors of the ``.npy`` release's array (a pickled dict of layers), called ``name``."""
    container = array.item() if isinstance(array, np.ndarray) and array.dtype.hasobject and array.shape == () else None
    if not isinstance(container, dict):
        raise OfficialWeightsError(
            f"{name} does not hold a pickled dict of layers (got {type(array).__name__} "
            f"{getattr(array, 'dtype', '')} {list(getattr(array, 'shape', []))}); expected NYU_ResNet-UpProj.npy"
        )
    tensors: dict[str, np.ndarray] = {}
    for layer, params in container.items():
        layer_name = layer.decode("latin-1") if isinstance(layer, bytes) else str(layer)
        if not isinstance(params, dict):
            raise OfficialWeightsError(f"{name}: layer {layer_name!r} is a {type(params).__name__}, not a dict")
        for param, value in params.items():
            param_name = param.decode("latin-1") if isinstance(param, bytes) else str(param)
            if not isinstance(value, np.ndarray):
                raise OfficialWeightsError(
                    f"{name}: {layer_name}/{param_name} is a {type(value).__name__}, not an array"
                )
            tensors[f"{layer_name}/{param_name}"] = value
    return OfficialTensors(tensors, "npy")


def _read_zip(path: Path, verify_checksums: bool) -> OfficialTensors:
    """The official tensors of a release zip, read in place: nothing is extracted, so nothing is left behind."""
    with open_zip(path, RELEASE_ZIP_MAX_BYTES, RELEASE_ZIP_MAX_RATIO) as archive:
        members = ZipMembers(archive)
        for suffix, kind in ((".index", "TensorFlow checkpoint"), (".npy", ".npy weights")):
            found = sorted(m for m in members.members if m.suffix == suffix)
            if len(found) > 1:
                raise WeightsError(
                    f"the archive holds several {kind} files ({listing([str(m) for m in found])})", source=path,
                    fix="extract the one to convert and pass it",
                )
            if found and suffix == ".index":
                prefix = found[0].with_suffix("")
                return _read_tf_checkpoint(TFCheckpoint(prefix, verify_checksums, files=members))
            if found:
                with members.open(found[0]) as handle:
                    return _read_npy(load_npy(handle, name=f"{path}:{found[0]}"), found[0].name)
    raise WeightsNotFoundError(
        "the archive holds no TensorFlow checkpoint (*.index) and no .npy weights", source=path,
        fix="pass NYU_FCRN-checkpoint.zip or NYU_ResNet-UpProj.npy",
    )


def read_official_tensors(path: str | os.PathLike[str], verify_checksums: bool = True) -> OfficialTensors:
    """Read the official weights from a TF checkpoint (prefix, .index, folder or .zip) or the pickled .npy."""
    path = Path(path).expanduser()
    if path.suffix.lower() == ".zip":
        return _read_zip(path, verify_checksums)
    if path.is_dir() and not any(path.glob("*.index")) and len(list(path.glob("*.npy"))) == 1:
        path = next(path.glob("*.npy"))  # a folder holding just the .npy release
    if path.suffix.lower() == ".npy":
        if not path.is_file():
            raise WeightsNotFoundError(f"{path} does not exist", fix="pass the official NYU_ResNet-UpProj.npy")
        return _read_npy(load_npy(path), path.name)
    return _read_tf_checkpoint(TFCheckpoint(path, verify_checksums=verify_checksums))


LICENSE = "BSD-2-Clause (Simplified BSD License of the FCRN-DepthPrediction repository, Copyright (c) 2016 Iro Laina)"


def official_weights(path: str | os.PathLike[str], verify_checksums: bool = True) -> Weights:
    """The official release read for :func:`depthzoo.load`: its 394 tensors, converted for the model they fill.

    The architecture is the official one (``fcrn_resnet50`` + ``fast_upproj(padding="tf", bn_eps=1e-4)``); the
    tensors are checked and converted once the model is built (:func:`convert_official_tensors`), and BatchNorm
    counters the release does not have keep the model's values.
    """
    source = read_official_tensors(path, verify_checksums=verify_checksums)
    if source.skipped:
        kinds = sorted(set(source.skipped.values()))
        logger.info("skipped %d non-weight checkpoint entries (%s)", len(source.skipped), ", ".join(kinds))

    def state_for(model: DepthModel) -> dict[str, torch.Tensor]:
        converted = convert_official_tensors(source.tensors, model)
        state = model.state_dict()
        untouched = sorted(set(state) - set(converted))
        if any(not key.endswith("num_batches_tracked") for key in untouched):
            raise AssertionError(f"model tensors without an official source: {untouched}")
        state.update(converted)
        return state

    config = {
        "encoder": ENCODER,
        "decoder": DECODER,
        "decoder_kwargs": dict(DECODER_KWARGS),
        "weights_from": "official FCRN NYU release",
        "license": LICENSE,
    }
    return Weights(state_for, config, os.fspath(path), "fcrn-official")


def from_fcrn_official(path: str | os.PathLike[str], verify_checksums: bool = True) -> DepthModel:
    """The official FCRN NYU network with its trained weights, in eval mode.

    The same as ``depthzoo.load(path, format="fcrn-official")``: the official release only.

    Args:
        path: ``NYU_FCRN-checkpoint.zip``, the checkpoint prefix ``NYU_FCRN.ckpt`` (or its ``.index`` file, or the
            folder holding it), or ``NYU_ResNet-UpProj.npy``.
        verify_checksums: check the TF checkpoint's CRC-32C checksums (about a second).

    Returns:
        A DepthModel: ``model(x)`` maps RGB in [0, 1], (B, 3, 228, 304), to depth in metres, (B, 1, 128, 160);
        ``model.predict(x)`` returns depth at the input size.
    """
    return build_model(official_weights(Path(path).expanduser(), verify_checksums=verify_checksums))


__all__ = [
    "DECODER",
    "DECODER_KWARGS",
    "ENCODER",
    "OfficialTensors",
    "OfficialWeightsError",
    "convert_official_tensors",
    "create_official_model",
    "from_fcrn_official",
    "official_weights",
    "official_layers",
    "official_tensor_map",
    "read_official_tensors",
]
