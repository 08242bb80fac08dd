"""A small typed registry: decorator registration, wildcard listing, helpful lookup errors, eager kwargs checks.

Decoders and losses are registered here. Third-party packages add entries without touching depthzoo through an
entry-point group (for decoders: ``depthzoo.decoders``); entry points are loaded on first lookup or listing.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import pkgutil
import re
import typing
import warnings
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from depthzoo.errors import DepthzooError

T = TypeVar("T")


class RegistryError(DepthzooError, KeyError):
    """Unknown name or bad arguments for a registry entry (a KeyError, so `except KeyError` keeps working)."""


def _natural_key(name: str) -> list[Any]:
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", name)]


class Registry(Generic[T]):
    """Maps names to factories (classes or functions) of one kind of component.

    Args:
        kind: what the entries are, used in messages ("decoder", "loss").
        entry_point_group: optional entry-point group whose entries are loaded lazily as extra registrations.
        reserved_args: leading constructor parameters supplied by depthzoo itself (not user kwargs).
    """

    def __init__(self, kind: str, entry_point_group: str | None = None, reserved_args: Iterable[str] = ()) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.reserved_args = tuple(reserved_args)
        self._entries: dict[str, Callable[..., T]] = {}
        self._entry_points_loaded = entry_point_group is None

    # ----------------------------------------------------------------------------------------------- registration
    def register(
        self, name: str | None = None, *, override: bool = False
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: ``@registry.register("name")`` (defaults to the lower-cased object name)."""

        def decorator(obj: Callable[..., T]) -> Callable[..., T]:
            key = name or obj.__name__.lower()
            if key in self._entries and self._entries[key] is not obj and not override:
                raise RegistryError(
                    f"{self.kind} {key!r} is already registered by {_qualname(self._entries[key])}; "
                    f"pick another name or pass override=True"
                )
            self._entries[key] = obj
            return obj

        return decorator

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not break depthzoo; say which one
                warnings.warn(f"could not load {self.kind} plugin {ep.name!r} ({ep.value}): {exc}", stacklevel=2)
                continue
            if ep.name not in self._entries:  # importing the plugin may already have registered it
                self._entries[ep.name] = obj

    # ----------------------------------------------------------------------------------------------------- lookup
    def names(self, pattern: str | Iterable[str] = "*") -> list[str]:
        """Registered names matching one or more shell-style wildcards, naturally sorted."""
        self._load_entry_points()
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        found = {n for n in self._entries for p in patterns if fnmatch.fnmatchcase(n, p)}
        return sorted(found, key=_natural_key)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._entries

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name``; unknown names fail with close matches."""
        self._load_entry_points()
        try:
            return self._entries[name]
        except KeyError:
            raise RegistryError(unknown_name_message(self.kind, name, self._entries)) from None

    def check_kwargs(self, name: str, kwargs: dict[str, Any]) -> None:
        """Validate keyword arguments for ``name`` before anything is built: names, and simple types and choices."""
        factory = self.get(name)
        params = _user_parameters(factory, self.reserved_args)
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            unknown = [k for k in kwargs if k not in params]
            if unknown:
                valid = ", ".join(f"{p}" for p in params.values() if p.kind is not p.VAR_KEYWORD) or "(none)"
                hints = []
                for k in unknown:
                    close = difflib.get_close_matches(k, list(params), n=1)
                    hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
                raise RegistryError(
                    f"{self.kind} {name!r} got unexpected argument(s) {', '.join(hints)}. Valid arguments: {valid}"
                )
        hints = _type_hints(factory)
        for key, value in kwargs.items():
            if key in hints:
                problem = _type_problem(value, hints[key])
                if problem:
                    raise RegistryError(f"{self.kind} {name!r}: argument {key}={value!r} is invalid: {problem}")

    def build(self, name: str, *args: Any, **kwargs: Any) -> T:
        """Check ``kwargs`` then call the factory registered as ``name``."""
        self.check_kwargs(name, kwargs)
        return self.get(name)(*args, **kwargs)


def unknown_name_message(kind: str, name: str, known: Iterable[str], listing_hint: str | None = None) -> str:
    """'Unknown decoder 'upprj'. Did you mean: upproj, fast_upproj? Known: ...' (shared by encoders too)."""
    known = sorted(known, key=_natural_key)
    close = difflib.get_close_matches(str(name), known, n=5, cutoff=0.6)
    msg = f"unknown {kind} {name!r}."
    if close:
        msg += f" Did you mean: {', '.join(close)}?"
    if listing_hint:
        msg += f" {listing_hint}"
    elif len(known) <= 40:
        plural = kind + ("es" if kind.endswith("s") else "s")
        msg += f" Known {plural}: {', '.join(known) or '(none)'}."
    return msg


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _signature_chain(factory: Callable[..., Any]) -> list[Callable[..., Any]]:
    """The factory, then (for classes whose __init__ forwards **kwargs) each base-class __init__ up the MRO."""
    if not inspect.isclass(factory):
        return [factory]
    chain = []
    for cls in factory.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        chain.append(init)
        if not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(init).parameters.values()):
            break
    return chain


def _user_parameters(factory: Callable[..., Any], reserved: tuple[str, ...]) -> dict[str, inspect.Parameter]:
    """Keyword parameters a user may pass, merged along the **kwargs chain (the last level keeps its **kwargs)."""
    params: dict[str, inspect.Parameter] = {}
    chain = _signature_chain(factory)
    for level, func in enumerate(chain):
        for name, p in inspect.signature(func).parameters.items():
            if name == "self" or name in reserved or p.kind is p.VAR_POSITIONAL or name in params:
                continue
            if p.kind is p.VAR_KEYWORD and level < len(chain) - 1:
                continue  # forwarded to the next level, whose parameters are merged in
            params[name] = p
    return params


def _type_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    hints: dict[str, Any] = {}
    for func in reversed(_signature_chain(factory)):
        try:
            hints.update(typing.get_type_hints(func))
        except Exception:  # unresolvable annotations: skip type checks rather than fail
            pass
    return hints


def _type_problem(value: Any, hint: Any) -> str | None:
    """A message if ``value`` clearly does not fit ``hint`` (only simple cases are judged; others pass)."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        return None if value in choices else f"expected one of {', '.join(map(repr, choices))}"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        options = typing.get_args(hint)
        problems = [_type_problem(value, h) for h in options]
        return None if any(p is None for p in problems) else " or ".join(p for p in problems if p)
    if hint is type(None):
        return None if value is None else "expected None"
    if hint is bool:
        return None if isinstance(value, bool) else "expected a bool"
    if hint is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected an int"
    if hint is float:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "expected a number"
    if hint is str:
        return None if isinstance(value, str) else "expected a string"
    return None


def import_submodules(package: str) -> list[str]:
    """Import every module in ``package``'s folder whose name does not start with "_"; returns their names.

    This is how depthzoo finds its own decoders, losses, data modules and commands: a new file in the folder is
    imported, so its ``@register_...`` decorators run, with no list to edit. Sub-packages are not descended into.
    """
    module = importlib.import_module(package)
    names = []
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
            names.append(info.name)
    return names
