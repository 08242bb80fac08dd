"""TensorFlow checkpoints read without TensorFlow.

The V2 "tensor bundle" is ``PREFIX.index`` + ``PREFIX.data-NNNNN-of-NNNNN``.

The ``.index`` file is a sorted-string table (:mod:`depthzoo.formats.sstable`). Its entry with the empty key holds a
serialised ``BundleHeaderProto`` (num_shards = 1, endianness = 2, version = 3); every other key is a tensor name
whose value is a ``BundleEntryProto``: dtype = 1, shape = 2 (``TensorShapeProto``: repeated dim = 2, each with
size = 1), shard_id = 3, offset = 4, size = 5, crc32c = 6 (masked CRC-32C of the tensor bytes, fixed32), slices = 7.
A tensor's bytes are raw little-endian values at ``offset`` in its data shard. Only the protobuf wire format is
needed to decode these messages, so a minimal varint decoder replaces the protobuf library.

The files are read through a small interface (:class:`DiskFiles`, or :class:`ZipMembers` for a checkpoint inside a
zip archive, read in place without extracting anything).
"""

from __future__ import annotations

import math
import os
import re
import struct
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import BinaryIO

import numpy as np

from depthzoo.errors import FileFormatError, WeightsNotFoundError
from depthzoo.formats.crc32c import crc32c, unmask
from depthzoo.formats.sstable import Table, TableFormatError, read_varint

SUPPORTED_BUNDLE_VERSION = 1
MAX_INDEX_BYTES = 64 << 20  # an index lists names, shapes and offsets: a few kB per thousand tensors
_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")

# TensorFlow DataType enum values -> (name, little-endian numpy dtype or None when NumPy has no equivalent).
TF_DTYPES: dict[int, tuple[str, str | None]] = {
    1: ("float32", "<f4"),
    2: ("float64", "<f8"),
    3: ("int32", "<i4"),
    4: ("uint8", "|u1"),
    5: ("int16", "<i2"),
    6: ("int8", "|i1"),
    7: ("string", None),
    8: ("complex64", "<c8"),
    9: ("int64", "<i8"),
    10: ("bool", "|b1"),
    14: ("bfloat16", None),
    17: ("uint16", "<u2"),
    18: ("complex128", "<c16"),
    19: ("float16", "<f2"),
    20: ("resource", None),
    21: ("variant", None),
    22: ("uint32", "<u4"),
    23: ("uint64", "<u8"),
}


class CheckpointFormatError(FileFormatError):
    """A checkpoint file is malformed, truncated, corrupt, or uses a feature this reader does not support."""


def parse_message(buf: bytes, what: str) -> dict[int, list[int | bytes]]:
    """Protobuf wire format -> {field number: [values]} (varints and fixed ints as int, length-delimited as bytes)."""
    fields: dict[int, list[int | bytes]] = defaultdict(list)
    pos = 0
    try:
        while pos < len(buf):
            tag, pos = read_varint(buf, pos, f"{what} field tag")
            number, wire_type = tag >> 3, tag & 7
            value: int | bytes
            if wire_type == 0:
                value, pos = read_varint(buf, pos, f"{what} field {number}")
            elif wire_type == 1:
                if pos + 8 > len(buf):
                    raise CheckpointFormatError(f"{what}: truncated 64-bit field {number}")
                (value,) = struct.unpack_from("<Q", buf, pos)
                pos += 8
            elif wire_type == 2:
                length, pos = read_varint(buf, pos, f"{what} field {number} length")
                if pos + length > len(buf):
                    raise CheckpointFormatError(f"{what}: field {number} of {length} bytes runs past the message")
                value = bytes(buf[pos : pos + length])
                pos += length
            elif wire_type == 5:
                if pos + 4 > len(buf):
                    raise CheckpointFormatError(f"{what}: truncated 32-bit field {number}")
                (value,) = struct.unpack_from("<I", buf, pos)
                pos += 4
            else:
                raise CheckpointFormatError(f"{what}: unsupported protobuf wire type {wire_type} (field {number})")
            if number == 0:
                raise CheckpointFormatError(f"{what}: field number 0 is invalid; not a protobuf message")
            fields[number].append(value)
    except TableFormatError as exc:
        raise CheckpointFormatError(str(exc)) from exc
    return fields


