"""The checkpoints of a Lightning run: written atomically, read without unsafe advice, saved when a run is stopped.

- :class:`CheckedCheckpointIO` replaces Lightning's checkpoint reader and writer in every ``depthzoo`` command: a
  checkpoint appears whole or not at all (an interrupted save never leaves a truncated ``last.ckpt``), and an
  unreadable file gives depthzoo's error naming it, never torch's advice to load it with ``weights_only=False``.
- :class:`CheckpointOnSigterm`: Lightning turns SIGTERM into a ``SIGTERMException`` at the end of the current step.
  That exception is a ``SystemExit`` without a code, so a terminated run used to exit with status 0, and a job
  scheduler or a script could not tell it from a finished one. This callback saves the state of a stopped ``fit``
  as its checkpoint callback's ``last.ckpt``, where ``--ckpt_path last`` finds it, and gives the exception the
  conventional status 128 + 15 = 143.
"""

from __future__ import annotations

import os
import shutil
import signal
import zipfile
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException
from typing_extensions import override

from depthzoo.errors import OutputWriteError
from depthzoo.utils.files import atomic_path
from depthzoo.weights.lightning import readable_checkpoint

SIGTERM_EXIT_STATUS = 128 + int(signal.SIGTERM)


def _is_local(path: Any) -> bool:
    return isinstance(path, (str, os.PathLike)) and "://" not in os.fspath(path)


class CheckedCheckpointIO(TorchCheckpointIO):
    """Lightning's ``torch.save``/``torch.load`` checkpoint plugin with atomic saves and depthzoo's read errors.

    A save goes to a temporary file beside the checkpoint, renamed onto it when complete; the run's own
    checkpoints (``last.ckpt`` every few steps) are replaced that way, but a folder or a device never is. Before the
    rename the file's zip directory is read back: torch's writer does not always report a failed write (a full disk),
    and a checkpoint without its directory cannot be loaded. Remote paths (``s3://...``) are left to Lightning.
    """

    @override
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if not _is_local(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        with atomic_path(path, overwrite=True) as temporary:
            try:
                super().save_checkpoint(checkpoint, temporary, storage_options)
            except RuntimeError as exc:  # torch's archive writer reports a failed write (a full disk) this way
                raise incomplete_checkpoint(path, str(exc).strip().splitlines()[-1]) from exc
            check_complete_archive(temporary, path)

    @override
    def load_checkpoint(self, path: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with readable_checkpoint(path):
            return super().load_checkpoint(path, *args, **kwargs)


def incomplete_checkpoint(path: str | os.PathLike[str], detail: str) -> OutputWriteError:
    """The error for a checkpoint that could not be written whole, with the free space left on its disk."""
    try:
        free = f"; {shutil.disk_usage(Path(path).parent).free / 2**20:,.0f} MiB free on its disk"
    except OSError:
        free = ""
    return OutputWriteError(
        f"the checkpoint was not written completely ({detail}){free}",
        source=path,
        fix="free some disk space or write to another disk; a checkpoint already at this path is left as it was",
    )


def check_complete_archive(written: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Raise :func:`incomplete_checkpoint`'s error unless ``written`` is a whole zip archive, as torch.save writes."""
    try:
        with zipfile.ZipFile(written) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise incomplete_checkpoint(path, f"the file has no complete zip directory: {exc}") from exc


def last_checkpoint_path(trainer: pl.Trainer) -> Path | None:
    """Where ``--ckpt_path last`` looks first: ``last.ckpt`` in the first checkpoint callback's folder (or None)."""
    for callback in trainer.checkpoint_callbacks:
        if isinstance(callback, ModelCheckpoint) and callback.dirpath:
            return Path(callback.dirpath) / f"{callback.CHECKPOINT_NAME_LAST}{callback.FILE_EXTENSION}"
    return None


class CheckpointOnSigterm(Callback):
    """On SIGTERM: save a resumable checkpoint of a ``fit`` and make the process exit with status 143.

    The checkpoint is written only when the trainer has a checkpoint callback (its ``last.ckpt``, replaced
    atomically, so a second signal during the save never leaves a broken file). The path is kept on the exception
    as ``checkpoint_path`` (None when nothing was saved) for the message the ``depthzoo`` command prints.
    """

    def __init__(self) -> None:
        self.saved: Path | None = None

    @override
    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException):
            return
        exception.code = SIGTERM_EXIT_STATUS
        if trainer.state.fn == TrainerFn.FITTING:
            self.saved = self._save(trainer)
        exception.checkpoint_path = self.saved  # type: ignore[attr-defined]
        exception.stage = trainer.state.fn.value if trainer.state.fn else None  # type: ignore[attr-defined]

    @staticmethod
    def _save(trainer: pl.Trainer) -> Path | None:
        path = last_checkpoint_path(trainer)
        if path is None:
            return None
        partial = path.with_name(f".{path.name}.sigterm.tmp")
        trainer.save_checkpoint(partial)  # every process takes part; the first one writes
        if trainer.is_global_zero:
            os.replace(partial, path)
        return path


def stopped_message(exception: Any, subcommand: str) -> str:
    """The one line printed for a run stopped by SIGTERM, saying where it was saved and how to go on."""
    stage = getattr(exception, "stage", None) or subcommand
    saved = getattr(exception, "checkpoint_path", None)
    if saved is not None:
        return (
            f"{stage} stopped by SIGTERM; saved a resumable checkpoint ({saved}): resume with the same command and "
            f"--ckpt_path {saved} (or --ckpt_path last)"
        )
    if stage == "fit":
        return "fit stopped by SIGTERM; no checkpoint callback is configured, so nothing was saved to resume from"
    return f"{stage} stopped by SIGTERM before it finished; its results are incomplete"


__all__ = [
    "SIGTERM_EXIT_STATUS",
    "CheckedCheckpointIO",
    "CheckpointOnSigterm",
    "last_checkpoint_path",
    "stopped_message",
]
