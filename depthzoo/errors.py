"""The errors a user can cause, as one family.

Every error that a wrong argument, a missing or unfit file, or bad input data can cause is a :class:`DepthzooError`.
Its message says what is wrong, where (the file or argument), and how to fix it; the ``depthzoo`` command prints it as
one ``error:`` line and exits with status 2, without a traceback (``--debug`` shows one). Each class also derives from
the built-in exception a Python caller would expect (``ValueError``, ``FileNotFoundError``, ...), so
``except ValueError`` keeps working.

>>> err = WeightsNotFoundError("no weights file", source="fcrn.safetensors", fix="convert the release first")
>>> str(err)
'no weights file (fcrn.safetensors): convert the release first'
>>> isinstance(err, FileNotFoundError), isinstance(err, DepthzooError)
(True, True)
"""

from __future__ import annotations

import os


def listing(names: list[str], limit: int = 8) -> str:
    """The first ``limit`` names joined by commas, and how many there are in all when some are left out.

    >>> listing(["a", "b", "c"], limit=2)
    'a, b, ... (3 in all)'
    """
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


class DepthzooError(Exception):
    """Base class: ``DepthzooError(what, source=None, fix=None)`` reads "what (source): fix".

    Args:
        what: what is wrong, or the whole message when ``source`` and ``fix`` are not given.
        source: the file, argument or input concerned.
        fix: what the user can do about it.
    """

    def __init__(self, what: str, source: str | os.PathLike[str] | None = None, fix: str | None = None) -> None:
        self.what = what
        self.source = None if source is None else os.fspath(source)
        self.fix = fix
        message = what + (f" ({self.source})" if self.source else "") + (f": {fix}" if fix else "")
        super().__init__(message)

    def __str__(self) -> str:  # KeyError and OSError would format their arguments otherwise
        return str(self.args[0]) if self.args else ""


class InvalidArgumentError(DepthzooError, ValueError):
    """An argument has a value that cannot work (out of range, unknown choice, inconsistent with another)."""


class ArgumentTypeError(DepthzooError, TypeError):
    """An argument has the wrong type (e.g. a string where a number of pixels is expected)."""


class OutputExistsError(DepthzooError, FileExistsError):
    """An output file exists already and overwriting was not asked for, or the path cannot be replaced safely."""


class OutputWriteError(DepthzooError, OSError):
    """An output cannot be written: its folder cannot be created or is read-only, or the disk is full."""


class WeightsError(DepthzooError, ValueError):
    """A weight source cannot be loaded: unreadable, refused as unsafe, or not fitting the model it describes."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """A weight file or named checkpoint is not where it was looked for; the message says where to get it."""


class FileFormatError(DepthzooError, ValueError):
    """A file is truncated, corrupt, or not in the format it claims to be."""


class DataError(DepthzooError):
    """Base class of the dataset errors (missing data, corrupt files, malformed lists, mismatched shapes)."""


__all__ = [
    "ArgumentTypeError",
    "DataError",
    "DepthzooError",
    "FileFormatError",
    "InvalidArgumentError",
    "OutputExistsError",
    "OutputWriteError",
    "WeightsError",
    "WeightsNotFoundError",
    "listing",
]