def _last_int(fields: dict[int, list[int | bytes]], number: int, default: int = 0, signed: bool = True) -> int:
    values = [v for v in fields.get(number, []) if isinstance(v, int)]
    if not values:
        return default
    value = values[-1]  # protobuf: the last occurrence of a scalar field wins
    return value - (1 << 64) if signed and value >= 1 << 63 else value


def _messages(fields: dict[int, list[int | bytes]], number: int) -> list[bytes]:
    return [v for v in fields.get(number, []) if isinstance(v, bytes)]


def _repeated_ints(fields: dict[int, list[int | bytes]], number: int, what: str) -> list[int]:
    """A repeated integer field, packed (one bytes value) or not."""
    out: list[int] = []
    for value in fields.get(number, []):
        if isinstance(value, int):
            out.append(value)
            continue
        pos = 0
        while pos < len(value):
            item, pos = read_varint(value, pos, what)
            out.append(item)
    return out


@dataclass(frozen=True)
class BundleHeader:
    """The bundle's header entry: shard count, byte order and the format versions it was written with."""
    num_shards: int
    little_endian: bool
    producer: int
    min_consumer: int
    bad_consumers: tuple[int, ...]


@dataclass(frozen=True)
class TensorEntry:
    """Where and how one tensor is stored."""

    name: str
    dtype_code: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    masked_crc32c: int | None
    sliced: bool

    @property
    def dtype_name(self) -> str:
        """TensorFlow's name of the tensor's dtype (``DT_FLOAT``), or the numeric code when unknown."""
        return TF_DTYPES.get(self.dtype_code, (f"DataType {self.dtype_code}", None))[0]

    @property
    def numpy_dtype(self) -> np.dtype | None:
        """The numpy dtype the tensor's bytes decode to, or None for types this reader does not decode."""
        code = TF_DTYPES.get(self.dtype_code, ("", None))[1]
        return np.dtype(code) if code else None


def parse_header(value: bytes) -> BundleHeader:
    """Decode the BundleHeaderProto stored under the empty key."""
    fields = parse_message(value, "bundle header")
    version = parse_message(_messages(fields, 3)[-1], "bundle header version") if _messages(fields, 3) else {}
    return BundleHeader(
        num_shards=_last_int(fields, 1),
        little_endian=_last_int(fields, 2) == 0,
        producer=_last_int(version, 1),
        min_consumer=_last_int(version, 2),
        bad_consumers=tuple(_repeated_ints(version, 3, "bundle header bad_consumers")),
    )


def parse_entry(name: str, value: bytes) -> TensorEntry:
    """Decode tensor ``name``'s BundleEntryProto: dtype, shape, shard, offset, size and checksum."""
    what = f"entry of tensor {name!r}"
    fields = parse_message(value, what)
    shape: list[int] = []
    shapes = _messages(fields, 2)
    if shapes:
        shape_fields = parse_message(shapes[-1], f"{what} shape")
        if _last_int(shape_fields, 3):
            raise CheckpointFormatError(f"tensor {name!r} has an unknown rank; a stored tensor must have a full shape")
        for dim in _messages(shape_fields, 2):
            size = _last_int(parse_message(dim, f"{what} shape dim"), 1)
            if size < 0:
                raise CheckpointFormatError(f"tensor {name!r} has an unknown dimension ({size}) in its stored shape")
            shape.append(size)
    return TensorEntry(
        name=name,
        dtype_code=_last_int(fields, 1),
        shape=tuple(shape),
        shard_id=_last_int(fields, 3),
        offset=_last_int(fields, 4),
        size=_last_int(fields, 5),
        masked_crc32c=_last_int(fields, 6, default=-1, signed=False) if 6 in fields else None,
        sliced=bool(fields.get(7)),
    )


class DiskFiles:
    """The checkpoint's files on disk."""

    def size(self, path: PurePath) -> int | None:
        """The file's size in bytes, or None if there is no such file."""
        return os.stat(path).st_size if os.path.isfile(path) else None

    def open(self, path: PurePath) -> BinaryIO:
        """The file opened for binary reading."""
        return open(path, "rb")


