"""Principle 5: hostile archives cannot exhaust the machine.

The release zip is read in place (nothing is extracted, so nothing is left behind after any failure), its listing
is checked against what a real release can hold, an index is never read beyond what an index can be, shapes are
checked before tensor bytes are read, and corruption anywhere is one clear error naming the archive.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_checks import one_error_line
from tf_bundle_writer import write_tf_checkpoint

from depthzoo.formats.tf_checkpoint import TFCheckpoint


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _checkpoint_members(folder: Path, tensors: dict[str, np.ndarray]) -> dict[str, bytes]:
    prefix = write_tf_checkpoint(folder / "NYU_FCRN.ckpt", tensors)
    return {f"NYU_FCRN.ckpt{s}": Path(f"{prefix}{s}").read_bytes() for s in (".index", ".data-00000-of-00001")}


def test_an_oversized_member_is_refused_before_it_is_read_and_nothing_is_extracted(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listed: a 1 MB zip holding a 1 GiB member was extracted whole, left 1.1 GB behind and was read into memory."""
    import depthzoo.formats.tf_checkpoint

    release = tmp_path / "release"
    release.mkdir()
    bomb = _zip(release / "bomb.zip", {"NYU_FCRN.ckpt.index": bytes(64 << 20)}, zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 1 << 20
    status, err = cli("convert-fcrn", bomb, tmp_path / "out.safetensors")
    assert status == 2 and "expands" in one_error_line(err) and "bomb.zip" in err
    monkeypatch.setattr(depthzoo.formats.tf_checkpoint, "MAX_INDEX_BYTES", 1 << 20)  # a smaller bound, same rule
    big = _zip(release / "big.zip", {"NYU_FCRN.ckpt.index": os.urandom(2 << 20)})
    status, err = cli("convert-fcrn", big, tmp_path / "out.safetensors")
    assert status == 2 and "is 2,097,152 bytes; a checkpoint index" in one_error_line(err)
    assert sorted(p.name for p in release.iterdir()) == ["big.zip", "bomb.zip"]  # nothing extracted or left
    assert not (tmp_path / "out.safetensors").exists()


def test_corrupt_archives_are_one_clear_error(cli, tmp_path: Path) -> None:
    """Listed: a corrupt or truncated zip gave a raw BadZipFile traceback."""
    members = _checkpoint_members(tmp_path, {"conv1/biases": np.zeros(64, np.float32)})
    whole = _zip(tmp_path / "whole.zip", members, zipfile.ZIP_DEFLATED)
    (tmp_path / "cut.zip").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    status, err = cli("convert-fcrn", tmp_path / "cut.zip", tmp_path / "out.safetensors")
    assert status == 2 and "not a readable zip archive" in one_error_line(err) and "cut.zip" in err
    data = bytearray(whole.read_bytes())
    with zipfile.ZipFile(whole) as archive:  # garble the deflate stream of the index, keep the listing intact
        info = archive.getinfo("NYU_FCRN.ckpt.index")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + info.compress_size] = bytes([0xFF]) * info.compress_size
    (tmp_path / "garbled.zip").write_bytes(bytes(data))
    status, err = cli("convert-fcrn", tmp_path / "garbled.zip", tmp_path / "out.safetensors")
    assert status == 2 and "the archive is corrupt" in one_error_line(err) and "garbled.zip" in err


def test_a_truncated_checkpoint_index_is_reported_as_truncated(tmp_path: Path) -> None:
    """Listed: a truncated TF index was reported as "bad magic number" rather than as truncated."""
    from depthzoo.formats.tf_checkpoint import CheckpointFormatError

    prefix = write_tf_checkpoint(tmp_path / "m.ckpt", {"a": np.zeros(4, np.float32), "b": np.ones(3, np.float32)})
    index = Path(f"{prefix}.index")
    index.write_bytes(index.read_bytes()[:-20])
    with pytest.raises(CheckpointFormatError, match=r"m\.ckpt\.index is truncated.*download the checkpoint again"):
        TFCheckpoint(prefix)


def test_a_release_that_fails_any_check_leaves_nothing_behind(cli, tmp_path: Path) -> None:
    """Not listed: a well-formed zip whose checkpoint is not FCRN's fails on its shapes, before any tensor is read,
    and the folder of the zip is left exactly as it was."""
    members = _checkpoint_members(tmp_path, {"conv1/weights": np.zeros((3, 3, 3, 8), np.float32)})
    release = tmp_path / "release"
    release.mkdir()
    _zip(release / "NYU_FCRN-checkpoint.zip", members)
    status, err = cli("convert-fcrn", release / "NYU_FCRN-checkpoint.zip", tmp_path / "out.safetensors")
    line = one_error_line(err)
    assert status == 2 and "wrong shape conv1/weights [3, 3, 3, 8] (official: [7, 7, 3, 64])" in line
    assert [p.name for p in release.iterdir()] == ["NYU_FCRN-checkpoint.zip"]
