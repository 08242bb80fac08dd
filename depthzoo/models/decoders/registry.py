"""The decoder registry.

A decoder is a class taking ``(in_channels, reductions, **options)`` and mapping the encoder's feature list to a
(B, 1, h, w) depth map; it declares ``output_stride``.

Add one with a decorator (one new file, no edit elsewhere)::

    @register_decoder("my_decoder")
    class MyDecoder(nn.Module):
        def __init__(self, in_channels: list[int], reductions: list[int], width: int = 64): ...

Third-party packages register through the entry-point group ``depthzoo.decoders`` (``name = "pkg.module:Class"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from depthzoo.registry import Registry

DECODERS: Registry[nn.Module] = Registry(
    "decoder", entry_point_group="depthzoo.decoders", reserved_args=("in_channels", "reductions")
)
register_decoder = DECODERS.register


def list_decoders(pattern: str = "*") -> list[str]:
    """Registered decoder names matching the shell-style wildcard ``pattern`` (e.g. ``"*upproj"``).

    >>> list_decoders("*upproj")
    ['fast_upproj', 'upproj']
    """
    return DECODERS.names(pattern)


def check_decoder_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    """Fail before building anything if ``name`` is unknown or ``kwargs`` has a typo or a wrong value."""
    DECODERS.check_kwargs(name, kwargs)


def build_decoder(name: str, in_channels: Sequence[int], reductions: Sequence[int], **kwargs: Any) -> nn.Module:
    """Instantiate decoder ``name`` for an encoder with these feature channels and strides."""
    return DECODERS.build(name, list(in_channels), list(reductions), **kwargs)