class ZipMembers:
    """The checkpoint's files as members of an open zip archive, read in place (seekable, nothing extracted).

    Args:
        archive: the open archive (see :func:`depthzoo.utils.files.open_zip`, which checks its listing first).
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.members = {PurePosixPath(m.filename): m for m in archive.infolist() if not m.is_dir()}

    def size(self, path: PurePath) -> int | None:
        """The member's uncompressed size in bytes, or None if there is no such member."""
        member = self.members.get(PurePosixPath(path))
        return None if member is None else member.file_size

    def open(self, path: PurePath) -> BinaryIO:
        """The member opened for binary reading."""
        return self.archive.open(self.members[PurePosixPath(path)])  # type: ignore[return-value]


def find_checkpoint_prefix(path: str | os.PathLike[str]) -> Path:
    """The checkpoint prefix for a prefix, its ``.index`` or ``.data-*`` file, or a folder holding one checkpoint."""
    path = Path(path).expanduser()
    if path.is_dir():
        indexes = sorted(path.glob("*.index"))
        if len(indexes) != 1:
            found = ", ".join(p.name for p in indexes) or "none"
            raise WeightsNotFoundError(
                f"expected exactly one TensorFlow checkpoint (*.index) in the folder, found {found}",
                source=path,
                fix=f"pass the checkpoint prefix (e.g. {path / 'NYU_FCRN.ckpt'}) instead",
            )
        path = indexes[0]
    name = path.name
    if name.endswith(".index"):
        prefix = path.with_name(name[: -len(".index")])
    elif _DATA_SUFFIX.search(name):
        prefix = path.with_name(_DATA_SUFFIX.sub("", name))
    else:
        prefix = path
    if not prefix.with_name(prefix.name + ".index").is_file():
        raise WeightsNotFoundError(
            f"no TensorFlow checkpoint: expected {prefix}.index next to {prefix}.data-00000-of-00001",
            source=path,
            fix="pass the checkpoint prefix (e.g. NYU_FCRN.ckpt), its .index file, or the folder holding them",
        )
    return prefix


