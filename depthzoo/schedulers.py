"""Learning-rate schedules that LightningCLI configs can name (``class_path: depthzoo.schedulers.PolyLR``).

>>> import torch
>>> optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
>>> scheduler = PolyLR(optimizer, power=1.0, total_steps=4)
>>> rates = []
>>> for _ in range(4):
...     rates.append(optimizer.param_groups[0]["lr"])
...     optimizer.step()
...     scheduler.step()
>>> rates
[1.0, 0.75, 0.5, 0.25]
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LRScheduler

from depthzoo.errors import InvalidArgumentError
from depthzoo.utils.validation import check_int, check_number


class PolyLR(LRScheduler):
    """Polynomial decay: after ``t`` scheduler steps each group's rate is ``base * (1 - t / total_steps) ** power``.

    Stepped per optimizer step (``DepthTask(lr_scheduler_interval="step")``) this is the schedule of DeepLab, BTS
    and Depth Anything V2's metric fine-tuning (power 0.9). ``total_steps=None`` lets
    :class:`~depthzoo.task.DepthTask` fill in the run's length (``trainer.estimated_stepping_batches`` per step,
    ``trainer.max_epochs`` per epoch), so a config need not know the dataset size; until then the rate stays at
    its base. After ``total_steps`` the rate is 0.

    Args:
        optimizer: the wrapped optimizer (each group keeps its own base rate, e.g. the encoder's lower one).
        power: the polynomial's exponent.
        total_steps: the number of scheduler steps over which the rate falls to 0; None: set by the task.
        last_epoch: the index of the last step, for resuming (-1 starts afresh).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        power: float = 0.9,
        total_steps: int | None = None,
        last_epoch: int = -1,
    ) -> None:
        self.power = check_number("power", power, low=0.0)
        self.total_steps = None if total_steps is None else check_int("total_steps", total_steps, minimum=1)
        super().__init__(optimizer, last_epoch)

    def set_total_steps(self, total_steps: int) -> None:
        """Fix the schedule's length (once; the task calls this when the config left it open)."""
        if self.total_steps is not None and self.total_steps != total_steps:
            raise InvalidArgumentError(f"PolyLR.total_steps is {self.total_steps} already, not {total_steps}")
        self.total_steps = check_int("total_steps", total_steps, minimum=1)

    def factor(self, step: int) -> float:
        """The multiplier of the base rates after ``step`` scheduler steps."""
        if self.total_steps is None:
            return 1.0
        remaining = max(0.0, 1.0 - step / self.total_steps)
        return remaining**self.power

    def get_lr(self) -> list[float]:
        """The rates for the current step (closed form, so resuming lands on the same values)."""
        factor = self.factor(self.last_epoch)
        return [base * factor for base in self.base_lrs]


__all__ = ["PolyLR"]
