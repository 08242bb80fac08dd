"""SharedSampleCache: filled once, shared with forked DataLoader workers, off in pickled copies."""
from __future__ import annotations

import multiprocessing
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from depthzoo.datasets.nyu import NYUv2Mat
from depthzoo.datasets.sample_cache import SharedSampleCache

LAYOUT = {"image": ((4, 5, 3), np.uint8), "depth": ((4, 5), np.float32), "valid": ((4, 5), np.bool_)}


def _sample(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "image": rng.integers(0, 256, (4, 5, 3), dtype=np.uint8),
        "depth": rng.random((4, 5), dtype=np.float32),
        "valid": rng.random((4, 5)) > 0.5,
    }


def test_put_then_get_returns_copies_of_the_arrays():
    cache = SharedSampleCache(3, LAYOUT)
    assert cache.nbytes == 3 * (60 + 80 + 20) and cache.get(1) is None and cache.filled() == 0
    sample = _sample(1)
    cache.put(1, sample)
    got = cache.get(1)
    for name in LAYOUT:
        np.testing.assert_array_equal(got[name], sample[name])
        assert got[name].dtype == LAYOUT[name][1]
    got["depth"][:] = -1  # a copy: the cache keeps its value
    np.testing.assert_array_equal(cache.get(1)["depth"], sample["depth"])
    assert cache.get(0) is None and cache.get(2) is None and cache.filled() == 1


def test_an_empty_cache_is_allowed():
    cache = SharedSampleCache(0, LAYOUT)
    assert cache.nbytes == 0 and cache.filled() == 0


def test_wrong_shape_is_refused():
    cache = SharedSampleCache(2, LAYOUT)
    with pytest.raises(ValueError, match=r"'depth' must have shape \(4, 5\), got \(5, 4\)"):
        cache.put(0, {**_sample(0), "depth": np.zeros((5, 4), np.float32)})


def _child_puts(cache: SharedSampleCache) -> None:
    cache.put(2, _sample(2))


def test_a_forked_process_fills_the_parents_cache():
    cache = SharedSampleCache(3, LAYOUT)
    child = multiprocessing.get_context("fork").Process(target=_child_puts, args=(cache,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    np.testing.assert_array_equal(cache.get(2)["image"], _sample(2)["image"])


def test_a_pickled_copy_has_the_cache_off():
    cache = SharedSampleCache(2, LAYOUT)
    cache.put(0, _sample(0))
    copy = pickle.loads(pickle.dumps(cache))
    assert not copy.enabled and copy.get(0) is None and copy.filled() == 0
    copy.put(1, _sample(1))  # ignored, no error
    assert cache.get(1) is None


def _tensors(loader: DataLoader) -> dict[int, dict[str, torch.Tensor]]:
    out = {}
    for batch in loader:
        for i, index in enumerate(batch["index"].tolist()):
            out[index] = {k: batch[k][i] for k in ("image", "depth", "valid")}
    return out


def test_dataloader_workers_fill_one_cache_and_samples_do_not_change(nyu_mat_480):
    plain = NYUv2Mat(nyu_mat_480[0], "all", "rawDepths", resize=(240, 320))
    cached = NYUv2Mat(nyu_mat_480[0], "all", "rawDepths", resize=(240, 320), cache=True)
    expected = {i: plain[i] for i in range(len(plain))}
    loader = DataLoader(cached, batch_size=1, num_workers=2, multiprocessing_context="fork")
    for _ in range(2):  # the first pass fills the cache from the workers, the second reads it
        for index, sample in _tensors(loader).items():
            for key in ("image", "depth", "valid"):
                np.testing.assert_array_equal(np.asarray(sample[key]), expected[index][key])
        assert cached.cache.filled() == len(cached) == 4  # the workers' writes are visible in this process
    assert cached[1]["focal"] == plain[1]["focal"]


def test_datamodule_starts_training_workers_by_fork_when_it_caches(nyu_mat_480):
    from depthzoo.datamodules import NYUv2DataModule

    for cache_train, expected in ((True, "fork"), (False, None)):
        module = NYUv2DataModule(str(nyu_mat_480[0]), batch_size=1, num_workers=2, cache_train=cache_train)
        module.setup("fit")
        context = module.train_dataloader().multiprocessing_context
        assert (context.get_start_method() if context else None) == expected
