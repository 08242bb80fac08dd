"""Optional dependencies: a missing one is a clear error that names the extra to install.

>>> require_extra("json", extra="demo", purpose="this")   # installed: nothing happens
>>> require_extra("no_such_module_here", extra="demo", purpose="the web demo")
Traceback (most recent call last):
...
depthzoo.utils.extras.MissingExtraError: the web demo needs no_such_module_here, ...: pip install 'depthzoo[demo]'
"""

from __future__ import annotations

import importlib.util

from depthzoo.errors import DepthzooError


class MissingExtraError(DepthzooError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install 'depthzoo[EXTRA]'`` command."""


def require_extra(*modules: str, extra: str, purpose: str) -> None:
    """Raise :class:`MissingExtraError` when one of ``modules`` cannot be imported.

    Args:
        modules: the top-level modules needed.
        extra: the optional-dependency group of depthzoo that installs them (``demo``, ``docs``, ...).
        purpose: what needs them, for the message ("the web demo").
    """
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise MissingExtraError(
            f"{purpose} needs {', '.join(missing)}, which {verb} not installed",
            fix=f"install the {extra} extra: pip install 'depthzoo[{extra}]'",
        )


__all__ = ["MissingExtraError", "require_extra"]
