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

import errno
import hashlib
import os
import shutil
import stat
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any

from depthzoo.errors import (
    DepthzooError,
    InvalidArgumentError,
    OutputExistsError,
    OutputWriteError,
    listing,
)

_CHUNK = 1 << 22
OVERWRITE_FLAG = "--overwrite (overwrite=True)"


class OutputIsFolderError(OutputExistsError, IsADirectoryError):
    """The output path names an existing folder."""


def check_output_path(path: str | os.PathLike[str], overwrite: bool = False, flag: str = OVERWRITE_FLAG) -> Path:
    """The output ``path``, after checking that writing it destroys nothing the user did not ask to replace.

    Args:
        path: the file to be written.
        overwrite: whether an existing regular file may be replaced.
        flag: how the user asks for ``overwrite`` (named in the message).

    Raises:
        OutputExistsError: it exists and ``overwrite`` is False, or it exists and is not a regular file (a folder,
            a device, a pipe), which is never replaced.
        OutputWriteError: its folder cannot be written or created (:func:`check_output_folder`).
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
            raise OutputExistsError("the output exists already", source=path, fix=f"pass {flag} to replace it")
    check_output_folder(path.parent)
    return path


def check_output_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder``, after checking that outputs can be written there: a writable folder, or one that can be created.

    Nothing is created: this is the check to run before any slow work (loading a model, reading data).

    Raises:
        OutputWriteError: the folder or one of its parents is a file, or the nearest existing folder is read-only.
    """
    folder = Path(folder).expanduser()
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    inside = "" if existing == folder else f" (its nearest existing parent is {existing})"
    if not existing.is_dir():
        raise OutputWriteError(
            f"cannot use the output folder: {existing} is a file", source=folder, fix="choose another output folder"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputWriteError(
            f"the output folder is not writable{inside}", source=folder, fix="choose a folder you can write to"
        )
    return folder


def _identity(path: Path) -> tuple[str, tuple[int, int] | None]:
    """The real path and, for existing files, (device, inode): what tells two names of one file apart."""
    try:
        info = os.stat(path)
        inode = (info.st_dev, info.st_ino)
    except OSError:
        inode = None
    return os.path.realpath(path), inode


def check_outputs(
    paths: Iterable[str | os.PathLike[str]],
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    flag: str = OVERWRITE_FLAG,
) -> list[Path]:
    """Check a whole set of outputs before anything is written, so a run fails at once instead of half way.

    Refused, each with every offending name: two outputs with one path; an output that is one of the ``inputs``
    (through any name or link; never replaced, even with ``overwrite``); an output that exists and is not a regular
    file; an existing output unless ``overwrite``; a folder that cannot be written (:func:`check_output_folder`).

    Args:
        paths: the files to be written.
        overwrite: whether existing regular files may be replaced.
        inputs: files the run reads; an output may never be one of them.
        flag: how the user asks for ``overwrite`` (named in the message).

    Returns:
        The output paths.
    """
    paths = [Path(p).expanduser() for p in paths]
    if not paths:
        return paths
    folder = Path(os.path.commonpath([os.path.abspath(p.parent) for p in paths]))

    def names(found: list[Path]) -> str:
        return listing([os.path.relpath(os.path.abspath(p), folder) for p in found])

    real = [os.path.realpath(p) for p in paths]
    repeated = sorted({p for p, r in zip(paths, real, strict=True) if real.count(r) > 1})
    if repeated:
        raise InvalidArgumentError(
            f"several outputs would be written to the same file: {names(repeated)}", source=folder,
            fix="give the inputs distinct names",
        )
    taken = [_identity(Path(p)) for p in inputs]
    input_paths = {r for r, _ in taken}
    input_inodes = {i for _, i in taken if i is not None}
    clashes = [p for p, r in zip(paths, real, strict=True) if r in input_paths or _identity(p)[1] in input_inodes]
    if clashes:
        raise OutputExistsError(
            f"the outputs would replace inputs: {names(clashes)}", source=folder,
            fix="write the outputs to a folder that holds no input, or rename the inputs",
        )
    for parent in sorted({p.parent for p in paths}):
        check_output_folder(parent)
    special = [p for p in paths if p.is_dir() or (p.exists() and not stat.S_ISREG(os.stat(p).st_mode))]
    if special:
        raise OutputExistsError(
            f"outputs exist that are not regular files, which are never replaced: {names(special)}", source=folder,
            fix="choose another output folder",
        )
    existing = [p for p in paths if os.path.lexists(p)]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{len(existing)} output(s) exist already: {names(existing)}", source=folder,
            fix=f"pass {flag} to replace them, or choose another output folder",
        )
    return paths


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputWriteError(
            f"cannot create the output folder ({exc.strerror or exc})", source=folder,
            fix="choose another output folder",
        ) from None


