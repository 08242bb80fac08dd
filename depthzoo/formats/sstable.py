"""Reader for the sorted-string table (LevelDB "table" format) that TensorFlow uses for checkpoint ``.index`` files.

Layout, all integers little-endian:
- data blocks, a metaindex block, an index block, then a 48-byte footer: two block handles (varint offset and
  size each), zero padding to 40 bytes, and the 8-byte magic number 0xdb4775248b80fb57;
- every block is followed by a 5-byte trailer: a compression byte (0 = none) and the masked CRC-32C of the block
  contents plus that byte;
- a block is a run of entries (varint shared-prefix length, varint unshared length, varint value length, the
  unshared key bytes, the value), then the restart offsets (uint32 each) and their count (uint32); keys at restart
  points share nothing with the previous key;
- index block entries map a separator key (>= every key of a data block) to that block's handle.
Every length and offset is checked against the file, so a truncated or corrupt file fails with a message that says
where, instead of returning garbage.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from depthzoo.errors import FileFormatError
from depthzoo.formats.crc32c import crc32c, unmask

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
NO_COMPRESSION = 0


class TableFormatError(FileFormatError):
    """The bytes are not a well-formed table (truncated, corrupt, or another format)."""


def read_varint(buf: bytes | memoryview, pos: int, what: str = "varint") -> tuple[int, int]:
    """Decode an unsigned LEB128 varint at ``pos``; returns (value, position after it)."""
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise TableFormatError(f"truncated {what} at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise TableFormatError(f"{what} at byte {pos} is longer than 10 bytes")


def parse_block(contents: bytes, where: str) -> Iterator[tuple[bytes, bytes]]:
    """Yield (key, value) for every entry of one block's contents (trailer already removed)."""
    if len(contents) < 4:
        raise TableFormatError(f"{where}: block of {len(contents)} bytes is too short for its restart count")
    (num_restarts,) = struct.unpack_from("<I", contents, len(contents) - 4)
    restarts_start = len(contents) - 4 - 4 * num_restarts
    if num_restarts == 0 or restarts_start < 0:
        raise TableFormatError(f"{where}: {num_restarts} restart points do not fit a block of {len(contents)} bytes")
    restarts = set(struct.unpack_from(f"<{num_restarts}I", contents, restarts_start))
    key, pos = b"", 0
    while pos < restarts_start:
        entry_at = pos
        shared, pos = read_varint(contents, pos, f"{where}: shared length")
        unshared, pos = read_varint(contents, pos, f"{where}: key length")
        value_len, pos = read_varint(contents, pos, f"{where}: value length")
        if shared > len(key) or (entry_at in restarts and shared):
            raise TableFormatError(
                f"{where}: entry at byte {entry_at} shares {shared} bytes with a {len(key)}-byte key"
            )
        if pos + unshared + value_len > restarts_start:
            raise TableFormatError(f"{where}: entry at byte {entry_at} runs past the end of the block")
        key = key[:shared] + contents[pos : pos + unshared]
        pos += unshared
        yield key, contents[pos : pos + value_len]
        pos += value_len
    if any(r >= restarts_start and r != 0 for r in restarts):
        raise TableFormatError(f"{where}: restart offsets point past the entries")


def decode_block_handle(value: bytes, where: str) -> tuple[int, int]:
    """(offset, size) from an encoded block handle."""
    offset, pos = read_varint(value, 0, f"{where}: block offset")
    size, _ = read_varint(value, pos, f"{where}: block size")
    return offset, size


def _starts_like_a_table(data: bytes) -> bool:
    """Whether ``data`` begins with a plausible first block entry: no shared prefix and a value within the data."""
    try:
        shared, pos = read_varint(data, 0)
        unshared, pos = read_varint(data, pos)
        value_len, pos = read_varint(data, pos)
    except TableFormatError:
        return False
    return shared == 0 and value_len > 0 and pos + unshared + value_len <= len(data)


class Table:
    """An in-memory table (``.index`` files are a few kB): ``items()`` yields (key, value) in key order."""

    def __init__(self, data: bytes, name: str = "table", verify_checksums: bool = True) -> None:
        self.data = data
        self.name = name
        self.verify_checksums = verify_checksums
        truncated = (
            f"{name} is truncated: its {len(data):,} bytes end without the {FOOTER_SIZE}-byte table footer (which "
            f"ends with the magic number {TABLE_MAGIC:#018x}); copy or download the checkpoint again"
        )
        if len(data) < FOOTER_SIZE:
            if data and _starts_like_a_table(data):
                raise TableFormatError(truncated)
            raise TableFormatError(f"{name}: {len(data)} bytes is too short for a table footer ({FOOTER_SIZE} bytes)")
        footer = data[-FOOTER_SIZE:]
        (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
        if magic != TABLE_MAGIC and _starts_like_a_table(data):
            raise TableFormatError(truncated)
        if magic != TABLE_MAGIC:
            raise TableFormatError(
                f"{name}: bad magic number {magic:#018x} (expected {TABLE_MAGIC:#018x}); not a TensorFlow checkpoint "
                f"index (a TF1 V1 checkpoint or another file type?)"
            )
        metaindex_offset, pos = read_varint(footer, 0, f"{name}: footer")
        metaindex_size, pos = read_varint(footer, pos, f"{name}: footer")
        self.metaindex_handle = (metaindex_offset, metaindex_size)
        index_offset, pos = read_varint(footer, pos, f"{name}: footer")
        index_size, _ = read_varint(footer, pos, f"{name}: footer")
        self.index_handle = (index_offset, index_size)

    def read_block(self, offset: int, size: int, what: str) -> bytes:
        """A block's contents after checking its bounds, compression byte and checksum."""
        end = offset + size + BLOCK_TRAILER_SIZE
        if offset < 0 or end > len(self.data) - FOOTER_SIZE:
            raise TableFormatError(
                f"{self.name}: {what} at bytes {offset}..{end} lies outside the file ({len(self.data)} bytes); "
                f"the file is truncated or corrupt"
            )
        contents = self.data[offset : offset + size]
        compression = self.data[offset + size]
        if compression != NO_COMPRESSION:
            raise TableFormatError(
                f"{self.name}: {what} is compressed (type {compression}); checkpoint index files are never compressed"
            )
        if self.verify_checksums:
            (stored,) = struct.unpack_from("<I", self.data, offset + size + 1)
            actual = crc32c(self.data[offset : offset + size + 1])
            if unmask(stored) != actual:
                raise TableFormatError(
                    f"{self.name}: checksum mismatch in {what} at byte {offset} (stored {unmask(stored):#010x}, "
                    f"computed {actual:#010x}); the file is corrupt"
                )
        return contents

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) of the table in key order, checking order and block checksums on the way."""
        index = self.read_block(*self.index_handle, what="index block")
        previous: bytes | None = None
        for separator, handle in parse_block(index, f"{self.name} index block"):
            offset, size = decode_block_handle(handle, f"{self.name} index block")
            where = f"{self.name} data block at byte {offset}"
            for key, value in parse_block(self.read_block(offset, size, "data block"), where):
                if previous is not None and key <= previous:
                    raise TableFormatError(f"{where}: key {key!r} is not after {previous!r}; keys must be sorted")
                if key > separator:
                    raise TableFormatError(f"{where}: key {key!r} is past its index separator {separator!r}")
                previous = key
                yield key, value


__all__ = ["Table", "TableFormatError", "parse_block", "read_varint", "decode_block_handle"]
