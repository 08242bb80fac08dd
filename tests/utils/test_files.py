"""File helpers: atomic writes that never leave partial files or replace what was not asked, and safe unzipping."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from depthzoo.utils.files import unpack_zip


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_unpack_zip_beside_itself_and_reuse(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "release.zip", {"a.index": b"12345", "sub/b.data": b"xyz"})
    folder = unpack_zip(archive)
    assert folder == tmp_path / "release" and (folder / "sub" / "b.data").read_bytes() == b"xyz"
    stamp = (folder / "a.index").stat().st_mtime_ns
    assert unpack_zip(archive) == folder and (folder / "a.index").stat().st_mtime_ns == stamp  # reused
    (folder / "a.index").write_bytes(b"1")
    with pytest.raises(FileExistsError, match="does not match release.zip"):
        unpack_zip(archive)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left behind


@pytest.mark.parametrize("name", ["../escape.txt", "/abs/path.txt", "dir/../../up.txt"])
def test_unpack_zip_refuses_paths_outside_its_folder(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "evil.zip", {"ok.txt": b"1", name: b"2"})
    with pytest.raises(ValueError, match="outside its folder"):
        unpack_zip(archive)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "evil").exists()
