"""CRC-32C: published check values, chaining, the lane-parallel path against a bitwise reference, masking."""

from __future__ import annotations

import numpy as np
import pytest

import depthzoo.formats.crc32c as crc_module
from depthzoo.formats.crc32c import crc32c, mask, unmask


def bitwise_crc32c(data: bytes) -> int:
    """The textbook bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78), independent of the table code."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0x00000000),
        (b"123456789", 0xE3069283),  # the standard check value of CRC-32C
        (bytes(32), 0x8A9136AA),  # RFC 3720 (iSCSI) B.4 test vectors
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
    ],
)
def test_published_values(data: bytes, expected: int) -> None:
    assert crc32c(data) == expected


@pytest.mark.parametrize("length", [1, 3, 4, 5, 1023, 1024, 4099, 70001, 300_007])
def test_lane_parallel_path_matches_the_bitwise_reference(monkeypatch: pytest.MonkeyPatch, length: int) -> None:
    data = np.random.default_rng(length).integers(0, 256, length, dtype=np.uint8).tobytes()
    monkeypatch.setattr(crc_module, "PARALLEL_MIN_BYTES", 1)  # force the vectorised path even for short inputs
    value = crc32c(data)
    if length <= 5000:
        assert value == bitwise_crc32c(data)
    monkeypatch.setattr(crc_module, "PARALLEL_MIN_BYTES", 1 << 40)  # and the plain table loop
    assert crc32c(data) == value


def test_large_input_and_chaining() -> None:
    data = np.random.default_rng(0).integers(0, 256, 3_000_017, dtype=np.uint8)
    whole = crc32c(data)
    assert crc32c(data[1_234_567:], crc32c(data[:1_234_567])) == whole
    assert crc32c(data.tobytes()) == whole
    assert crc32c(data.view(np.uint8)[:100]) == bitwise_crc32c(data[:100].tobytes())


def test_mask_is_the_leveldb_rotation_and_inverts() -> None:
    assert mask(0) == 0xA282EAD8
    crc = 0x12345678
    assert mask(crc) == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
    for value in (0, 1, 0xFFFFFFFF, 0xDEADBEEF, crc32c(b"abc")):
        assert unmask(mask(value)) == value
