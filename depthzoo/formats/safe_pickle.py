"""Load pickled ``.npy`` files (such as the official ``NYU_ResNet-UpProj.npy``) without running foreign code.

A pickle can call any importable function while it loads (``os.system`` included), so ``np.load(...,
allow_pickle=True)`` on a downloaded file is unsafe. Here the ``.npy`` header is parsed with ``numpy.lib.format``
and the pickled payload goes to an unpickler that resolves only what NumPy arrays, dicts and strings need:

- ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct`` (array construction),
- ``numpy.ndarray`` and ``numpy.dtype``,
- ``_codecs.encode``, narrowed to latin-1 text -> bytes (how Python 3 writes ``bytes`` in protocol-2 pickles).

Dicts, lists, tuples, strings and numbers need no global at all. Any other global is refused, naming it, before
anything runs. Python 2 strings are decoded as latin-1, as ``np.load(..., encoding="latin1")`` does.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format
from typing_extensions import override

from depthzoo.errors import DepthzooError, FileFormatError

MAX_HEADER_SIZE = 10000


class UnsafePickleError(DepthzooError, pickle.UnpicklingError):
    """The pickle refers to a global outside the allow-list; nothing from the file was run."""


def _latin1_encode(text: str, encoding: str = "latin1", errors: str = "strict") -> bytes:
    if codecs.lookup(encoding).name != "iso8859-1" or errors != "strict" or not isinstance(text, str):
        raise UnsafePickleError(
            f"refused _codecs.encode({type(text).__name__}, {encoding!r}, {errors!r}): only latin-1"
        )
    return text.encode("latin-1")


# NumPy's array reconstructor (numpy.core in NumPy 1, numpy._core in NumPy 2), taken from how arrays pickle.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the allow-listed globals (see the module docstring)."""

    @override
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED)
            raise UnsafePickleError(
                f"refused to load global {module}.{name}: this file's pickle wants to call code that a weight file "
                f"never needs (allowed: {allowed}). The file is not a plain weight dict; do not load it with "
                f"np.load(allow_pickle=True) either."
            ) from None

    @override
    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"refused persistent id {pid!r}: weight files have none")


def restricted_loads(data: bytes) -> Any:
    """Unpickle bytes with the allow-list; Python 2 strings decode as latin-1."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()


def _read_header(handle: BinaryIO, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npy_format.read_magic(handle)
    except ValueError as exc:
        raise FileFormatError(f"not a .npy file ({exc})", source=name, fix="pass the .npy file itself") from None
    if version == (1, 0):
        return npy_format.read_array_header_1_0(handle, max_header_size=MAX_HEADER_SIZE)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(handle, max_header_size=MAX_HEADER_SIZE)
    raise FileFormatError(f"uses .npy format version {version[0]}.{version[1]}; only 1.0 and 2.0 are read", source=name)


def load_npy(source: str | os.PathLike[str] | BinaryIO, name: str | None = None) -> Any:
    """Load a ``.npy`` file; an object array's pickled payload goes through :class:`RestrictedUnpickler`.

    Args:
        source: the file's path, or a binary file opened on it (e.g. a zip member, read in place).
        name: what messages call the file (default: its path).

    Returns:
        The array (for a 0-d object array holding a dict, as ``np.save(path, some_dict)`` writes, that is the
        array; take the dict with ``.item()``).

    Raises:
        UnsafePickleError: the pickle wants a global outside the allow-list (nothing from the file ran).
        FileFormatError: not a ``.npy`` file, or a truncated or corrupt one.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        with open(path, "rb") as handle:
            return load_npy(handle, name or str(path))
    name = name or str(getattr(source, "name", "the .npy file"))
    try:
        shape, _, dtype = _read_header(source, name)
        if not dtype.hasobject:  # a plain numeric array: nothing pickled
            source.seek(0)
            return np.load(source, allow_pickle=False)
        array = RestrictedUnpickler(source, encoding="latin1").load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(exc.what, source=name, fix="do not load this file") from None
    except FileFormatError:
        raise
    except Exception as exc:  # truncated or malformed headers and pickle streams raise many exception types
        raise FileFormatError(
            f"the .npy file is corrupt or truncated ({type(exc).__name__}: {exc})", source=name,
            fix="download or copy it again",
        ) from None
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise FileFormatError(f"the pickled payload is not the {list(shape)} array its header announces", source=name)
    return array


__all__ = ["RestrictedUnpickler", "UnsafePickleError", "load_npy", "restricted_loads"]
