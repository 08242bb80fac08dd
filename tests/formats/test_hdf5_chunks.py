"""The raw-chunk HDF5 reader equals h5py's own read for every storage layout, and falls back where it must."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from depthzoo.formats import hdf5_chunks
from depthzoo.formats.hdf5_chunks import ChunkDecodeError, ChunkReader, slab_reader


def _smooth(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    """Compressible but not constant data: a ramp plus noise, in ``dtype``."""
    rng = np.random.default_rng(seed)
    ramp = np.add.outer(np.arange(shape[0]), np.linspace(0, 50, int(np.prod(shape[1:])))).reshape(shape)
    return (ramp + rng.normal(0, 3, shape)).clip(0, 200).astype(dtype)


LAYOUTS = {
    # name: (shape, dtype, create_dataset options)
    "matlab_image": ((5, 3, 20, 16), "u1", dict(chunks=(1, 3, 20, 16), compression="gzip", compression_opts=3)),
    "float_deflate": ((5, 20, 16), "f4", dict(chunks=(1, 20, 16), compression="gzip")),
    "shuffle_deflate": ((5, 20, 16), "f4", dict(chunks=(1, 20, 16), compression="gzip", shuffle=True)),
    "shuffle_only": ((5, 20, 16), "f4", dict(chunks=(1, 20, 16), shuffle=True)),
    "chunked_plain": ((5, 20, 16), "u2", dict(chunks=(1, 20, 16))),
    "big_endian": ((5, 20, 16), ">f4", dict(chunks=(1, 20, 16), compression="gzip")),
    "several_per_chunk": ((7, 20, 16), "f8", dict(chunks=(3, 20, 16), compression="gzip")),
    "partial_edge_chunks": ((5, 3, 21, 17), "u1", dict(chunks=(2, 2, 8, 5), compression="gzip", shuffle=True)),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_slab_equals_h5py(tmp_path, layout):
    shape, dtype, options = LAYOUTS[layout]
    data = _smooth(shape, dtype)
    with h5py.File(tmp_path / "f.h5", "w") as handle:
        handle.create_dataset("x", data=data, **options)
    with h5py.File(tmp_path / "f.h5", "r") as handle:
        dataset = handle["x"]
        reader = ChunkReader.for_dataset(dataset)
        assert reader is not None, "this layout is one the reader decodes itself"
        for index in [shape[0] - 1, 0, 2, 1, shape[0] - 1]:  # out of order and repeated
            got = reader.read(index)
            assert got.shape == shape[1:]
            np.testing.assert_array_equal(got, dataset[index])
            np.testing.assert_array_equal(got, data[index])


def test_unsupported_layouts_are_read_by_h5py(tmp_path):
    data = _smooth((3, 8, 6), "f4")
    with h5py.File(tmp_path / "f.h5", "w") as handle:
        handle.create_dataset("contiguous", data=data)
        handle.create_dataset("checksummed", data=data, chunks=(1, 8, 6), compression="gzip", fletcher32=True)
    with h5py.File(tmp_path / "f.h5", "r") as handle:
        for name in ("contiguous", "checksummed"):
            assert ChunkReader.for_dataset(handle[name]) is None
            np.testing.assert_array_equal(slab_reader(handle[name])(1), data[1])


def test_unwritten_chunks_read_as_the_fill_value(tmp_path):
    with h5py.File(tmp_path / "f.h5", "w") as handle:
        dataset = handle.create_dataset("x", shape=(3, 4, 5), dtype="f4", chunks=(1, 4, 5), compression="gzip",
                                        fillvalue=7.5)
        dataset[0] = 1.0
    with h5py.File(tmp_path / "f.h5", "r") as handle:
        read = slab_reader(handle["x"])
        np.testing.assert_array_equal(read(0), np.ones((4, 5), np.float32))
        np.testing.assert_array_equal(read(2), np.full((4, 5), 7.5, np.float32))


def test_corrupt_chunk_raises_a_decode_error(tmp_path):
    data = _smooth((3, 20, 16), "f4")
    with h5py.File(tmp_path / "f.h5", "w") as handle:
        handle.create_dataset("x", data=data, chunks=(1, 20, 16), compression="gzip")
        info = handle["x"].id.get_chunk_info_by_coord((1, 0, 0))
    with open(tmp_path / "f.h5", "r+b") as raw:
        raw.seek(info.byte_offset + info.size // 2)
        raw.write(b"\x00\xff" * 8)
    with h5py.File(tmp_path / "f.h5", "r") as handle:
        reader = ChunkReader.for_dataset(handle["x"])
        np.testing.assert_array_equal(reader.read(0), data[0])
        with pytest.raises(ChunkDecodeError, match=r"chunk at \(1, 0, 0\)"):
            reader.read(1)


def test_unshuffle_inverts_hdf5_shuffle_by_hand():
    values = np.array([0x01020304, 0x05060708], dtype="<u4")
    shuffled = bytes([0x04, 0x08, 0x03, 0x07, 0x02, 0x06, 0x01, 0x05])  # byte k of every element together
    assert hdf5_chunks._unshuffle(shuffled, 4) == values.tobytes()


def test_inflate_backend_is_libdeflate():
    assert hdf5_chunks.INFLATE_BACKEND == "libdeflate"
