"""What a weight source is and holds, and the table of formats that read sources (:func:`depthzoo.load`).

A format is a name, a cheap test of a :class:`Source` (its name, suffix, or the content it reads once) and a
reader returning :class:`Weights`. The formats that come with depthzoo are registered, in the order they are
tried, by :mod:`depthzoo.weights.loader`; a release with its own layout registers one with
:func:`register_format`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from depthzoo.errors import InvalidArgumentError, WeightsError
from depthzoo.formats.torch_checkpoint import read_checkpoint
from depthzoo.registry import unknown_name_message

if TYPE_CHECKING:
    from depthzoo.models.depth_model import DepthModel

StateDict = Mapping[str, torch.Tensor]


@dataclass
class Weights:
    """What a source holds: tensors, and the architecture they belong to when the source records it.

    Args:
        state: the model's state dict, or a function building it for the model it will be loaded into (for
            releases whose tensors need the model's shapes to be converted).
        config: the build config (``encoder``, ``decoder``, ``decoder_kwargs``, ...), plus anything else to keep in
            ``model.config`` (licence, where the weights came from); None when the source does not say.
        source: the file, folder or name, for messages.
        format: the format name that read it.
    """

    state: StateDict | Callable[[DepthModel], StateDict]
    config: dict[str, Any] | None
    source: str
    format: str


class Source:
    """A source being identified: its text, its path, and its content read at most once (shared by the tests).

    Args:
        text: what the user passed (a path, a name, a repository id).
    """

    def __init__(self, text: str | os.PathLike[str]) -> None:
        self.text = os.fspath(text)
        self.path = Path(self.text).expanduser()
        self._checkpoint: dict[str, Any] | None = None

    @property
    def suffix(self) -> str:
        """The lower-cased file suffix."""
        return self.path.suffix.lower()

    @property
    def checkpoint(self) -> dict[str, Any]:
        """The dict of a PyTorch checkpoint file, read once with ``weights_only=True``."""
        if self._checkpoint is None:
            self._checkpoint = read_checkpoint(self.path)
        return self._checkpoint

    @property
    def checkpoint_if_read(self) -> dict[str, Any] | None:
        """:attr:`checkpoint` when a test has already read it, else None (a reader may then read it its own way)."""
        return self._checkpoint


@dataclass(frozen=True)
class SourceFormat:
    """A kind of weight source: how to recognise it and how to read it.

    Args:
        name: the format's name (``load(source, format=name)`` forces it).
        detect: True when the source is of this format; cheap (names, suffixes) or through ``Source.checkpoint``.
        read: ``read(source, **options) -> Weights``.
        options: the keyword options ``read`` accepts.
        describe: one line for listings and error messages.
        manifest_formats: the ``format`` values of ``checkpoints/manifest.json`` entries this format reads.
    """

    name: str
    detect: Callable[[Source], bool]
    read: Callable[..., Weights]
    options: tuple[str, ...] = ()
    describe: str = ""
    manifest_formats: tuple[str, ...] = ()


_FORMATS: dict[str, SourceFormat] = {}


def register_format(source_format: SourceFormat, before: str | None = None) -> SourceFormat:
    """Add a source format; formats are tried in order, ``before`` puts this one ahead of the named one.

    A release whose files share a suffix with another format (a ``.pth`` that is not a Lightning checkpoint)
    registers before it and tells its files apart by their content (``Source.checkpoint``).
    """
    if source_format.name in _FORMATS:
        raise InvalidArgumentError(f"weight format {source_format.name!r} is registered twice")
    if before is not None and before not in _FORMATS:
        raise InvalidArgumentError(unknown_name_message("weight format", before, _FORMATS))
    items = list(_FORMATS.items())
    position = [name for name, _ in items].index(before) if before is not None else len(items)
    items.insert(position, (source_format.name, source_format))
    _FORMATS.clear()
    _FORMATS.update(items)
    return source_format


def list_formats() -> dict[str, str]:
    """Format name -> what it reads, in the order sources are tested."""
    return {name: fmt.describe for name, fmt in _FORMATS.items()}


def get_format(name: str) -> SourceFormat:
    """The registered format called ``name``; an unknown name is an error listing the known ones."""
    if name not in _FORMATS:
        raise InvalidArgumentError(unknown_name_message("weight format", name, _FORMATS))
    return _FORMATS[name]


def format_for_manifest(manifest_format: str) -> SourceFormat:
    """The source format that reads files of a manifest entry's ``format``."""
    for fmt in _FORMATS.values():
        if manifest_format in fmt.manifest_formats:
            return fmt
    raise WeightsError(
        f"the known checkpoint has format {manifest_format!r}, which this depthzoo cannot read",
        fix="update depthzoo",
    )


__all__ = [
    "Source",
    "SourceFormat",
    "StateDict",
    "Weights",
    "format_for_manifest",
    "get_format",
    "list_formats",
    "register_format",
]
