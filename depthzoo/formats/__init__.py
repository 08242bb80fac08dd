"""On-disk formats that are not datasets, read (and PLY written) from their specifications, with no foreign runtime.

- :mod:`~depthzoo.formats.tf_checkpoint`: TensorFlow V2 checkpoints (index table + bundle protos) without TensorFlow;
- :mod:`~depthzoo.formats.sstable`: the LevelDB table format that holds a checkpoint's index;
- :mod:`~depthzoo.formats.crc32c`: CRC-32C (Castagnoli) checksums, as TensorFlow masks them;
- :mod:`~depthzoo.formats.safe_pickle`: pickled ``.npy`` files through an allow-list unpickler (no code runs);
- :mod:`~depthzoo.formats.hdf5_chunks`: HDF5 chunks read raw and inflated with libdeflate (fast MATLAB v7.3 reads);
- :mod:`~depthzoo.formats.ply`: binary PLY point clouds (written by ``depthzoo predict --writer.point_cloud true``).
"""
