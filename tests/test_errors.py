"""The error family: one base class, built-in bases kept, and messages as "what (source): fix"."""

from __future__ import annotations

import pytest

from depthzoo import errors
from depthzoo.errors import DepthzooError, WeightsError, WeightsNotFoundError, listing
from depthzoo.registry import RegistryError


def test_message_parts() -> None:
    assert str(WeightsError("does not fit")) == "does not fit"
    assert str(WeightsError("does not fit", source="a.pth")) == "does not fit (a.pth)"
    assert str(WeightsError("does not fit", fix="use b")) == "does not fit: use b"
    error = WeightsNotFoundError("no file", source="a.pth", fix="download it")
    assert (error.what, error.source, error.fix) == ("no file", "a.pth", "download it")


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_a_depthzoo_error_with_a_builtin_base(name: str) -> None:
    cls = getattr(errors, name)
    if not isinstance(cls, type):
        return
    assert issubclass(cls, DepthzooError)
    if cls is not DepthzooError and cls is not errors.DataError:
        assert any(base.__module__ == "builtins" and base is not Exception for base in cls.__mro__)


def test_registry_errors_join_the_family_and_stay_key_errors() -> None:
    assert issubclass(RegistryError, DepthzooError) and issubclass(RegistryError, KeyError)
    assert str(RegistryError("unknown decoder 'x'")) == "unknown decoder 'x'"  # not quoted like a KeyError


def test_listing() -> None:
    assert listing([]) == "" and listing(["a"]) == "a"
    assert listing([str(i) for i in range(10)], limit=3) == "0, 1, 2, ... (10 in all)"
