"""File helpers: atomic writes that never leave partial files or replace what was not asked, and safe unzipping."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from depthzoo.errors import OutputExistsError
from depthzoo.utils.files import ArchiveError, atomic_path, atomic_write, check_output_path, sha256_file, unpack_zip


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
    with pytest.raises(FileExistsError, match="holds other files.*pass another target folder"):
        unpack_zip(archive)
    assert (folder / "a.index").read_bytes() == b"1"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left behind


@pytest.mark.parametrize("name", ["../escape.txt", "/abs/path.txt", "dir/../../up.txt"])
def test_unpack_zip_refuses_paths_outside_its_folder(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "evil.zip", {"ok.txt": b"1", name: b"2"})
    with pytest.raises(ValueError, match="outside its folder"):
        unpack_zip(archive)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "evil").exists()


def test_atomic_write_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.bin"
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_write(target) as handle:
            handle.write(b"partial")
            raise RuntimeError("interrupted")
    assert not target.exists() and list((tmp_path / "sub").iterdir()) == []  # no temporary file left
    with atomic_write(target) as handle:
        handle.write(b"whole")
    assert target.read_bytes() == b"whole"


def test_an_existing_output_is_replaced_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("the user's file")
    with pytest.raises(OutputExistsError, match=r"exists already .*out\.txt.*--overwrite"):
        with atomic_write(target, "w") as handle:
            handle.write("new")
    assert target.read_text() == "the user's file"
    with atomic_write(target, "w", overwrite=True) as handle:
        handle.write("new")
    assert target.read_text() == "new"


def test_folders_and_special_files_are_never_replaced(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a folder"):
        check_output_path(tmp_path, overwrite=True)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputExistsError, match="not a regular file"):
        check_output_path(fifo, overwrite=True)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_atomic_path_serves_writers_that_take_a_path(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "x.npy") as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".x.npy.")
        temporary.write_bytes(b"npy")
    assert (tmp_path / "x.npy").read_bytes() == b"npy" and len(list(tmp_path.iterdir())) == 1


def test_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(10_000)
    (tmp_path / "blob").write_bytes(data)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


def test_corrupt_and_bomb_archives_are_refused_cleanly(tmp_path: Path) -> None:
    (tmp_path / "cut.zip").write_bytes(_zip(tmp_path / "whole.zip", {"a.bin": b"x" * 1000}).read_bytes()[:50])
    with pytest.raises(ArchiveError, match=r"not a readable zip archive .*cut\.zip.*fetch it again"):
        unpack_zip(tmp_path / "cut.zip")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", bytes(4 << 20))
    with pytest.raises(ArchiveError, match="expands .*-fold"):
        unpack_zip(bomb)
    with pytest.raises(ArchiveError, match="would expand to"):
        unpack_zip(bomb, max_total_bytes=1 << 20, max_ratio=1e9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip", "cut.zip", "whole.zip"]  # nothing extracted
