"""Files: atomic writes, output checks, hashing and safe unzipping, shared by every reader and writer.

Every file depthzoo writes appears atomically: it is written to a hidden temporary file in the destination folder,
flushed to disk and renamed onto its name, so an interrupted run never leaves a partial file. An existing output is
replaced only when the caller asks (``overwrite=True``), and then only if it is a regular file.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_write(folder / "a.txt", "w") as handle:
...     _ = handle.write("hello")
>>> (folder / "a.txt").read_text()
'hello'
>>> with atomic_write(folder / "a.txt", "w") as handle:
...     pass
Traceback (most recent call last):
...
depthzoo.errors.OutputExistsError: the output exists already (...a.txt): pass --overwrite (overwrite=True) to replace it
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any

from depthzoo.errors import DepthzooError, InvalidArgumentError, OutputExistsError

_CHUNK = 1 << 22


class OutputIsFolderError(OutputExistsError, IsADirectoryError):
    """The output path names an existing folder."""


def check_output_path(path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """The output ``path``, after checking that writing it destroys nothing the user did not ask to replace.

    Raises:
        OutputExistsError: it exists and ``overwrite`` is False, or it exists and is not a regular file (a folder,
            a device, a pipe), which is never replaced.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputIsFolderError("the output is a folder", source=path, fix="pass a file path inside it")
    if os.path.lexists(path):
        mode = os.stat(path).st_mode if path.exists() else 0
        if path.exists() and not stat.S_ISREG(mode):
            raise OutputExistsError(
                "the output exists and is not a regular file", source=path, fix="choose another output path"
            )
        if not overwrite:
            raise OutputExistsError(
                "the output exists already", source=path, fix="pass --overwrite (overwrite=True) to replace it"
            )
    return path


def fsync_directory(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable (no-op where folders cannot be opened, e.g. on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer to fill; on success it is renamed onto ``path``.

    For libraries that write to a path themselves (safetensors, ``torch.save``, h5py). On any error, or an
    interruption, the temporary file is removed and ``path`` is left as it was. Missing parent folders are created.
    """
    path = check_output_path(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield temporary
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        check_output_path(path, overwrite)  # the check again: something may have appeared meanwhile
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", overwrite: bool = False) -> Iterator[IO[Any]]:
    """``open(path, mode)`` that appears atomically at ``path`` when the block ends without an error."""
    if not mode.startswith("w"):
        raise InvalidArgumentError(f"atomic_write writes new files; mode must start with 'w', got {mode!r}")
    with atomic_path(path, overwrite) as temporary, open(temporary, mode) as handle:
        yield handle
        handle.flush()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ArchiveError(DepthzooError, ValueError):
    """A zip archive is corrupt, truncated, or holds what no genuine release holds (unsafe paths, huge members)."""


def _member_path(archive: Path, member: zipfile.ZipInfo) -> PurePosixPath:
    relative = PurePosixPath(member.filename)
    if relative.is_absolute() or ".." in relative.parts or ":" in member.filename or "\\" in member.filename:
        raise ArchiveError(
            f"refused to unpack {member.filename!r}: it names a path outside its folder",
            source=archive,
            fix="this is not a genuine release; download it again from the source the documentation names",
        )
    return relative


def unpack_zip(
    path: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    max_total_bytes: int = 4 << 30,
    max_ratio: float = 200.0,
) -> Path:
    """Extract a zip into ``target`` (default: a folder beside it, ``X.zip`` -> ``X/``) and return the folder.

    A folder whose files already match the zip's listing (names and sizes) is reused. Before anything is written,
    the listing is checked: member paths must stay inside the folder, the uncompressed total must not pass
    ``max_total_bytes`` and no member may expand more than ``max_ratio`` times (a decompression bomb). Extraction
    goes to a temporary folder that is renamed at the end and removed after any failure, so no partial folder is left.

    Raises:
        ArchiveError: corrupt or truncated archive, unsafe member path, or sizes beyond the limits.
        OutputExistsError: ``target`` exists and does not match the archive.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ArchiveError("no such zip file", source=path, fix="check the path")
    folder = Path(target).expanduser() if target is not None else path.with_suffix("")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(
            f"not a readable zip archive ({exc})",
            source=path,
            fix="the download is truncated or corrupt; fetch it again",
        ) from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        relatives = [_member_path(path, m) for m in members]
        total = sum(m.file_size for m in members)
        if total > max_total_bytes:
            raise ArchiveError(
                f"the archive would expand to {total:,} bytes, more than the {max_total_bytes:,} a release holds",
                source=path,
                fix="this is not the expected file; download the release again",
            )
        for member in members:
            if member.file_size > max_ratio * max(member.compress_size, 1) and member.file_size > 1 << 20:
                raise ArchiveError(
                    f"member {member.filename!r} expands {member.file_size / max(member.compress_size, 1):.0f}-fold "
                    f"({member.file_size:,} bytes), which no genuine release does",
                    source=path,
                    fix="this is not the expected file; download the release again",
                )
        if folder.is_dir() and all(
            (folder / rel).is_file() and (folder / rel).stat().st_size == m.file_size
            for rel, m in zip(relatives, members, strict=True)
        ):
            return folder
        if os.path.lexists(folder):
            raise OutputExistsError(
                f"cannot unpack: the folder exists and does not match {path.name}",
                source=folder,
                fix=f"move that folder away, or extract {path.name} yourself and pass the extracted folder",
            )
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            for rel, member in zip(relatives, members, strict=True):
                destination = staging.joinpath(*rel.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
            os.replace(staging, folder)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
            raise ArchiveError(
                f"the archive is corrupt ({exc})",
                source=path,
                fix="the download is truncated or corrupt; fetch it again",
            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


__all__ = [
    "ArchiveError",
    "OutputIsFolderError",
    "atomic_path",
    "atomic_write",
    "check_output_path",
    "fsync_directory",
    "sha256_file",
    "unpack_zip",
]
