"""Offline-safe resolution of ImageNet encoder weights.

timm fetches weights from the Hugging Face hub (or a URL). Without network it retries with back-off for about 47 s
before failing with a message that does not say what to do. Here a request is resolved in this order:

1. a local file given by the user (``encoder_weights=PATH``): read safely by depthzoo, then loaded through timm's
   pretrained path (its key conversions, the classifier dropped, the feature wrapper applied after loading) and
   checked strictly (:func:`checked_encoder_load`); no network at all;
2. a copy already in the Hugging Face or torch hub cache: loaded from there, no network;
3. a download, only if the hub answers within a few seconds; otherwise a clear error naming both fixes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn

from depthzoo.errors import DepthzooError, WeightsError, WeightsNotFoundError
from depthzoo.formats.safetensors_file import read_safetensors
from depthzoo.formats.state_dict import state_problems
from depthzoo.formats.torch_checkpoint import read_checkpoint

logger = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
_PROBE_TIMEOUT_S = 3.0
# Where training scripts nest a model's tensors (timm's order of preference, EMA weights first).
_STATE_KEYS = ("state_dict_ema", "model_ema", "state_dict", "model")
_PATCH_LOCK = threading.Lock()


class EncoderWeightsUnavailable(DepthzooError, RuntimeError):
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
        raise WeightsNotFoundError(
            "the encoder_weights file does not exist",
            source=path,
            fix="pass a .safetensors or .pth file holding the timm encoder's state_dict, or drop encoder_weights to "
            "use pretrained=True/False",
        )
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise WeightsError(
            f"encoder_weights has suffix {path.suffix!r}", source=path, fix=f"use one of {', '.join(WEIGHT_SUFFIXES)}"
        )
    return path


def read_encoder_state(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The tensors of a local encoder weight file, read without running code; errors name the file.

    A training checkpoint's nested state (``state_dict_ema``, ``model_ema``, ``state_dict``, ``model``) is taken as
    timm takes it, and a ``module.`` prefix (DataParallel) is removed.
    """
    path = check_local_weights(path)
    if path.suffix.lower() == ".safetensors":
        state, _ = read_safetensors(path)
    else:
        state = read_checkpoint(path)
        for key in _STATE_KEYS:
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    tensors = {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise WeightsError("the file holds no tensors", source=path, fix="pass the state_dict of a timm model")
    return tensors


@contextmanager
def readable_weight_file(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Run a load of ``path`` by another library; if it fails because of the file, raise depthzoo's error instead.

    On failure the file is read again with :func:`read_encoder_state`: a truncated or corrupt file gives the
    :class:`~depthzoo.errors.WeightsError` naming it (never torch's advice to load unsafely); otherwise the original
    error stands. ``path=None`` does nothing.
    """
    try:
        yield
    except DepthzooError:
        raise
    except Exception:
        if path is not None:
            read_encoder_state(path)
        raise


class EncoderLoadReport:
    """What timm's pretrained loading did with a state dict: the full model's tensors and the state it was given."""

    def __init__(self) -> None:
        self.expected: dict[str, torch.Tensor] = {}
        self.given: dict[str, torch.Tensor] = {}
        self.loaded = False


@contextmanager
def checked_encoder_load(state: dict[str, torch.Tensor]) -> Iterator[EncoderLoadReport]:
    """While timm builds a model with ``pretrained=True``, load ``state`` through its pretrained path and record it.

    timm loads ImageNet weights into the full model before wrapping it as a feature extractor, converting old key
    names and dropping the classifier, but non-strictly: missing and unexpected tensors only reach a log line.
    Here timm's loader is given ``state`` (read by depthzoo) instead of a file, only the tensors that fit are
    loaded, and the report keeps what was expected and given, so :func:`encoder_weight_problems` can judge them.
    The hook is timm's ``models._builder.load_pretrained``, which ``build_model_with_cfg`` calls; a timm release
    that loaded weights elsewhere would leave the report empty, and :func:`judge_encoder_weights` refuses that.
    """
    import timm.models._builder as builder

    original = builder.load_pretrained
    report = EncoderLoadReport()

    def load_pretrained(model: nn.Module, *args: Any, **kwargs: Any) -> None:
        kwargs["pretrained_cfg"] = dict(
            kwargs.get("pretrained_cfg") or getattr(model, "pretrained_cfg", None) or {},
            file=None, url=None, hf_hub_id=None, source=None, custom_load=False, state_dict=state,
        )
        original_load_state_dict = model.load_state_dict

        def load_state_dict(given: Any, strict: bool = True, **options: Any) -> Any:
            report.expected = model.state_dict(keep_vars=True)
            report.given = dict(given)
            fitting = {
                key: value for key, value in report.given.items()
                if key in report.expected and tuple(value.shape) == tuple(report.expected[key].shape)
            }
            report.loaded = True
            return original_load_state_dict(fitting, strict=False, **options)

        model.load_state_dict = load_state_dict  # type: ignore[method-assign]
        try:
            original(model, *args, **kwargs)
        finally:
            del model.load_state_dict

    with _PATCH_LOCK:
        builder.load_pretrained = load_pretrained
        try:
            yield report
        finally:
            builder.load_pretrained = original


def encoder_weight_problems(
    report: EncoderLoadReport, encoder: nn.Module, whole_model: Callable[[], dict[str, tuple[int, ...]]]
) -> tuple[list[str], int]:
    """(What keeps the loaded state from fitting ``encoder`` exactly, how many tensors were loaded).

    Missing tensors count only where the encoder keeps them (a classifier or a stage beyond ``depth`` is not
    needed) and BatchNorm's step counters never count. A given tensor that the encoder does not have is unexpected
    unless the whole model (``whole_model()``: its tensor shapes, asked only then) has it with that shape.
    """
    kept = {id(t) for t in encoder.state_dict(keep_vars=True).values()}
    expected: dict[str, Any] = dict(report.expected)
    optional = {k for k, tensor in expected.items() if id(tensor) not in kept or k.endswith("num_batches_tracked")}
    if set(report.given) - set(expected):  # e.g. the head of a model whose feature extractor is a class of its own
        extra = {k: torch.empty(shape, device="meta") for k, shape in whole_model().items() if k not in expected}
        expected.update(extra)
        optional |= set(extra)
    problems = state_problems(expected, report.given, optional=optional)
    loaded = sum(
        1 for key, value in report.given.items()
        if key in report.expected and tuple(value.shape) == tuple(report.expected[key].shape)
    )
    return problems, loaded


def judge_encoder_weights(
    report: EncoderLoadReport,
    encoder: nn.Module,
    name: str,
    path: str | os.PathLike[str],
    strict: bool,
    whole_model: Callable[[], dict[str, tuple[int, ...]]],
) -> None:
    """Raise (``strict``) or log (``strict=False``) what did not fit; refuse a file of which nothing fitted.

    Args:
        report: what :func:`checked_encoder_load` recorded.
        encoder: the feature extractor timm built.
        name: the timm model name.
        path: the weight file.
        strict: refuse any problem (else log it).
        whole_model: the shapes of the whole timm model's tensors (see :func:`encoder_weight_problems`).

    Raises:
        WeightsError: naming every missing, unexpected and misshaped tensor.
    """
    if not report.loaded:
        raise WeightsError(
            f"timm built {name!r} without its pretrained loader, so its encoder_weights could not be checked",
            source=path,
            fix="load the weights yourself after building the model (model.encoder.model.load_state_dict)",
        )
    problems, loaded = encoder_weight_problems(report, encoder, whole_model)
    if not problems:
        return
    head = "the encoder weights do not fit" if loaded else "none of the tensors in the file fit"
    if strict or not loaded:
        opt_out = ", or encoder_weights_strict=False to load only the tensors that fit" if loaded else ""
        raise WeightsError(
            f"{head} {name}: " + "; ".join(problems), source=path, fix=f"pass a timm state dict of {name}{opt_out}"
        )
    logger.warning(
        "encoder_weights %s: loaded %d tensors into %s; not loaded (encoder_weights_strict=False): %s",
        path, loaded, name, "; ".join(problems),
    )


__all__ = [
    "EncoderWeightsUnavailable",
    "checked_encoder_load",
    "check_local_weights",
    "judge_encoder_weights",
    "read_encoder_state",
    "readable_weight_file",
    "resolve_weight_file",
]
