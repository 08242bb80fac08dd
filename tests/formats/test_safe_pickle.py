"""The restricted .npy unpickler: arrays, dicts and strings load; any other global is refused before it runs."""

from __future__ import annotations

import builtins
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from fcrn_fixtures import write_npy_protocol2, write_npy_python2

from depthzoo.formats.safe_pickle import UnsafePickleError, load_npy, restricted_loads


def test_dict_of_arrays_in_both_pickle_dialects(tmp_path: Path) -> None:
    payload = {"layer": {"weights": np.arange(6, dtype=np.float32).reshape(2, 3), "biases": np.array([1.5, -2.0])}}
    for path in (write_npy_python2(tmp_path / "a.npy", payload), write_npy_protocol2(tmp_path / "b.npy", payload)):
        loaded = load_npy(path)
        assert loaded.shape == () and loaded.dtype == object
        layer = loaded.item()["layer"]
        np.testing.assert_array_equal(layer["weights"], payload["layer"]["weights"])
        assert layer["biases"].dtype == np.float64 and layer["biases"].tolist() == [1.5, -2.0]


def test_numpy_default_np_save_also_loads(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", {"x": np.ones(3, np.float32)}, allow_pickle=True)
    assert load_npy(tmp_path / "c.npy").item()["x"].tolist() == [1.0, 1.0, 1.0]


def test_plain_arrays_load_without_any_pickle(tmp_path: Path) -> None:
    np.save(tmp_path / "plain.npy", np.arange(4.0))
    assert load_npy(tmp_path / "plain.npy").tolist() == [0.0, 1.0, 2.0, 3.0]


class _System:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _Eval:
    def __reduce__(self):
        return (builtins.eval, ("__import__('os').getcwd()",))


class _NumpyLoad:
    def __reduce__(self):
        return (np.load, ("/nonexistent.npy",))


@pytest.mark.parametrize(
    ("payload_factory", "refused"),
    [
        (lambda marker: {"w": _System(f"touch {marker}")}, r"(posix|nt)\.system"),
        (lambda marker: [_Eval()], r"(__builtin__|builtins)\.eval"),
        (lambda marker: {"w": _NumpyLoad()}, r"numpy\.load"),
    ],
)
def test_foreign_globals_are_refused_and_never_run(tmp_path: Path, payload_factory, refused: str) -> None:
    marker = tmp_path / "ran"
    path = write_npy_protocol2(tmp_path / "evil.npy", payload_factory(marker))
    with pytest.raises(UnsafePickleError, match=f"refused to load global {refused}"):
        load_npy(path)
    assert not marker.exists()


def test_codecs_encode_is_narrowed_to_latin1() -> None:
    assert restricted_loads(pickle.dumps(b"\x00\xffab", protocol=2)) == b"\x00\xffab"  # _codecs.encode(..., 'latin1')
    crafted = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00zlib\x86R."
    with pytest.raises(UnsafePickleError, match="only latin-1"):
        restricted_loads(crafted)


def test_not_npy_and_corrupt_payloads(tmp_path: Path) -> None:
    (tmp_path / "text.npy").write_text("hello")
    with pytest.raises(ValueError, match=r"not a \.npy file .*text\.npy"):
        load_npy(tmp_path / "text.npy")
    good = write_npy_protocol2(tmp_path / "good.npy", {"a": np.zeros(100)})
    (tmp_path / "cut.npy").write_bytes(good.read_bytes()[:-200])
    with pytest.raises(ValueError, match=r"corrupt or truncated .*cut\.npy"):
        load_npy(tmp_path / "cut.npy")
