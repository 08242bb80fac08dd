"""Session-wide official-shaped weights and the files written from them (built once: 254 MB of float32)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fcrn_fixtures import nested, random_official_tensors, write_npy_python2
from tf_bundle_writer import write_tf_checkpoint


@pytest.fixture(scope="session")
def official_tensors() -> dict[str, np.ndarray]:
    return random_official_tensors(seed=0)


@pytest.fixture(scope="session")
def official_files(
    tmp_path_factory: pytest.TempPathFactory, official_tensors: dict[str, np.ndarray]
) -> dict[str, Path]:
    """The random weights as the official .npy (Python 2 stream) and as a TF checkpoint with optimizer slots."""
    folder = tmp_path_factory.mktemp("official")
    npy = write_npy_python2(folder / "NYU_ResNet-UpProj.npy", nested(official_tensors))
    with_slots = dict(official_tensors)
    with_slots["ConvPred/weights/Momentum"] = np.zeros_like(official_tensors["ConvPred/weights"])
    with_slots["global_step"] = np.array(9000, dtype=np.int64)
    with_slots["x_0_3"] = np.arange(6, dtype=np.int64)  # index table kept as a variable by the first TF code
    ckpt = write_tf_checkpoint(folder / "NYU_FCRN.ckpt", with_slots)
    return {"npy": npy, "ckpt": ckpt}


@pytest.fixture(scope="session")
def official_model(official_files: dict[str, Path]):
    """The random weights loaded from the TF checkpoint (shared; tests must leave it as they found it).

    Checksums are verified by the tests of the reader and of the release zip; skipped here to save a second.
    """
    from depthzoo.official import from_fcrn_official

    return from_fcrn_official(official_files["ckpt"], verify_checksums=False)
