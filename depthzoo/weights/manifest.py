"""Known checkpoints by name: where to get them, how to verify them, how to fetch and load them.

The list lives in ``checkpoints/manifest.json`` (shipped with the package): for each name the file name, size,
sha256, format, licence, download URLs and how to convert it.

>>> "fcrn_nyu" in list_checkpoints()
True
>>> checkpoint_info("fcrn_nyu")["size"]
472588519

``depthzoo.load("fcrn_nyu")`` looks the file up in ``$DEPTHZOO_CHECKPOINT_DIR`` (by default
``~/.cache/depthzoo/checkpoints``) and, when it is missing and the machine is online, downloads it there from the
listed URLs; either way its size and sha256 are checked before it is read. Offline (``$DEPTHZOO_OFFLINE`` or
``$HF_HUB_OFFLINE`` set), or with a file downloaded by hand (``depthzoo.load("fcrn_nyu", path="~/Downloads/...")``),
nothing is downloaded, and a missing file is an error that says where to get it.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import warnings
from pathlib import Path
from typing import Any

from depthzoo.errors import WeightsError, WeightsNotFoundError
from depthzoo.models.depth_model import DepthModel
from depthzoo.registry import RegistryError, unknown_name_message
from depthzoo.resources import bundled_dir
from depthzoo.utils.files import atomic_path, sha256_file
from depthzoo.weights.build import build_model
from depthzoo.weights.sources import Source, Weights, format_for_manifest

CHECKPOINT_DIR_ENV = "DEPTHZOO_CHECKPOINT_DIR"


@functools.lru_cache(maxsize=1)
def _manifest() -> dict[str, dict[str, Any]]:
    path = bundled_dir("checkpoints") / "manifest.json"
    data = json.loads(path.read_text())
    checkpoints = data.get("checkpoints")
    if data.get("format_version") != 1 or not isinstance(checkpoints, dict):
        raise ValueError(f"{path} is not a version-1 checkpoint manifest")
    return checkpoints


def list_checkpoints() -> list[str]:
    """Names of the known checkpoints."""
    return sorted(_manifest())


def checkpoint_info(name: str) -> dict[str, Any]:
    """The manifest entry of ``name`` (a copy): file_name, size, sha256, format, urls, license, convert, ..."""
    checkpoints = _manifest()
    if name not in checkpoints:
        raise RegistryError(unknown_name_message("checkpoint", name, list(checkpoints)))
    return copy.deepcopy(checkpoints[name])


def default_checkpoint_dir() -> Path:
    """Where files are looked up without a path: ``$DEPTHZOO_CHECKPOINT_DIR`` or ``~/.cache/depthzoo/checkpoints``."""
    configured = os.environ.get(CHECKPOINT_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "depthzoo" / "checkpoints"


def _where_to_get(name: str, info: dict[str, Any]) -> str:
    urls = info.get("urls") or []
    source = (
        "Download it from " + " or ".join(urls)
        if urls
        else "No working download link is known (original: " + ", ".join(info.get("original_urls") or ["none"]) + ")"
    )
    return (
        f"{source}, then pass its path, e.g. depthzoo.load_checkpoint({name!r}, "
        f"'path/to/{info['file_name']}'), "
        f"or put it in {default_checkpoint_dir()} (set ${CHECKPOINT_DIR_ENV} to use another folder)."
    )


def locate_checkpoint(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """The checkpoint file: ``path`` itself, ``path/<file_name>`` for a folder, or the default folder's copy."""
    info = checkpoint_info(name)
    candidate = Path(path).expanduser() if path is not None else default_checkpoint_dir()
    if candidate.is_dir():
        candidate = candidate / info["file_name"]
    if not candidate.is_file():
        raise WeightsNotFoundError(
            f"checkpoint {name!r} ({info['file_name']}) not found at {candidate}. {_where_to_get(name, info)}"
        )
    return candidate


def _check_file(name: str, info: dict[str, Any], file: Path, shown: str | os.PathLike[str] | None = None) -> None:
    """Raise WeightsError when ``file`` does not have the manifest's size and sha256 (warn when none is published)."""
    shown = shown or file
    size = file.stat().st_size
    if info.get("size") is not None and size != info["size"]:
        raise WeightsError(
            f"{shown} has {size:,} bytes but checkpoint {name!r} ({info['file_name']}) has {info['size']:,}: an "
            f"incomplete download or another file. {_where_to_get(name, info)}"
        )
    if not info.get("sha256"):
        warnings.warn(
            f"checkpoint {name!r} has no published sha256, so {file.name} cannot be verified by hash; loading still "
            f"checks every tensor's name and shape",
            UserWarning,
            stacklevel=3,
        )
        return
    actual = sha256_file(file)
    if actual != info["sha256"]:
        raise WeightsError(
            f"sha256 mismatch for {shown}: expected {info['sha256']} (checkpoint {name!r}), got {actual}. The file "
            f"is corrupt or not {info['file_name']}. {_where_to_get(name, info)}"
        )