_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)
_NO_RIGHTS = (errno.EACCES, errno.EPERM, errno.EROFS)


def write_error(exc: OSError, path: str | os.PathLike[str] | None) -> OutputWriteError:
    """The :class:`OutputWriteError` for an ``OSError`` raised while writing ``path`` (errno kept)."""
    if exc.errno in _NO_SPACE:
        fix = "free some disk space, or write to another disk"
    elif exc.errno in _NO_RIGHTS:
        fix = "choose a folder you can write to"
    else:
        fix = "check the disk and the output folder"
    error = OutputWriteError(f"cannot write the output ({exc.strerror or exc})", source=path, fix=fix)
    error.errno, error.strerror = exc.errno, exc.strerror
    error.filename = None if path is None else os.fspath(path)
    return error


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
def atomic_paths(
    paths: Sequence[str | os.PathLike[str]],
    overwrite: bool = False,
    flag: str = OVERWRITE_FLAG,
    keep_suffix: bool = False,
) -> Iterator[list[Path]]:
    """Yield a temporary path beside each of ``paths`` for writers to fill; on success all are renamed together.

    The outputs of one item (a depth map's ``.npy`` and its pictures) thus appear as a set: if any write fails (a
    full disk, an interruption), every temporary file is removed and no output of the set is touched. Missing parent
    folders are created. Errors of the file system become :class:`~depthzoo.errors.OutputWriteError` naming the file.

    Args:
        paths: the final files.
        overwrite: whether existing regular files may be replaced (folders, devices and pipes never are).
        flag: how the user asks for ``overwrite`` (named in the message).
        keep_suffix: end each temporary name with its file's suffix too, for writers that choose the format by it
            (video writers).
    """
    paths = [check_output_path(p, overwrite, flag) for p in paths]
    for folder in sorted({p.parent for p in paths}):
        _make_folder(folder)
    tag = uuid.uuid4().hex[:12]
    temporaries = [p.with_name(f".{p.name}.{tag}.tmp{p.suffix if keep_suffix else ''}") for p in paths]
    current = paths[0] if len(paths) == 1 else paths[0].parent if paths else None  # what a failure names
    try:
        yield temporaries
        for temporary, path in zip(temporaries, paths, strict=True):
            current = path
            if not temporary.is_file():
                raise RuntimeError(f"the writer of {path} left no file at {temporary}")
            with open(temporary, "rb") as handle:
                os.fsync(handle.fileno())
        for path in paths:  # the checks again: something may have appeared meanwhile
            check_output_path(path, overwrite, flag)
        for temporary, path in zip(temporaries, paths, strict=True):
            current = path
            os.replace(temporary, path)
    except DepthzooError:
        _remove(temporaries)
        raise
    except OSError as exc:
        _remove(temporaries)
        raise write_error(exc, current) from exc
    except BaseException:
        _remove(temporaries)
        raise
    for folder in sorted({p.parent for p in paths}):
        fsync_directory(folder)


def _remove(temporaries: list[Path]) -> None:
    for temporary in temporaries:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass


@contextmanager
def atomic_path(
    path: str | os.PathLike[str], overwrite: bool = False, flag: str = OVERWRITE_FLAG, keep_suffix: bool = False
) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer to fill; on success it is renamed onto ``path``.

    For libraries that write to a path themselves (safetensors, ``torch.save``, h5py, video writers: those that
    pick the format by the suffix get it with ``keep_suffix``). On any error, or an interruption, the temporary file
    is removed and ``path`` is left as it was. Missing parent folders are created. See :func:`atomic_paths` for
    several files that must appear together.
    """
    with atomic_paths([path], overwrite, flag, keep_suffix) as (temporary,):
        yield temporary


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", overwrite: bool = False) -> Iterator[IO[Any]]:
    """``open(path, mode)`` that appears atomically at ``path`` when the block ends without an error."""
    if not mode.startswith("w"):
        raise InvalidArgumentError(f"atomic_write writes new files; mode must start with 'w', got {mode!r}")
    with atomic_path(path, overwrite) as temporary, open(temporary, mode) as handle:
        yield handle
        handle.flush()


class OutputFolder:
    """A folder that receives one set of files per named item (an input image), each set written atomically.

    Every prediction writer goes through one of these, so each output it adds gets the same guarantees: all
    outputs are checked before any work (:meth:`check`: nothing exists unless ``overwrite``, never an input, never
    a folder or device), and each item's files appear together or not at all (:meth:`write`).

    >>> import tempfile
    >>> outputs = OutputFolder(tempfile.mkdtemp())
    >>> outputs.check(["a"], [".txt"])
    >>> with outputs.write("a", [".txt"]) as files:
    ...     _ = files[".txt"].write_text("depth")
    >>> outputs.check(["a"], [".txt"])
    Traceback (most recent call last):
    ...
    depthzoo.errors.OutputExistsError: 1 output(s) exist already: a.txt (...): pass --overwrite (overwrite=True) ...

    Args:
        folder: where the files go (created when the first set is written).
        overwrite: replace existing regular files.
        flag: how the user asks for ``overwrite``, named in messages (e.g. ``--writer.overwrite true``).
    """

    def __init__(self, folder: str | os.PathLike[str], overwrite: bool = False, flag: str = OVERWRITE_FLAG) -> None:
        self.folder = Path(folder).expanduser()
        self.overwrite = overwrite
        self.flag = flag

    def paths(self, name: str, suffixes: Sequence[str]) -> list[Path]:
        """The files of item ``name``: ``folder/name + suffix`` for each suffix (``name`` may hold sub-folders)."""
        base = self.folder / name
        return [base.with_name(base.name + suffix) for suffix in suffixes]

    def check(
        self, names: Iterable[str], suffixes: Sequence[str], inputs: Iterable[str | os.PathLike[str]] = ()
    ) -> None:
        """Check every output of every item before any work (see :func:`check_outputs`)."""
        check_output_folder(self.folder)
        check_outputs([p for name in names for p in self.paths(name, suffixes)], self.overwrite, inputs, self.flag)

    @contextmanager
    def write(self, name: str, suffixes: Sequence[str]) -> Iterator[dict[str, Path]]:
        """Temporary paths (by suffix) for item ``name``'s files; they appear together when the block succeeds."""
        with atomic_paths(self.paths(name, suffixes), self.overwrite, self.flag) as temporaries:
            yield dict(zip(suffixes, temporaries, strict=True))


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


_CORRUPT_FIX = "the download is truncated or corrupt; fetch it again"
_NOT_A_RELEASE_FIX = "this is not the expected file; download the release again"


