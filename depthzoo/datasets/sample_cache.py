"""A cache of decoded samples in memory shared by every DataLoader worker, filled as samples are first read.

Decoding a sample of the labeled NYU .mat (inflating its deflate chunks) costs several times more than the
whole training augmentation, and the 795 training images are decoded again every epoch. The cache keeps
each decoded sample once, in anonymous shared memory that the pages of forked DataLoader workers map too:
the first epoch fills it (whichever worker reads a sample stores it), later epochs copy from it. Pages are
only allocated by the OS as they are written, so an unfilled cache costs no memory.

Sharing needs the ``fork`` start method, which ``NYUv2DataModule`` asks for on Linux when the cache is on.
A dataset sent to a worker started otherwise (spawn, forkserver) arrives with the cache turned off and
decodes every sample, as without a cache.
"""
from __future__ import annotations

import mmap
from typing import Any

import numpy as np

CacheLayout = dict[str, tuple[tuple[int, ...], np.dtype]]


class SharedSampleCache:
    """Fixed-size slots for ``num`` samples, each holding the arrays named in ``layout`` (name -> shape, dtype).

    ``put(i, arrays)`` stores sample i and then marks it filled; ``get(i)`` returns copies of its arrays, or
    None if it was not stored yet. A sample is written completely before its mark, so a reader never sees a
    half-written sample.
    """

    def __init__(self, num: int, layout: CacheLayout) -> None:
        self.num = int(num)
        self.layout = {name: (tuple(shape), np.dtype(dtype)) for name, (shape, dtype) in layout.items()}
        self.sample_nbytes = sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in self.layout.values())
        self.nbytes = self.num * self.sample_nbytes
        # Anonymous and MAP_SHARED; at least one byte, as mmap refuses an empty mapping.
        self._memory: mmap.mmap | None = mmap.mmap(-1, max(1, self.num + self.nbytes))
        self._filled = np.frombuffer(self._memory, np.uint8, self.num)
        self._slots: dict[str, np.ndarray] = {}
        offset = self.num
        for name, (shape, dtype) in self.layout.items():
            slots = np.frombuffer(self._memory, dtype, self.num * int(np.prod(shape)), offset)
            self._slots[name] = slots.reshape(self.num, *shape)
            offset += slots.nbytes

    @property
    def enabled(self) -> bool:
        """Whether samples are cached (False when the cache could not be allocated, or in a spawned worker)."""
        return self._memory is not None

    def get(self, index: int) -> dict[str, np.ndarray] | None:
        """A copy of sample ``index``'s cached arrays, or None if it was not cached yet."""
        if self._memory is None or not self._filled[index]:
            return None
        return {name: slots[index].copy() for name, slots in self._slots.items()}

    def put(self, index: int, arrays: dict[str, np.ndarray]) -> None:
        """Store sample ``index``'s arrays (each of the shape the layout declares) for every worker to read."""
        if self._memory is None:
            return
        for name, slots in self._slots.items():
            value = arrays[name]
            if value.shape != slots.shape[1:]:
                raise ValueError(f"cached '{name}' must have shape {slots.shape[1:]}, got {value.shape}")
            slots[index] = value
        self._filled[index] = 1

    def filled(self) -> int:
        """How many samples are stored."""
        return int(self._filled.sum()) if self._memory is not None else 0

    def __getstate__(self) -> dict[str, Any]:
        # Anonymous shared memory cannot travel through pickle: a copy made this way (a spawned worker) has
        # the cache turned off and decodes as if there were none.
        return {"num": self.num, "layout": self.layout, "sample_nbytes": self.sample_nbytes, "nbytes": self.nbytes,
                "_memory": None, "_filled": None, "_slots": {}}
