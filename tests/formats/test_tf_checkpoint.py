"""TensorFlow V2 checkpoints read without TensorFlow: values, metadata, path forms, and every corruption named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tf_bundle_writer import TableWriter, entry_proto, field_bytes, field_varint, header_proto, write_tf_checkpoint

from depthzoo.formats.tf_checkpoint import CheckpointFormatError, TFCheckpoint, find_checkpoint_prefix, parse_message


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "conv1/weights": rng.standard_normal((7, 7, 3, 4)).astype(np.float32),
        "bn_conv1/variance": rng.uniform(0.5, 2.0, 4).astype(np.float32),
        "double": rng.standard_normal((2, 3)),
        "global_step": np.array(123456789012, dtype=np.int64),
        "counts": np.arange(-3, 3, dtype=np.int32),
        "empty": np.zeros((0, 5), np.float32),
    }


def test_round_trip_values_and_metadata(tmp_path: Path) -> None:
    tensors = _tensors()
    checkpoint = TFCheckpoint(write_tf_checkpoint(tmp_path / "m.ckpt", tensors))
    assert checkpoint.header.num_shards == 1 and checkpoint.header.producer == 1
    assert list(checkpoint.entries) == sorted(tensors)
    entry = checkpoint.entries["conv1/weights"]
    assert (entry.dtype_name, entry.shape, entry.size) == ("float32", (7, 7, 3, 4), 7 * 7 * 3 * 4 * 4)
    assert checkpoint.entries["global_step"].shape == () and checkpoint.entries["counts"].dtype_name == "int32"
    offsets = [checkpoint.entries[name].offset for name in sorted(tensors)]
    assert offsets == sorted(offsets) and offsets[0] == 0  # data written in name order, back to back
    values = checkpoint.read(tensors)
    for name, value in tensors.items():
        assert values[name].dtype == value.dtype and values[name].shape == value.shape
        np.testing.assert_array_equal(values[name], value)
    values["conv1/weights"][0, 0, 0, 0] = 1.0  # arrays are writable (no read-only buffer views)


def test_path_forms(tmp_path: Path) -> None:
    prefix = write_tf_checkpoint(tmp_path / "NYU_FCRN.ckpt", _tensors())
    for form in (prefix, tmp_path / "NYU_FCRN.ckpt.index", tmp_path / "NYU_FCRN.ckpt.data-00000-of-00001", tmp_path):
        assert find_checkpoint_prefix(form) == prefix
    write_tf_checkpoint(tmp_path / "other.ckpt", {"a": np.zeros(1, np.float32)})
    with pytest.raises(
        FileNotFoundError, match="exactly one TensorFlow checkpoint.*NYU_FCRN.ckpt.index, other.ckpt.index"
    ):
        find_checkpoint_prefix(tmp_path)
    with pytest.raises(
        FileNotFoundError, match=r"expected .*missing\.ckpt\.index next to .*missing\.ckpt\.data-00000-of-00001"
    ):
        TFCheckpoint(tmp_path / "missing.ckpt")


def test_corrupt_tensor_fails_its_checksum(tmp_path: Path) -> None:
    prefix = write_tf_checkpoint(tmp_path / "m.ckpt", _tensors())
    data_file = Path(f"{prefix}.data-00000-of-00001")
    entry = TFCheckpoint(prefix).entries["double"]
    raw = bytearray(data_file.read_bytes())
    raw[entry.offset + 3] ^= 0x10
    data_file.write_bytes(bytes(raw))
    with pytest.raises(CheckpointFormatError, match="checksum mismatch for tensor 'double'"):
        TFCheckpoint(prefix).read(["double"])
    assert TFCheckpoint(prefix).read(["conv1/weights"])  # other tensors still verify
    assert TFCheckpoint(prefix, verify_checksums=False).read(["double"])["double"].shape == (2, 3)


def test_truncated_or_missing_data_file(tmp_path: Path) -> None:
    prefix = write_tf_checkpoint(tmp_path / "m.ckpt", _tensors())
    data_file = Path(f"{prefix}.data-00000-of-00001")
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.raises(
        CheckpointFormatError, match="tensor 'empty' at bytes .* lies outside m.ckpt.data-00000-of-00001"
    ):
        TFCheckpoint(prefix).read(["empty", "global_step"])
    data_file.unlink()
    with pytest.raises(FileNotFoundError, match="data file .*m.ckpt.data-00000-of-00001"):
        TFCheckpoint(prefix).read(["double"])


def _index_with(tmp_path: Path, header: bytes, entries: dict[str, bytes]) -> Path:
    table = TableWriter()
    table.add(b"", header)
    for name in sorted(entries):
        table.add(name.encode(), entries[name])
    (tmp_path / "x.ckpt.index").write_bytes(table.finish())
    (tmp_path / "x.ckpt.data-00000-of-00001").write_bytes(bytes(64))
    return tmp_path / "x.ckpt"


def test_unsupported_headers(tmp_path: Path) -> None:
    big_endian = header_proto() + field_varint(2, 1)
    with pytest.raises(CheckpointFormatError, match="big-endian"):
        TFCheckpoint(_index_with(tmp_path, big_endian, {}))
    future = field_varint(1, 1) + field_bytes(3, field_varint(1, 9) + field_varint(2, 5))  # min_consumer 5
    with pytest.raises(CheckpointFormatError, match="version >= 5"):
        TFCheckpoint(_index_with(tmp_path, future, {}))


def test_unreadable_entries_are_named(tmp_path: Path) -> None:
    sliced = entry_proto(np.zeros(2, np.float32), 0) + field_bytes(7, b"")
    string = field_varint(1, 7) + field_bytes(2, b"") + field_varint(5, 8)
    wrong_size = field_varint(1, 1) + field_bytes(2, field_bytes(2, field_varint(1, 4))) + field_varint(5, 12)
    checkpoint = TFCheckpoint(_index_with(tmp_path, header_proto(), {"s": sliced, "t": string, "w": wrong_size}))
    with pytest.raises(CheckpointFormatError, match="'s' is stored as slices"):
        checkpoint.read(["s"])
    with pytest.raises(CheckpointFormatError, match="'t' has dtype string"):
        checkpoint.read(["t"])
    with pytest.raises(
        CheckpointFormatError, match="'w': the index says 12 bytes but shape \\[4\\] of float32 needs 16"
    ):
        checkpoint.read(["w"])
    with pytest.raises(KeyError, match="'nope' is not in checkpoint"):
        checkpoint.read(["nope"])


def test_protobuf_wire_decoding() -> None:
    fields = parse_message(bytes.fromhex("08 96 01 12 03 61 62 63 35 01 00 00 00 19 02 00 00 00 00 00 00 00"), "m")
    assert fields == {1: [150], 2: [b"abc"], 6: [1], 3: [2]}
    with pytest.raises(CheckpointFormatError, match="runs past the message"):
        parse_message(b"\x12\x05ab", "m")
    with pytest.raises(CheckpointFormatError, match="wire type 3"):
        parse_message(b"\x0b", "m")


def test_writer_matches_tensorflow_byte_for_byte(tmp_path: Path) -> None:
    """With TensorFlow installed: TF's own SaveV2 output equals the test writer's bytes and reads back exactly."""
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(3)
    tensors = {
        f"layer{i}_BN/{p}": rng.standard_normal(i + 1).astype(np.float32) for i in range(30) for p in ("mean", "scale")
    }
    tensors.update(_tensors())
    tensors.pop("empty")
    names = sorted(tensors)  # tf.train.Saver saves in sorted-name order
    tf.raw_ops.SaveV2(
        prefix=str(tmp_path / "tf.ckpt"),
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[tf.constant(tensors[n]) for n in names],
    )
    write_tf_checkpoint(tmp_path / "ours.ckpt", tensors)
    for suffix in (".index", ".data-00000-of-00001"):
        assert (tmp_path / f"tf.ckpt{suffix}").read_bytes() == (tmp_path / f"ours.ckpt{suffix}").read_bytes(), suffix
    values = TFCheckpoint(tmp_path / "tf.ckpt").read(names)
    for name in names:
        np.testing.assert_array_equal(values[name], tensors[name])
