"""The loss registry: ``@register_loss("name")`` on a MaskedDepthLoss subclass; ``build_loss(name, **kwargs)``."""

from __future__ import annotations

from typing import Any

from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.registry import Registry

LOSSES: Registry[MaskedDepthLoss] = Registry("loss", entry_point_group="depthzoo.losses")
register_loss = LOSSES.register


def list_losses(pattern: str = "*") -> list[str]:
    """Registered loss names matching the shell-style wildcard ``pattern``."""
    return LOSSES.names(pattern)


def build_loss(name: str, **kwargs: Any) -> MaskedDepthLoss:
    """Instantiate loss ``name``; unknown names and arguments fail with suggestions.

    >>> build_loss("berhu", threshold=0.2)
    BerHuLoss()
    >>> build_loss("berhuu")
    Traceback (most recent call last):
    ...
    depthzoo.registry.RegistryError: unknown loss 'berhuu'. Did you mean: berhu? Known losses: berhu, l1, l2, silog.
    """
    return LOSSES.build(name, **kwargs)
