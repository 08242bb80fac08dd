"""The sorted-string table reader: multi-block tables, prefix-compressed keys, and every corruption named."""

from __future__ import annotations

import struct

import pytest
from tf_bundle_writer import BlockBuilder, TableWriter

from depthzoo.formats.crc32c import crc32c, mask
from depthzoo.formats.sstable import FOOTER_SIZE, Table, TableFormatError, parse_block, read_varint


def _entries(count: int) -> list[tuple[bytes, bytes]]:
    return [(f"layer{i:05d}/{'w' * (i % 23)}".encode(), bytes([i % 251]) * (i % 50)) for i in range(count)]


def _table(entries: list[tuple[bytes, bytes]]) -> bytes:
    writer = TableWriter()
    for key, value in entries:
        writer.add(key, value)
    return writer.finish()


def test_varints() -> None:
    assert read_varint(b"\x00", 0) == (0, 1)
    assert read_varint(b"\xac\x02", 0) == (300, 2)  # the protobuf documentation's example
    assert read_varint(b"\xff\xff\xff\xff\x0f", 0) == (0xFFFFFFFF, 5)
    with pytest.raises(TableFormatError, match="truncated"):
        read_varint(b"\x80", 0)


def test_block_with_restarts_and_shared_prefixes() -> None:
    builder = BlockBuilder(restart_interval=2)
    pairs = [(b"apple", b"1"), (b"applesauce", b"22"), (b"apply", b""), (b"banana", b"4444")]
    for key, value in pairs:
        builder.add(key, value)
    contents = builder.finish()
    assert struct.unpack_from("<3I", contents, len(contents) - 12) == (0, 19, 2)  # restarts at entries 0 and 2
    assert contents[9:12] == bytes([5, 5, 2])  # "applesauce" shares 5 bytes, adds 5, value of 2 bytes
    assert list(parse_block(contents, "block")) == pairs


def test_multi_block_table_reads_back_in_order() -> None:
    entries = _entries(20_000)  # about 1 MB: several 256 KiB data blocks and shortened index keys
    data = _table(entries)
    table = Table(data, "t")
    assert list(table.items()) == entries
    index = table.read_block(*table.index_handle, what="index")
    separators = [key for key, _ in parse_block(index, "index")]
    assert len(separators) >= 3 and separators[-1] == b"m"  # the short successor of "layer19999/..."


def test_bad_magic_is_named() -> None:
    data = bytearray(_table(_entries(3)))
    data[-1] ^= 0xFF
    with pytest.raises(TableFormatError, match="bad magic number"):
        Table(bytes(data), "x.index")


def test_truncated_file_is_named() -> None:
    with pytest.raises(TableFormatError, match="too short"):
        Table(b"\x00" * 10, "x.index")
    data = _table(_entries(3))
    chopped = data[:20] + data[-FOOTER_SIZE:]  # the footer points past the end of what is left
    with pytest.raises(TableFormatError, match="outside the file"):
        list(Table(chopped, "x.index").items())


def test_corrupt_block_fails_its_checksum() -> None:
    data = bytearray(_table(_entries(40)))
    data[5] ^= 0x01
    with pytest.raises(TableFormatError, match="checksum mismatch in data block"):
        list(Table(bytes(data), "x.index").items())
    assert len(list(Table(bytes(data), "x.index", verify_checksums=False).items())) == 40


def test_compressed_block_is_refused() -> None:
    builder = BlockBuilder(16)
    builder.add(b"k", b"v")
    raw = builder.finish()
    body = raw + b"\x01" + struct.pack("<I", mask(crc32c(raw + b"\x01")))  # compression type 1 (snappy)
    empty = BlockBuilder(16).finish()
    meta_at = len(body)
    body += empty + b"\x00" + struct.pack("<I", mask(crc32c(empty + b"\x00")))
    index = BlockBuilder(1)
    index.add(b"l", bytes([0, len(raw)]))
    index_raw = index.finish()
    index_at = len(body)
    body += index_raw + b"\x00" + struct.pack("<I", mask(crc32c(index_raw + b"\x00")))
    handles = bytes([meta_at, len(empty), index_at, len(index_raw)])
    data = body + handles.ljust(40, b"\x00") + struct.pack("<Q", 0xDB4775248B80FB57)
    with pytest.raises(TableFormatError, match="compressed"):
        list(Table(data, "x.index").items())


def test_unsorted_keys_are_refused() -> None:
    writer = TableWriter()
    writer.add(b"b", b"1")
    writer.add(b"a", b"2")
    with pytest.raises(TableFormatError, match="must be sorted"):
        list(Table(writer.finish(), "x.index").items())
