"""Offline-safe resolution of ImageNet encoder weights.

timm fetches weights from the Hugging Face hub (or a URL). Without network it retries with back-off for about 47 s
before failing with a message that does not say what to do. Here a request is resolved in this order:

1. a local file given by the user (``encoder_weights=PATH``): loaded through timm's ``pretrained_cfg_overlay`` so
   classifier keys are dropped and the feature wrapper is applied after loading; no network at all;
2. a copy already in the Hugging Face or torch hub cache: loaded from there, no network;
3. a download, only if the hub answers within a few seconds; otherwise a clear error naming both fixes.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
_PROBE_TIMEOUT_S = 3.0


class EncoderWeightsUnavailable(RuntimeError):
    """Pretrained encoder weights were requested but cannot be obtained (offline and not cached)."""


def _hub_offline() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except Exception:
        return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}


def host_reachable(url: str, timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """True if a TCP connection to ``url``'s host opens within ``timeout`` seconds (DNS included)."""
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)
    if not host:
        return False
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=probe, daemon=True)  # getaddrinfo itself has no timeout
    worker.start()
    worker.join(timeout + 0.5)
    return bool(result and result[0])


def _cached_file(pretrained_cfg: Any) -> Path | None:
    """A locally cached weight file for this pretrained config, if any (HF hub cache, then torch hub cache)."""
    hub_id = getattr(pretrained_cfg, "hf_hub_id", None)
    if hub_id:
        try:
            from huggingface_hub import try_to_load_from_cache

            for filename in (
                getattr(pretrained_cfg, "hf_hub_filename", None),
                "model.safetensors",
                "pytorch_model.bin",
            ):
                if filename:
                    hit = try_to_load_from_cache(hub_id, filename)
                    if isinstance(hit, str) and os.path.isfile(hit):
                        return Path(hit)
        except Exception:
            pass
    url = getattr(pretrained_cfg, "url", None)
    if url:
        import torch.hub

        candidate = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)
        if candidate.is_file():
            return candidate
    return None


def unavailable_message(model_name: str, reason: str) -> str:
    """Why ImageNet weights for ``model_name`` are unavailable, and both ways to go on."""
    return (
        f"ImageNet weights for encoder {model_name!r} are not available: {reason}. Fix it in one of two ways: "
        f"(1) pass a local weight file, e.g. create_model(..., encoder_weights='path/to/{model_name}.safetensors') "
        f"(--model.encoder_weights on the command line; .safetensors or .pth, a timm state_dict of the full model), or "
        f"(2) train from scratch with pretrained=False (--model.pretrained false)."
    )


def resolve_weight_file(model_name: str, pretrained_cfg: Any) -> Path | None:
    """The file to load ImageNet weights from, or None when timm may download them itself.

    Raises:
        EncoderWeightsUnavailable: not cached and the hub is offline or unreachable.
    """
    cached = _cached_file(pretrained_cfg)
    if cached is not None:
        return cached
    if pretrained_cfg is None or not (
        getattr(pretrained_cfg, "hf_hub_id", None) or getattr(pretrained_cfg, "url", None)
    ):
        notes = getattr(pretrained_cfg, "notes", None) if pretrained_cfg is not None else None
        notes = " ".join(notes) if isinstance(notes, (tuple, list)) else notes
        reason = "timm has no pretrained weights for this name" + (f": {notes}" if notes else "")
        raise EncoderWeightsUnavailable(unavailable_message(model_name, reason))
    if _hub_offline():
        raise EncoderWeightsUnavailable(
            unavailable_message(model_name, "HF_HUB_OFFLINE is set and no cached copy exists")
        )
    if getattr(pretrained_cfg, "hf_hub_id", None):
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    else:
        endpoint = pretrained_cfg.url
    if not host_reachable(endpoint):
        raise EncoderWeightsUnavailable(
            unavailable_message(
                model_name, f"{urlparse(endpoint).hostname} cannot be reached and no cached copy exists"
            )
        )
    return None


def check_local_weights(path: str | os.PathLike[str]) -> Path:
    """Validate a user-supplied weight file path with an actionable message."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"encoder_weights file {str(path)!r} does not exist. Pass the path of a .safetensors or .pth file holding "
            f"the timm encoder's state_dict, or drop encoder_weights to use pretrained=True/False."
        )
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise ValueError(
            f"encoder_weights file {str(path)!r} has suffix {path.suffix!r}; "
            f"expected one of {', '.join(WEIGHT_SUFFIXES)}"
        )
    return path
