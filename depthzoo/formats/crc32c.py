"""CRC-32C (Castagnoli), the checksum of TensorFlow checkpoints, in NumPy: no compiled extension needed.

TensorFlow stores a *masked* CRC-32C of every table block and of every tensor's bytes. Small inputs run a plain
table-driven loop. Large inputs (hundreds of MB of weights) are cut into many equal lanes whose raw CRC registers
advance together, four bytes per vectorised step; the lane results are then joined with the "feed k zero bytes"
operator, which is linear over GF(2) and is applied as a 32x32 bit matrix. About a second for 250 MB.
"""

from __future__ import annotations

import numpy as np

_POLY = 0x82F63B78  # reflected Castagnoli polynomial
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
# Inputs at least this long use the lane-parallel path.
PARALLEL_MIN_BYTES = 1 << 14


def _make_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


_TABLE = _make_table()
_TABLE_LIST = [int(v) for v in _TABLE]
# Slicing-by-4 tables: _TABLES[k][b] is the register after byte b followed by k zero bytes. Pairs of them are
# merged into two 16-bit tables, so one step over a 32-bit word is two lookups: _LOW16[w & 0xFFFF] ^ _HIGH16[w >> 16].
_TABLES = [_TABLE]
for _ in range(3):
    _TABLES.append((_TABLES[-1] >> np.uint32(8)) ^ _TABLE[_TABLES[-1] & np.uint32(0xFF)])
_HALF = np.arange(1 << 16, dtype=np.uint32)
_LOW16 = _TABLES[3][_HALF & np.uint32(0xFF)] ^ _TABLES[2][_HALF >> np.uint32(8)]
_HIGH16 = _TABLES[1][_HALF & np.uint32(0xFF)] ^ _TABLES[0][_HALF >> np.uint32(8)]
_MAX_LANES_LOG2 = 18
_MIN_LANE_BYTES = 1024  # long enough lanes keep the joining cheap next to the lane steps


def _advance_bytes(register: int, data: bytes | memoryview) -> int:
    """Feed ``data`` to the raw CRC register (no pre/post inversion), byte by byte."""
    table = _TABLE_LIST
    for byte in bytes(data):
        register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register


# ----------------------------------------------------------------------------------- GF(2) "zero bytes" operators
# An operator is a 32x32 0/1 matrix M with M[i, j] = bit i of the image of the register with only bit j set.
_BITS = np.arange(32, dtype=np.uint32)


def _to_bits(registers: np.ndarray) -> np.ndarray:
    return ((registers[:, None] >> _BITS) & np.uint32(1)).astype(np.int64)


def _from_bits(bits: np.ndarray) -> np.ndarray:
    return np.bitwise_or.reduce((bits & 1).astype(np.uint32) << _BITS, axis=1)


def _apply_bits(operator: np.ndarray, registers: np.ndarray) -> np.ndarray:
    """Operator @ register over GF(2), bit by bit (float32 BLAS: sums of at most 32 ones are exact)."""
    sums = _to_bits(registers).astype(np.float32) @ operator.T.astype(np.float32)
    return _from_bits(sums.astype(np.int64))


def _apply(operator: np.ndarray, registers: np.ndarray) -> np.ndarray:
    """Operator @ register over GF(2) for every register of a uint32 array, one table lookup per byte."""
    if registers.size <= 1024:  # building the byte tables costs more than it saves
        return _apply_bits(operator, registers)
    byte_values = np.arange(256, dtype=np.uint32)
    t0, t1, t2, t3 = (_apply_bits(operator, byte_values << np.uint32(8 * k)) for k in range(4))
    low = np.uint32(0xFF)
    return (
        t0[registers & low]
        ^ t1[(registers >> np.uint32(8)) & low]
        ^ t2[(registers >> np.uint32(16)) & low]
        ^ t3[registers >> np.uint32(24)]
    )


def _one_zero_byte() -> np.ndarray:
    columns = np.uint32(1) << _BITS
    images = _TABLE[columns & np.uint32(0xFF)] ^ (columns >> np.uint32(8))
    return _to_bits(images).T.copy()  # column j = bits of the image of e_j


_POWERS = [_one_zero_byte()]  # _POWERS[k] feeds 2**k zero bytes, up to 2**48 bytes
for _ in range(47):
    _POWERS.append((_POWERS[-1] @ _POWERS[-1]) & 1)


def _zeros_operator(count: int) -> np.ndarray:
    """The operator that feeds ``count`` (< 2**48) zero bytes to a raw register."""
    result = np.eye(32, dtype=np.int64)
    for bit, power in enumerate(_POWERS):
        if (count >> bit) & 1:
            result = (power @ result) & 1
    return result


def _advance_parallel(register: int, data: np.ndarray) -> tuple[int, int]:
    """Feed the longest prefix of ``data`` (uint8) that splits into 2**k lanes of equal length (a multiple of 4).

    Each step advances every lane by one little-endian 32-bit word (two 16-bit table lookups). Returns
    (register, bytes used).
    """
    lanes = 1 << min(_MAX_LANES_LOG2, max(0, (len(data) // _MIN_LANE_BYTES).bit_length() - 1))
    lane_len = len(data) // lanes // 4 * 4
    used = lanes * lane_len
    words = data[:used].reshape(lanes, lane_len).view("<u4").T  # row t: word t of every lane (a strided view)
    registers = np.zeros(lanes, dtype=np.uint32)
    index, high, result = (np.empty(lanes, dtype=np.uint32) for _ in range(3))
    low_mask, shift = np.uint32(0xFFFF), np.uint32(16)
    for word in words:
        registers ^= word
        np.take(_LOW16, np.bitwise_and(registers, low_mask, out=index), out=result)
        np.take(_HIGH16, np.right_shift(registers, shift, out=index), out=high)
        result ^= high
        registers, result = result, registers
    # Join neighbouring lanes: raw(A || B) = Z_len(B)(raw(A)) ^ raw(B), with raw(.) started from 0.
    shift = _zeros_operator(lane_len)
    while len(registers) > 1:
        registers = _apply(shift, registers[0::2]) ^ registers[1::2]
        shift = (shift @ shift) & 1  # the joined lanes are twice as long
    start = _apply(_zeros_operator(used), np.array([register], dtype=np.uint32))[0]
    return int(start ^ registers[0]), used


def crc32c(data: bytes | bytearray | memoryview | np.ndarray, value: int = 0) -> int:
    """CRC-32C of ``data``; pass a previous result as ``value`` to continue it over more data."""
    view = (
        memoryview(data).cast("B")
        if not isinstance(data, np.ndarray)
        else memoryview(np.ascontiguousarray(data)).cast("B")
    )
    register = (value ^ _U32) & _U32
    offset = 0
    while len(view) - offset >= max(PARALLEL_MIN_BYTES, 4):
        register, used = _advance_parallel(register, np.frombuffer(view[offset:], dtype=np.uint8))
        offset += used
    register = _advance_bytes(register, view[offset:])
    return register ^ _U32


def mask(crc: int) -> int:
    """TensorFlow/LevelDB masked CRC (rotated and offset, so CRCs of data holding CRCs stay well distributed)."""
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def unmask(masked: int) -> int:
    """Inverse of :func:`mask`."""
    rotated = (masked - _MASK_DELTA) & _U32
    return ((rotated >> 17) | (rotated << 15)) & _U32


__all__ = ["crc32c", "mask", "unmask"]