def verify_checkpoint(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """Check the file's size and sha256 against the manifest; returns its path.

    Raises:
        FileNotFoundError: no file (the message says where to get it).
        ValueError: wrong size or hash (the message gives both hashes).
    """
    info = checkpoint_info(name)
    file = locate_checkpoint(name, path)
    _check_file(name, info, file)
    return file


OFFLINE_ENVS = ("DEPTHZOO_OFFLINE", "HF_HUB_OFFLINE")


def offline() -> bool:
    """True when ``$DEPTHZOO_OFFLINE`` or ``$HF_HUB_OFFLINE`` is set (to anything but 0/false/no/off)."""
    return any(os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off") for name in OFFLINE_ENVS)


def download_checkpoint(name: str, folder: str | os.PathLike[str] | None = None, progress: bool = True) -> Path:
    """Download a known checkpoint from its listed URLs into ``folder`` (default: the checkpoint folder).

    The file is written atomically and checked (size and sha256) before it gets its name, so a broken or
    interrupted download never leaves a file that looks complete.

    Raises:
        WeightsNotFoundError: no URL worked (each one's error is in the message) or none is known.
        WeightsError: the download does not have the published size or sha256.
    """
    import urllib.error
    import urllib.request

    info = checkpoint_info(name)
    urls = info.get("urls") or []
    target = (Path(folder).expanduser() if folder is not None else default_checkpoint_dir()) / info["file_name"]
    if not urls:
        raise WeightsNotFoundError(f"checkpoint {name!r} cannot be downloaded. {_where_to_get(name, info)}")
    failures = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=30) as response, atomic_path(target) as temporary:
                total = int(response.headers.get("Content-Length") or 0) or info.get("size")
                with open(temporary, "wb") as handle:
                    _copy_with_progress(response, handle, total, f"{name} ({info['file_name']})", progress)
                _check_file(name, info, temporary, shown=url)
            return target
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(exc, WeightsError):
                raise
            failures.append(f"{url}: {exc}")
    raise WeightsNotFoundError(
        f"could not download checkpoint {name!r} ({'; '.join(failures)}). {_where_to_get(name, info)}"
    )


def _copy_with_progress(source: Any, handle: Any, total: int | None, label: str, progress: bool) -> None:
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=total or None, unit="B", unit_scale=True, desc=f"downloading {label}")
        except ImportError:  # pragma: no cover - tqdm comes with lightning
            bar = None
    try:
        while chunk := source.read(1 << 20):
            handle.write(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()


def fetch_checkpoint(
    name: str, path: str | os.PathLike[str] | None = None, verify: bool = True, download: bool | None = None
) -> Path:
    """The verified local file of a known checkpoint, downloading it into the checkpoint folder when missing.

    Args:
        name: a name from :func:`list_checkpoints`.
        path: the downloaded file or its folder; default: the default checkpoint folder.
        verify: check size and sha256 (a few seconds for 470 MB).
        download: fetch a missing file from the manifest's URLs; None (default): unless offline (:func:`offline`)
            or ``path`` is given.
    """
    try:
        return verify_checkpoint(name, path) if verify else locate_checkpoint(name, path)
    except WeightsNotFoundError:
        if download is False or (download is None and (path is not None or offline())):
            raise
    return download_checkpoint(name)


def read_known_checkpoint(
    source: Source, path: str | os.PathLike[str] | None = None, verify: bool = True, download: bool | None = None
) -> Weights:
    """The ``manifest`` format of :func:`depthzoo.load`: a known checkpoint's file, read by the format it is in.

    Args:
        source: the checkpoint's name.
        path: the downloaded file or its folder (see :func:`fetch_checkpoint`).
        verify: check size and sha256 first.
        download: fetch a missing file (see :func:`fetch_checkpoint`).
    """
    info = checkpoint_info(source.text)
    file = fetch_checkpoint(source.text, path, verify=verify, download=download)
    fmt = format_for_manifest(info.get("format", ""))
    # Entry fields named like the format's options are its options (e.g. a metric release's max_depth).
    options = {key: info[key] for key in fmt.options if info.get(key) is not None}
    weights = fmt.read(Source(file), **options)
    extra = {"weights_from": source.text}
    if info.get("license"):
        extra["license"] = info["license"]
    weights.config = {**extra, **(weights.config or {})}
    weights.source = f"{source.text}: {file}"
    return weights


def load_checkpoint(name: str, path: str | os.PathLike[str] | None = None, verify: bool = True) -> DepthModel:
    """Verify (size + sha256) and load a known checkpoint as a DepthModel in eval mode. Never downloads.

    The same as ``depthzoo.load(name, path=path, verify=verify, download=False)`` (``depthzoo.load(name)`` also
    downloads a missing file when online).

    Args:
        name: a name from :func:`list_checkpoints`, e.g. "fcrn_nyu" or "dav2_metric_hypersim_vits" (a metric
            release's entry carries its ``max_depth``, so the right head is built).
        path: the downloaded file or its folder; default: the default checkpoint folder.
        verify: check size and sha256 first (a few seconds for 470 MB).
    """
    checkpoint_info(name)  # an unknown name fails here, with close matches
    return build_model(read_known_checkpoint(Source(name), path, verify=verify, download=False))


__all__ = [
    "checkpoint_info",
    "default_checkpoint_dir",
    "download_checkpoint",
    "fetch_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "locate_checkpoint",
    "offline",
    "read_known_checkpoint",
    "verify_checkpoint",
]