def _check_listing(path: Path, members: list[zipfile.ZipInfo], max_total_bytes: int, max_ratio: float) -> None:
    """Refuse unsafe member paths, a total beyond ``max_total_bytes`` and members expanding beyond ``max_ratio``."""
    for member in members:
        _member_path(path, member)
    total = sum(m.file_size for m in members)
    if total > max_total_bytes:
        raise ArchiveError(
            f"the archive would expand to {total:,} bytes, more than the {max_total_bytes:,} a release holds",
            source=path,
            fix=_NOT_A_RELEASE_FIX,
        )
    for member in members:
        if member.file_size > max_ratio * max(member.compress_size, 1) and member.file_size > 1 << 20:
            raise ArchiveError(
                f"member {member.filename!r} expands {member.file_size / max(member.compress_size, 1):.0f}-fold "
                f"({member.file_size:,} bytes), which no genuine release does",
                source=path,
                fix=_NOT_A_RELEASE_FIX,
            )


@contextmanager
def open_zip(
    path: str | os.PathLike[str], max_total_bytes: int = 4 << 30, max_ratio: float = 200.0
) -> Iterator[zipfile.ZipFile]:
    """A zip archive opened for reading its members in place (no extraction), after its listing was checked.

    The listing must be safe (:func:`unpack_zip` names the checks). Corruption found while the block reads members
    (a bad CRC, a truncated deflate stream) is raised as :class:`ArchiveError` naming the archive.

    Raises:
        ArchiveError: corrupt or truncated archive, unsafe member path, or sizes beyond the limits.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ArchiveError("no such zip file", source=path, fix="check the path")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"not a readable zip archive ({exc})", source=path, fix=_CORRUPT_FIX) from None
    with archive:
        _check_listing(path, [m for m in archive.infolist() if not m.is_dir()], max_total_bytes, max_ratio)
        try:
            yield archive
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:
            raise ArchiveError(f"the archive is corrupt ({exc})", source=path, fix=_CORRUPT_FIX) from None


def unpack_zip(
    path: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    max_total_bytes: int = 4 << 30,
    max_ratio: float = 200.0,
) -> Path:
    """Extract a zip into ``target`` (default: a folder beside it, ``X.zip`` -> ``X/``) and return the folder.

    A folder whose files already match the zip's listing (names and sizes) is reused; a folder that holds anything
    else is never touched. Before anything is written, the listing is checked: member paths must stay inside the
    folder, the uncompressed total must not pass ``max_total_bytes`` and no member may expand more than
    ``max_ratio`` times (a decompression bomb). Extraction goes to a temporary folder that is renamed at the end and
    removed after any failure, so no partial folder is left. Readers that can take members in place should use
    :func:`open_zip` instead, which writes nothing.

    Raises:
        ArchiveError: corrupt or truncated archive, unsafe member path, or sizes beyond the limits.
        OutputExistsError: ``target`` exists and holds other files than the archive.
    """
    path = Path(path).expanduser()
    folder = Path(target).expanduser() if target is not None else path.with_suffix("")
    with open_zip(path, max_total_bytes, max_ratio) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        relatives = [_member_path(path, m) for m in members]
        if folder.is_dir() and all(
            (folder / rel).is_file() and (folder / rel).stat().st_size == m.file_size
            for rel, m in zip(relatives, members, strict=True)
        ):
            return folder
        if os.path.lexists(folder):
            raise OutputExistsError(
                f"cannot unpack {path.name} into {folder.name}/: that folder exists and holds other files, which "
                f"are left as they are",
                source=folder,
                fix="pass another target folder to unpack into",
            )
        _make_folder(folder.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            for rel, member in zip(relatives, members, strict=True):
                destination = staging.joinpath(*rel.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
            os.replace(staging, folder)
        except OSError as exc:
            raise write_error(exc, folder) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


__all__ = [
    "ArchiveError",
    "OutputFolder",
    "OutputIsFolderError",
    "atomic_path",
    "atomic_paths",
    "atomic_write",
    "check_output_folder",
    "check_output_path",
    "check_outputs",
    "open_zip",
    "fsync_directory",
    "sha256_file",
    "unpack_zip",
    "write_error",
]
