"""The generic registry: registration, wildcard listing, suggestions, kwargs checks, entry-point plugins."""

import sys
import types
from importlib.metadata import EntryPoint
from typing import Literal

import pytest

import depthzoo.registry as registry_module
from depthzoo.registry import Registry, RegistryError


class Base:
    def __init__(self, size: int = 1, mode: Literal["a", "b"] = "a") -> None:
        self.size, self.mode = size, mode


class Child(Base):
    def __init__(self, extra: float = 0.5, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.extra = extra


def test_register_list_and_lookup() -> None:
    reg: Registry[Base] = Registry("widget")
    reg.register("base")(Base)
    reg.register("child_v2")(Child)
    reg.register("child_v10")(Child)
    assert reg.names() == ["base", "child_v2", "child_v10"]  # natural sort
    assert reg.names("child*") == ["child_v2", "child_v10"]
    assert reg.names(["base", "*10"]) == ["base", "child_v10"]
    assert reg.get("base") is Base


def test_unknown_name_suggests_close_matches() -> None:
    reg: Registry[Base] = Registry("widget")
    reg.register("upproj")(Base)
    reg.register("fast_upproj")(Base)
    with pytest.raises(KeyError, match=r"unknown widget 'uppro'\. Did you mean: upproj"):
        reg.get("uppro")


def test_duplicate_registration_is_an_error() -> None:
    reg: Registry[Base] = Registry("widget")
    reg.register("x")(Base)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("x")(Child)
    reg.register("x", override=True)(Child)
    assert reg.get("x") is Child


def test_kwargs_checked_along_the_kwargs_chain() -> None:
    reg: Registry[Base] = Registry("widget")
    reg.register("child")(Child)
    reg.check_kwargs("child", {"extra": 1, "size": 3, "mode": "b"})
    with pytest.raises(RegistryError, match=r"'sise' \(did you mean 'size'\?\)"):
        reg.check_kwargs("child", {"sise": 3})
    with pytest.raises(RegistryError, match="mode='c' is invalid: expected one of 'a', 'b'"):
        reg.check_kwargs("child", {"mode": "c"})
    with pytest.raises(RegistryError, match="expected a number"):
        reg.check_kwargs("child", {"extra": "big"})
    built = reg.build("child", extra=2.0, size=4)
    assert (built.extra, built.size, built.mode) == (2.0, 4, "a")


def test_entry_point_plugins_are_loaded_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = types.ModuleType("depthzoo_fake_plugin")
    plugin.PluginDecoder = Base  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "depthzoo_fake_plugin", plugin)
    eps = [EntryPoint(name="plugged", value="depthzoo_fake_plugin:PluginDecoder", group="depthzoo.test")]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: eps if group == "depthzoo.test" else [])
    reg: Registry[Base] = Registry("widget", entry_point_group="depthzoo.test")
    assert reg.names() == ["plugged"]
    assert reg.get("plugged") is Base


def test_broken_plugin_warns_and_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint(name="broken", value="depthzoo_no_such_module:Thing", group="depthzoo.test")]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: eps)
    reg: Registry[Base] = Registry("widget", entry_point_group="depthzoo.test")
    with pytest.warns(UserWarning, match="could not load widget plugin 'broken'"):
        assert reg.names() == []
