"""Test helpers: the official tensor list, random official-shaped weights, and .npy files written like the official one.

``data/fcrn_tf_variables.txt`` is the list of the 394 variables of the official TF graph (``name [shape]``), a fact
copied from the official checkpoint's variable listing.
"""

from __future__ import annotations

import ast
import pickle
import struct
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

VARIABLES_FILE = Path(__file__).parent / "data" / "fcrn_tf_variables.txt"


def official_variables() -> dict[str, tuple[int, ...]]:
    """Official tensor name -> shape (TF layout: conv weights HWIO), in the listing's order."""
    out: dict[str, tuple[int, ...]] = {}
    for line in VARIABLES_FILE.read_text().splitlines():
        name, shape = line.split(" ", 1)
        out[name] = tuple(ast.literal_eval(shape))
    return out


def random_official_tensors(seed: int = 0) -> dict[str, np.ndarray]:
    """Float32 tensors of the official names and shapes, scaled so activations stay O(1) through the network.

    He-normal conv weights, small biases, BN with positive variances and scales near 1, and a positive ConvPred
    bias so the final ReLU passes most pixels.
    """
    rng = np.random.default_rng(seed)
    tensors: dict[str, np.ndarray] = {}
    for name, shape in official_variables().items():
        param = name.rsplit("/", 1)[1]
        if param == "weights":
            kh, kw, cin, _ = shape
            value = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / (kh * kw * cin)))
            if name == "conv1/weights":
                value /= np.float32(255.0)  # the input is 0..255
            elif "branch2c" in name:
                value *= np.float32(0.3)  # keep the residual sums from growing block after block
        elif param in ("biases", "offset", "mean"):
            value = rng.normal(0.0, 0.1, shape)
        elif param in ("variance", "scale"):
            value = rng.uniform(0.5, 1.5, shape)
        else:
            raise AssertionError(name)
        tensors[name] = value.astype(np.float32)
    tensors["ConvPred/biases"] = np.array([2.0], dtype=np.float32)
    return tensors


def nested(tensors: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """{"layer/param": array} -> {layer: {param: array}}, the layout of the official .npy."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, value in tensors.items():
        layer, param = name.rsplit("/", 1)
        out.setdefault(layer, {})[param] = value
    return out


def _object_scalar(payload: object) -> np.ndarray:
    array = np.empty((), dtype=object)
    array[()] = payload
    return array


def write_npy_protocol2(path: Path, payload: object) -> Path:
    """np.save of a 0-d object array holding ``payload``, pickled with protocol 2 (Python 3 writer)."""
    array = _object_scalar(payload)
    with open(path, "wb") as handle:
        npy_format.write_array_header_1_0(handle, npy_format.header_data_from_array_1_0(array))
        pickle.dump(array, handle, protocol=2)
    return path


class _Python2Pickler:
    """Emit the protocol-2 stream that Python 2's cPickle writes for dicts of str -> ndarray (str = bytes)."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")

    def global_(self, module: str, name: str) -> None:
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    def string(self, data: bytes) -> None:
        if len(data) < 256:
            self.out += b"U" + bytes([len(data)]) + data  # SHORT_BINSTRING
        else:
            self.out += b"T" + struct.pack("<I", len(data)) + data  # BINSTRING

    def int_(self, value: int) -> None:
        self.out += b"K" + bytes([value]) if 0 <= value < 256 else b"J" + struct.pack("<i", value)

    def dtype(self, dtype: np.dtype) -> None:
        self.global_("numpy", "dtype")
        self.string(dtype.str[1:].encode() if dtype.kind != "O" else b"O8")
        self.int_(0)
        self.int_(1)
        self.out += b"\x87R("  # TUPLE3, REDUCE, MARK
        self.int_(3)
        self.string(b"|" if dtype.kind == "O" else b"<")
        self.out += b"NNN"
        self.int_(-1)
        self.int_(-1)
        self.int_(63 if dtype.kind == "O" else 0)
        self.out += b"tb"  # TUPLE, BUILD

    def array(self, array: np.ndarray) -> None:
        self.global_("numpy.core.multiarray", "_reconstruct")
        self.global_("numpy", "ndarray")
        self.int_(0)
        self.out += b"\x85"  # TUPLE1
        self.string(b"b")
        self.out += b"\x87R("  # TUPLE3, REDUCE, MARK
        self.int_(1)
        self.out += b"("
        for dim in array.shape:
            self.int_(dim)
        self.out += b"t"
        self.dtype(array.dtype)
        self.out += b"\x89"  # NEWFALSE (not Fortran order)
        if array.dtype.kind == "O":
            self.out += b"]("
            for item in array.ravel():
                self.value(item)
            self.out += b"e"
        else:
            self.string(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
        self.out += b"tb"

    def value(self, obj: object) -> None:
        if isinstance(obj, dict):
            self.out += b"}("
            for key, item in obj.items():
                self.string(key.encode("latin-1"))
                self.value(item)
            self.out += b"u"
        elif isinstance(obj, np.ndarray):
            self.array(obj)
        else:
            raise TypeError(type(obj))


def write_npy_python2(path: Path, payload: object) -> Path:
    """The official file's bytes as Python 2 + NumPy 1 wrote them: .npy 1.0 header + cPickle protocol 2 stream."""
    array = _object_scalar(payload)
    pickler = _Python2Pickler()
    pickler.array(array)
    pickler.out += b"."
    with open(path, "wb") as handle:
        npy_format.write_array_header_1_0(handle, npy_format.header_data_from_array_1_0(array))
        handle.write(bytes(pickler.out))
    return path
