"""Test helper: write a TensorFlow V2 checkpoint byte for byte as TensorFlow's tf.train.Saver does, without TF.

Written from the format facts (LevelDB table builder + tensor bundle writer), independently of the package's
reader, so reader tests run on CI machines without TensorFlow. ``test_tf_checkpoint.py`` checks the bytes against
real TensorFlow output when TensorFlow is installed.

What TensorFlow does, and this writer copies:
- tensors are written to the data shard in sorted-name order (the Saver sorts them), back to back;
- the index is a table: the header under the empty key, then one entry per tensor; data blocks are cut when the
  estimated block size reaches 256 KiB, restart points every 16 entries (every entry in the index block);
- index keys are shortened: the shortest separator between two blocks, the short successor after the last one;
- protobuf fields equal to their proto3 default are left out, except the shape message, which is always set.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from depthzoo.formats.crc32c import crc32c, mask

BLOCK_SIZE = 262144
RESTART_INTERVAL = 16
MAGIC = 0xDB4775248B80FB57
DTYPE_CODES = {np.dtype("float32"): 1, np.dtype("float64"): 2, np.dtype("int32"): 3, np.dtype("int64"): 9}


def varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value) if value else b""


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_fixed32(number: int, value: int) -> bytes:
    return varint(number << 3 | 5) + struct.pack("<I", value) if value else b""


def header_proto(num_shards: int = 1) -> bytes:
    version = field_varint(1, 1)  # VersionDef.producer = 1
    return field_varint(1, num_shards) + field_bytes(3, version)


def entry_proto(array: np.ndarray, offset: int) -> bytes:
    shape = b"".join(field_bytes(2, field_varint(1, dim)) for dim in array.shape)
    data = array.tobytes()
    return (
        field_varint(1, DTYPE_CODES[array.dtype])
        + field_bytes(2, shape)
        + field_varint(4, offset)
        + field_varint(5, len(data))
        + field_fixed32(6, mask(crc32c(data)))
    )


class BlockBuilder:
    def __init__(self, restart_interval: int) -> None:
        self.restart_interval = restart_interval
        self.reset()

    def reset(self) -> None:
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.restart_interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        self.buffer += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        self.last_key = key
        self.counter += 1

    def estimated_size(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        return (
            bytes(self.buffer)
            + struct.pack(f"<{len(self.restarts)}I", *self.restarts)
            + struct.pack("<I", len(self.restarts))
        )


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    common = 0
    while common < min(len(start), len(limit)) and start[common] == limit[common]:
        common += 1
    if common < min(len(start), len(limit)):
        byte = start[common]
        if byte < 0xFF and byte + 1 < limit[common]:
            return start[:common] + bytes([byte + 1])
    return start


def short_successor(key: bytes) -> bytes:
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


class TableWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.data_block = BlockBuilder(RESTART_INTERVAL)
        self.index_block = BlockBuilder(1)
        self.pending_handle: bytes | None = None
        self.last_key = b""

    def _write_block(self, block: BlockBuilder) -> bytes:
        raw = block.finish() + b"\x00"
        handle = varint(len(self.out)) + varint(len(raw) - 1)
        self.out += raw + struct.pack("<I", mask(crc32c(raw)))
        block.reset()
        return handle

    def _flush(self) -> None:
        if self.data_block.buffer:
            self.pending_handle = self._write_block(self.data_block)

    def add(self, key: bytes, value: bytes) -> None:
        if self.pending_handle is not None:
            self.index_block.add(shortest_separator(self.last_key, key), self.pending_handle)
            self.pending_handle = None
        self.last_key = key
        self.data_block.add(key, value)
        if self.data_block.estimated_size() >= BLOCK_SIZE:
            self._flush()

    def finish(self) -> bytes:
        self._flush()
        metaindex = self._write_block(BlockBuilder(RESTART_INTERVAL))
        if self.pending_handle is not None:
            self.index_block.add(short_successor(self.last_key), self.pending_handle)
        index = self._write_block(self.index_block)
        footer = (metaindex + index).ljust(40, b"\x00") + struct.pack("<Q", MAGIC)
        return bytes(self.out + footer)


def write_tf_checkpoint(prefix: str | Path, tensors: Mapping[str, np.ndarray]) -> Path:
    """Write ``PREFIX.index`` and ``PREFIX.data-00000-of-00001`` holding ``tensors``; returns the prefix."""
    prefix = Path(prefix)
    names = sorted(tensors, key=lambda n: n.encode())
    table = TableWriter()
    table.add(b"", header_proto())
    offset = 0
    with open(f"{prefix}.data-00000-of-00001", "wb") as data:
        for name in names:
            array = np.require(tensors[name], requirements="C")
            table.add(name.encode(), entry_proto(array, offset))
            data.write(array.tobytes())
            offset += array.nbytes
    Path(f"{prefix}.index").write_bytes(table.finish())
    return prefix
