"""A callback that sends this process SIGTERM, as a job scheduler does, at a chosen point of a run."""

from __future__ import annotations

import os
import signal
from typing import Any

from lightning.pytorch.callbacks import Callback


class SigtermAt(Callback):
    """Send SIGTERM to this process after training step ``step``, or after evaluation batch ``step`` of a test."""

    def __init__(self, step: int = 2) -> None:
        self.step = step

    def _maybe(self, index: int) -> None:
        if index == self.step:
            os.kill(os.getpid(), signal.SIGTERM)

    def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
        """After each training step."""
        self._maybe(trainer.global_step)

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        """After each test batch."""
        self._maybe(batch_idx + 1)