class TFCheckpoint:
    """A TensorFlow V2 checkpoint opened for reading: tensor names, dtypes, shapes and values.

    Args:
        path: the prefix (``NYU_FCRN.ckpt``), its ``.index`` or ``.data-*`` file, or the folder holding it; with
            ``files``, the prefix as ``files`` names it (e.g. a member path inside a zip archive).
        verify_checksums: check the CRC-32C of every index block and of every tensor read (about 1 s per 250 MB).
        files: where the files are read from (default: the disk).
    """

    def __init__(
        self, path: str | os.PathLike[str], verify_checksums: bool = True, files: DiskFiles | ZipMembers | None = None
    ) -> None:
        self.files = files if files is not None else DiskFiles()
        self.prefix: PurePath = find_checkpoint_prefix(path) if files is None else PurePosixPath(path)
        self.verify_checksums = verify_checksums
        index_path = self.prefix.with_name(self.prefix.name + ".index")
        size = self.files.size(index_path)
        if size is None:
            raise WeightsNotFoundError("no checkpoint index", source=index_path, fix="pass the checkpoint's prefix")
        if size > MAX_INDEX_BYTES:
            raise CheckpointFormatError(
                f"{index_path.name} is {size:,} bytes; a checkpoint index lists tensor names and offsets and stays "
                f"under {MAX_INDEX_BYTES:,} bytes, so this is not one",
            )
        with self.files.open(index_path) as handle:
            data = handle.read(MAX_INDEX_BYTES + 1)
        header: BundleHeader | None = None
        self.entries: dict[str, TensorEntry] = {}
        try:
            table = Table(data, name=index_path.name, verify_checksums=verify_checksums)
            for key, value in table.items():
                if key == b"":
                    header = parse_header(value)
                    continue
                name = key.decode("utf-8", errors="replace")
                self.entries[name] = parse_entry(name, value)
        except TableFormatError as exc:
            raise CheckpointFormatError(str(exc)) from exc
        if header is None:
            raise CheckpointFormatError(f"{index_path.name} has no bundle header (empty key); not a TF V2 checkpoint")
        if not header.little_endian:
            raise CheckpointFormatError(f"{index_path.name} was written on a big-endian machine; not supported")
        if header.min_consumer > SUPPORTED_BUNDLE_VERSION or SUPPORTED_BUNDLE_VERSION in header.bad_consumers:
            raise CheckpointFormatError(
                f"{index_path.name} needs a tensor-bundle reader of version >= {header.min_consumer}; this reader "
                f"implements version {SUPPORTED_BUNDLE_VERSION}"
            )
        if header.num_shards < 1:
            raise CheckpointFormatError(f"{index_path.name} declares {header.num_shards} data shards")
        self.header = header

    def data_path(self, shard_id: int) -> PurePath:
        """The ``.data-NNNNN-of-NNNNN`` file holding shard ``shard_id``."""
        return self.prefix.with_name(f"{self.prefix.name}.data-{shard_id:05d}-of-{self.header.num_shards:05d}")

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor's stored shape, by name."""
        return {name: entry.shape for name, entry in self.entries.items()}

    def _check_entry(self, name: str) -> tuple[TensorEntry, np.dtype]:
        if name not in self.entries:
            raise KeyError(f"tensor {name!r} is not in checkpoint {self.prefix.name}")
        entry = self.entries[name]
        if entry.sliced:
            raise CheckpointFormatError(f"tensor {name!r} is stored as slices (a partitioned variable); not supported")
        dtype = entry.numpy_dtype
        if dtype is None:
            raise CheckpointFormatError(
                f"tensor {name!r} has dtype {entry.dtype_name}, which cannot be read as numbers"
            )
        expected = math.prod(entry.shape) * dtype.itemsize
        if entry.size != expected:
            raise CheckpointFormatError(
                f"tensor {name!r}: the index says {entry.size} bytes but shape {list(entry.shape)} of "
                f"{entry.dtype_name} needs {expected}; the checkpoint is corrupt"
            )
        if not 0 <= entry.shard_id < self.header.num_shards:
            raise CheckpointFormatError(f"tensor {name!r} is in shard {entry.shard_id} of {self.header.num_shards}")
        return entry, dtype

    def read(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """Read the named tensors (writable native-order arrays), each shard file opened once, in file order."""
        checked = {name: self._check_entry(name) for name in names}
        out: dict[str, np.ndarray] = {}
        by_shard: dict[int, list[str]] = defaultdict(list)
        for name, (entry, _) in checked.items():
            by_shard[entry.shard_id].append(name)
        for shard_id, shard_names in sorted(by_shard.items()):
            path = self.data_path(shard_id)
            file_size = self.files.size(path)
            if file_size is None:
                raise WeightsNotFoundError(
                    f"data file {path} of checkpoint {self.prefix.name} is missing",
                    fix="keep the .data-* files next to the .index file",
                )
            with self.files.open(path) as handle:
                for name in sorted(shard_names, key=lambda n: checked[n][0].offset):
                    entry, dtype = checked[name]
                    if entry.offset < 0 or entry.offset + entry.size > file_size:
                        raise CheckpointFormatError(
                            f"tensor {name!r} at bytes {entry.offset}..{entry.offset + entry.size} lies outside "
                            f"{path.name} ({file_size} bytes); the file is truncated"
                        )
                    buffer = bytearray(entry.size)
                    handle.seek(entry.offset)
                    if handle.readinto(buffer) != entry.size:
                        raise CheckpointFormatError(f"short read of tensor {name!r} from {path.name}")
                    if self.verify_checksums and entry.masked_crc32c is not None:
                        actual = crc32c(buffer)
                        if unmask(entry.masked_crc32c) != actual:
                            raise CheckpointFormatError(
                                f"checksum mismatch for tensor {name!r} in {path.name} (stored "
                                f"{unmask(entry.masked_crc32c):#010x}, computed {actual:#010x}); the file is corrupt"
                            )
                    array = np.frombuffer(buffer, dtype=dtype).reshape(entry.shape)
                    out[name] = array.astype(dtype.newbyteorder("="), copy=False)
        return out


__all__ = [
    "BundleHeader",
    "CheckpointFormatError",
    "DiskFiles",
    "TFCheckpoint",
    "TensorEntry",
    "ZipMembers",
    "find_checkpoint_prefix",
    "parse_entry",
    "parse_header",
    "parse_message",
]
