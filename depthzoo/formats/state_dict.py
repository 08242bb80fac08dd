"""Strict loading of a state dict: every expected tensor present with its shape, every given tensor used.

>>> from torch import nn
>>> import torch
>>> load_state(nn.Linear(2, 1), {"weight": torch.zeros(1, 2)}, source="w.pth")
Traceback (most recent call last):
...
depthzoo.errors.WeightsError: the weights do not fit the model: missing bias (w.pth)
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

import torch
from torch import nn

from depthzoo.errors import WeightsError, listing


def state_problems(
    expected: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor], optional: Collection[str] = ()
) -> list[str]:
    """What keeps ``given`` from loading strictly where ``expected`` is: missing, unexpected and misshaped names.

    Args:
        expected: the tensors a model has.
        given: the tensors offered to it.
        optional: expected names that may be absent from ``given`` without being reported.
    """
    missing = sorted(set(expected) - set(given) - set(optional))
    unexpected = sorted(set(given) - set(expected))
    misshaped = sorted(k for k in set(given) & set(expected) if tuple(given[k].shape) != tuple(expected[k].shape))
    problems = []
    if missing:
        problems.append(f"missing {listing(missing)}")
    if unexpected:
        problems.append(f"unexpected {listing(unexpected)}")
    if misshaped:
        problems.append(
            "wrong shape "
            + listing([f"{k} {list(given[k].shape)} (model: {list(expected[k].shape)})" for k in misshaped])
        )
    return problems


def load_state(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    source: str | os.PathLike[str] | None = None,
    fix: str | None = None,
    what: str = "the weights do not fit the model",
) -> None:
    """``model.load_state_dict(state, strict=True)``, after a check whose error names every offending tensor.

    Raises:
        WeightsError: "<what> (<source>): missing ...; unexpected ...; wrong shape ...: <fix>".
    """
    problems = state_problems(model.state_dict(), state)
    if problems:
        raise WeightsError(f"{what}: " + "; ".join(problems), source=source, fix=fix)
    model.load_state_dict(state, strict=True)


__all__ = ["load_state", "state_problems"]
