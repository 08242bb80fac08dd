"""Test-wide setup: no test may touch the network, and nothing may phone home."""
import os
import sys

# Set before anything imports huggingface_hub/timm/albumentations.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"
os.environ.setdefault("HF_HOME", os.path.join(os.path.dirname(__file__), ".hf_home_unused"))

# The fake-data writers (real file formats, written at test time) are shared by the data, task and CLI tests.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "data"))

import pytest  # noqa: E402
import torch  # noqa: E402

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
