"""The loss registry: ``@register_loss("name")`` on a MaskedDepthLoss subclass; ``build_loss(name, **kwargs)``.

``build_loss`` also takes a weighted sum of registered losses, ``"ssi+0.5*gradient_matching"``, and
:func:`build_losses` a list of terms (``[{"name": "ssi"}, {"name": "gradient_matching", "weight": 0.5}]``), the
forms the ``loss:`` and ``losses:`` arguments of :class:`~depthzoo.task.DepthTask` take on the command line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor, nn

from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.registry import Registry, RegistryError

LOSSES: Registry[MaskedDepthLoss] = Registry("loss", entry_point_group="depthzoo.losses")
register_loss = LOSSES.register

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_TERM = re.compile(rf"^\s*(?:({_NUMBER})\s*\*\s*)?([A-Za-z_][\w.-]*)\s*(?:\*\s*({_NUMBER})\s*)?$")


def list_losses(pattern: str = "*") -> list[str]:
    """Registered loss names matching the shell-style wildcard ``pattern``."""
    return LOSSES.names(pattern)


class WeightedSumLoss(MaskedDepthLoss):
    """``sum(weight * loss(pred, target, valid))`` over registered losses; each term keeps its own masking.

    >>> build_loss("ssi+0.5*gradient_matching")
    WeightedSumLoss(ssi + 0.5*gradient_matching)

    Args:
        terms: (weight, name, loss) triples; the weights are positive.
    """

    def __init__(self, terms: Sequence[tuple[float, str, MaskedDepthLoss]]) -> None:
        super().__init__()
        if not terms:
            raise RegistryError("a sum of losses needs at least one term")
        self.weights = [float(weight) for weight, _, _ in terms]
        self.names = [name for _, name, _ in terms]
        self.terms = nn.ModuleList([loss for _, _, loss in terms])
        self.affine_invariant = all(loss.affine_invariant for loss in self.terms)

    def forward(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        """The weighted sum of the terms on (B, 1, H, W) ``pred`` and ``target``."""
        total = None
        for weight, loss in zip(self.weights, self.terms):
            value = loss(pred, target, valid)
            total = weight * value if total is None else total + weight * value
        return total

    def __repr__(self) -> str:
        parts = [name if weight == 1.0 else f"{weight:g}*{name}" for weight, name in zip(self.weights, self.names)]
        return f"{type(self).__name__}({' + '.join(parts)})"


def _weight(text: str | float, where: str) -> float:
    weight = float(text)
    if not math.isfinite(weight) or weight <= 0:
        raise RegistryError(f"loss weights must be positive numbers, got {text!r} in {where!r}")
    return weight


def parse_loss_expression(expression: str) -> list[tuple[float, str]]:
    """``"ssi+0.5*gradient_matching"`` -> ``[(1.0, "ssi"), (0.5, "gradient_matching")]`` (``name*w`` works too)."""
    terms = []
    for part in expression.split("+"):
        match = _TERM.match(part)
        if match is None or (match.group(1) and match.group(3)):
            raise RegistryError(
                f"cannot read the loss {expression!r}: write a sum of registered names, each with an optional "
                f"positive weight, e.g. 'ssi+0.5*gradient_matching' (known losses: {', '.join(list_losses())})"
            )
        terms.append((_weight(match.group(1) or match.group(3) or 1.0, expression), match.group(2)))
    return terms


def build_loss(name: str, **kwargs: Any) -> MaskedDepthLoss:
    """Instantiate loss ``name``, or a weighted sum such as ``"ssi+0.5*gradient_matching"``.

    For a sum, ``kwargs`` maps term names to their options (``ssi={"trim": 0.2}``). Unknown names and arguments
    fail with suggestions.

    >>> build_loss("berhu", threshold=0.2)
    BerHuLoss()
    >>> build_loss("berhuu")
    Traceback (most recent call last):
    ...
    depthzoo.registry.RegistryError: unknown loss 'berhuu'. Did you mean: berhu? Known losses: berhu, ...
    """
    if "+" not in name and "*" not in name:
        return LOSSES.build(name, **kwargs)
    terms = parse_loss_expression(name)
    names = [term for _, term in terms]
    unknown = [key for key in kwargs if key not in names]
    if unknown:
        raise RegistryError(
            f"options of a sum of losses are given per term ({', '.join(names)}: {{option: value}}); "
            f"{', '.join(map(repr, unknown))} is not a term of {name!r}"
        )
    for key, options in kwargs.items():
        if not isinstance(options, Mapping):
            raise RegistryError(f"the options of term {key!r} must be a mapping of option names to values")
    built = [(weight, term, LOSSES.build(term, **dict(kwargs.get(term) or {}))) for weight, term in terms]
    return WeightedSumLoss(built)


def build_losses(terms: Sequence[Mapping[str, Any]]) -> MaskedDepthLoss:
    """A weighted sum from a list of terms: ``{"name": ..., "weight": 1.0, **options of that loss}`` each.

    >>> build_losses([{"name": "ssi", "trim": 0.2}, {"name": "gradient_matching", "weight": 0.5}])
    WeightedSumLoss(ssi + 0.5*gradient_matching)
    """
    built = []
    for position, term in enumerate(terms):
        if not isinstance(term, Mapping) or "name" not in term:
            raise RegistryError(
                f"losses[{position}] must be a mapping with a 'name' (and optionally 'weight' and the loss's "
                f"options), got {term!r}"
            )
        options = {key: value for key, value in term.items() if key not in ("name", "weight")}
        weight = _weight(term.get("weight", 1.0), f"losses[{position}]")
        built.append((weight, str(term["name"]), LOSSES.build(str(term["name"]), **options)))
    return WeightedSumLoss(built)
