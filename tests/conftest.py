"""Test-wide setup: no test may touch the network, and nothing may phone home."""
import os
import sys

# Set before anything imports huggingface_hub/timm/albumentations.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"
os.environ.setdefault("HF_HOME", os.path.join(os.path.dirname(__file__), ".hf_home_unused"))

# Helpers shared across the suite: fake data in the real file formats, the official FCRN tensors and TF checkpoint
# writer, an independent numpy FCRN forward pass, and random weights in the Depth Anything V2 release layout with an
# independent numpy forward pass of that model.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "helpers"))

from pathlib import Path  # noqa: E402

import dav2_fixtures  # noqa: E402
import fakes  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from fcrn_fixtures import nested, random_official_tensors, write_npy_python2  # noqa: E402
from tf_bundle_writer import write_tf_checkpoint  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a connection off this machine (loopback stays allowed for DDP/gloo)."""
    import socket

    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def is_local(host: object) -> bool:
        return not isinstance(host, str) or host.startswith("127.") or host in ("localhost", "::1", "0.0.0.0", "")

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not is_local(host):
            raise RuntimeError(f"test tried to resolve {host!r}; tests must stay offline")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded_connect(sock: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(host):
            raise RuntimeError(f"test tried to reach the network ({address}); tests must stay offline")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


# ---------------------------------------------------------------------------------------------- fake datasets
@pytest.fixture(scope="module")
def nyu_mat_480(tmp_path_factory: pytest.TempPathFactory):
    """A 4-image 480x640 labeled-layout file with an embedded split (train 1,2,4; test 3)."""
    images, depths, raw = fakes.make_nyu_arrays(4, 480, 640, seed=1)
    path = fakes.write_nyu_mat(
        tmp_path_factory.mktemp("nyu480") / "nyu_depth_v2_labeled.mat", images, depths, raw, split=([1, 2, 4], [3])
    )
    return path, images, depths, raw


@pytest.fixture(scope="module")
def tiny_nyu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 synthetic rooms at 48x64 in the NYU .mat layout: 9 train (3 batches of 3), 3 test (command-line tests)."""
    from depthzoo.synthetic import write_synthetic_nyu

    return write_synthetic_nyu(tmp_path_factory.mktemp("syn") / "tiny.mat", num=12, seed=3, height=48, width=64,
                               test_fraction=0.25)


@pytest.fixture(scope="module")
def nyu_sync(tmp_path_factory: pytest.TempPathFactory) -> fakes.SyncFake:
    return fakes.write_nyu_sync(tmp_path_factory.mktemp("sync"))


@pytest.fixture(scope="module")
def kitti(tmp_path_factory: pytest.TempPathFactory) -> fakes.KittiFake:
    frames = [
        ("2011_09_26", 5, True),
        ("2011_09_28", 0, False),
        ("2011_09_29", 17, True),
        ("2011_09_30", 40, True),
        ("2011_10_03", 3, False),
    ]
    return fakes.write_kitti(tmp_path_factory.mktemp("kitti"), frames)


# ---------------------------------------------------------------------- official-shaped FCRN weights and files
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
    from depthzoo.weights.fcrn import from_fcrn_official

    return from_fcrn_official(official_files["ckpt"], verify_checksums=False)


# --------------------------------------------------------------------- Depth Anything V2-shaped weights and files
@pytest.fixture(scope="session")
def dav2_weights() -> dict[str, torch.Tensor]:
    """Random ViT-S weights in the release layout (239 tensors); the head's output bias lets most pixels through."""
    tensors = dav2_fixtures.random_release("vits", seed=0)
    tensors["depth_head.scratch.output_conv2.2.bias"] = torch.tensor([1.0])
    return tensors


@pytest.fixture(scope="session")
def dav2_files(tmp_path_factory: pytest.TempPathFactory, dav2_weights: dict[str, torch.Tensor]) -> dict[str, Path]:
    """The same tensors under a relative and a metric release's file name (the two kinds share their names)."""
    folder = tmp_path_factory.mktemp("dav2")
    relative = dav2_fixtures.save_release(folder / "depth_anything_v2_vits.pth", dav2_weights)
    metric = folder / "depth_anything_v2_metric_hypersim_vits.pth"
    os.link(relative, metric)
    return {"relative": relative, "metric": metric, "folder": folder}
