"""The models the demo offers: what is available on this machine, each loaded on first use and then kept.

:func:`discover` lists, in this order: the sources given on the command line (``--model SRC``, anything
:func:`depthzoo.load` takes), the known checkpoints whose file is in the checkpoint folder
(``$DEPTHZOO_CHECKPOINT_DIR``), the model files and ``save_pretrained`` folders in that folder, the checkpoints of
training runs under ``./outputs`` (where the shipped configs write them), and the depthzoo models in the Hugging
Face cache. Nothing is downloaded and no model is read while listing.

>>> catalogue = ModelCatalogue([Entry("missing.safetensors", "missing.safetensors", "given")])
>>> catalogue.labels()
['missing.safetensors']
>>> catalogue.get("missing.safetensors")
Traceback (most recent call last):
...
depthzoo.demo.catalogue.ModelLoadError: model 'missing.safetensors' could not be loaded: ...
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from depthzoo.errors import DepthzooError, WeightsError
from depthzoo.weights.loader import load
from depthzoo.weights.manifest import checkpoint_info, default_checkpoint_dir, list_checkpoints

EntryKind = Literal["given", "checkpoint", "file", "run", "hub"]
RUN_CHECKPOINTS = ("outputs/*/checkpoints/*.ckpt", "outputs/*/*/checkpoints/*.ckpt")
"""Where the shipped configs' training runs keep their checkpoints, relative to the folder the demo starts in."""


class ModelLoadError(WeightsError):
    """A model of the catalogue could not be loaded; the message names the source and the fix."""


@dataclass(frozen=True)
class Entry:
    """One model of the dropdown.

    Args:
        label: what the dropdown shows (unique).
        source: what :func:`depthzoo.load` is given.
        kind: where it was found: ``given`` (``--model``), ``checkpoint`` (a known checkpoint's file), ``file`` (a
            model file or folder in the checkpoint folder), ``run`` (a training run's checkpoint), ``hub`` (the
            Hugging Face cache).
        options: extra keywords for :func:`depthzoo.load`.
    """

    label: str
    source: str
    kind: EntryKind
    options: dict[str, Any] = field(default_factory=dict)


def _known_checkpoints(folder: Path) -> list[Entry]:

    entries = []
    for name in list_checkpoints():
        file = folder / checkpoint_info(name)["file_name"]
        if file.is_file():
            entries.append(Entry(name, name, "checkpoint", {"path": str(file)}))
    return entries


def _model_files(folder: Path) -> list[Entry]:
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.safetensors")) + sorted(p.parent for p in folder.glob("*/config.json"))
    return [Entry(str(path), str(path), "file") for path in files]


def _run_checkpoints(root: Path) -> list[Entry]:
    found = sorted({path for pattern in RUN_CHECKPOINTS for path in root.glob(pattern)})
    return [Entry(str(path.relative_to(root)), str(path), "run") for path in found]


def _hub_models(cache_dir: str | Path | None = None) -> list[Entry]:
    """Repositories of the Hugging Face cache whose newest snapshot is a depthzoo ``save_pretrained`` folder."""
    try:
        from huggingface_hub import scan_cache_dir

        cache = scan_cache_dir(cache_dir)
    except Exception:  # no cache folder, or no huggingface_hub: nothing cached to offer
        return []
    entries = []
    for repo in sorted(cache.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        snapshot = max(repo.revisions, key=lambda r: r.last_modified).snapshot_path
        try:
            config = json.loads((snapshot / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(config, dict) and "depthzoo_version" in config:
            entries.append(Entry(repo.repo_id, repo.repo_id, "hub", {"local_files_only": True}))
    return entries


def discover(
    given: Sequence[str] = (),
    root: str | Path = ".",
    checkpoint_dir: str | Path | None = None,
    hub: bool = True,
    search: bool = True,
    hub_cache: str | Path | None = None,
) -> list[Entry]:
    """The models available here, without reading any (see the module documentation for where it looks).

    Args:
        given: sources from the command line, listed first, in their order.
        root: the folder whose ``outputs/`` holds training runs.
        checkpoint_dir: the checkpoint folder; default ``$DEPTHZOO_CHECKPOINT_DIR`` or ``~/.cache/depthzoo/...``.
        hub: also look in the Hugging Face cache.
        search: look for models at all; False lists only ``given``.
        hub_cache: the Hugging Face cache folder; default ``$HF_HUB_CACHE`` (``~/.cache/huggingface/hub``).
    """
    folder = Path(checkpoint_dir).expanduser() if checkpoint_dir is not None else default_checkpoint_dir()
    entries = [Entry(source, source, "given") for source in given]
    if not search:
        return _unique(entries)
    entries += _known_checkpoints(folder) + _model_files(folder) + _run_checkpoints(Path(root))
    if hub:
        entries += _hub_models(hub_cache)
    return _unique(entries)


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    """The entries with each source once (the first wins) and each label once (later ones get their kind added)."""
    sources, labels, kept = set(), set(), []
    for entry in entries:
        if entry.source in sources:
            continue
        label = entry.label if entry.label not in labels else f"{entry.label} ({entry.kind})"
        kept.append(Entry(label, entry.source, entry.kind, entry.options))
        sources.add(entry.source)
        labels.add(label)
    return kept


class ModelCatalogue:
    """The dropdown's models, loaded lazily: each at most once, even when several requests ask for it together.

    A model that fails to load raises :class:`ModelLoadError` (naming the source and the fix) each time it is asked
    for; the others keep working.

    Args:
        entries: the models, in dropdown order (see :func:`discover`).
        device: where the models run (``"cpu"`` or ``"cuda"``).
    """

    def __init__(self, entries: Sequence[Entry], device: str = "cpu") -> None:
        self.entries = {entry.label: entry for entry in entries}
        self.device = device
        self.loads = 0  # models actually read, for the tests and the log
        self._models: dict[str, Any] = {}
        self._locks = {label: threading.Lock() for label in self.entries}

    def labels(self) -> list[str]:
        """The dropdown's choices."""
        return list(self.entries)

    def get(self, label: str) -> Any:
        """The :class:`depthzoo.DepthModel` of ``label``, read on the first call.

        Raises:
            ModelLoadError: an unknown label, or a source that cannot be loaded.
        """
        entry = self.entries.get(label)
        if entry is None:
            raise ModelLoadError(f"no model {label!r} in the demo (it offers: {', '.join(self.entries) or 'none'})")
        with self._locks[label]:
            if label not in self._models:
                self._models[label] = self._load(entry)
            return self._models[label]

    def _load(self, entry: Entry) -> Any:

        try:
            model = load(entry.source, map_location=self.device, **entry.options)
        except DepthzooError as exc:
            raise ModelLoadError(f"model {entry.label!r} could not be loaded: {exc}") from exc
        except Exception as exc:  # a reader's own failure: still a message, and the rest of the demo keeps working
            raise ModelLoadError(
                f"model {entry.label!r} could not be loaded ({type(exc).__name__}: {exc})",
                source=entry.source,
                fix="check that it is a depthzoo model (depthzoo.load accepts it); run the demo with --debug to "
                "see the traceback",
            ) from exc
        self.loads += 1
        return model


__all__ = ["Entry", "ModelCatalogue", "ModelLoadError", "discover"]
