"""depthzoo's imports point one way: no cycle, counting every import in the source, and each layer below the next.

The graph is built from the source with ``ast``: module-level imports, imports inside functions and imports under
``if TYPE_CHECKING`` alike, since each says that one module depends on another. The layers, lowest first:

0. foundation: errors, version, resources, the registry, utils, camera geometry;
1. file formats and raw readers (safetensors, PyTorch checkpoints, state dicts, TF checkpoints, safe unpickling);
2. building blocks: models (and their fast inference), losses, metrics, datasets, transforms, the synthetic
   renderer, pictures and writers, schedules;
3. what builds and packages models: weights (readers of every source, which build models), export, data modules;
4. the systems around them: the Hub, the Lightning task, callbacks, checkpointing;
5. the command line and the package's root.

A module imports only modules of its own layer or below.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "depthzoo"

LAYERS: dict[str, int] = {
    "depthzoo.errors": 0,
    "depthzoo.version": 0,
    "depthzoo.resources": 0,
    "depthzoo.registry": 0,
    "depthzoo.utils": 0,
    "depthzoo.geometry": 0,
    "depthzoo.formats": 1,
    "depthzoo.models": 2,
    "depthzoo.inference": 2,
    "depthzoo.losses": 2,
    "depthzoo.metrics": 2,
    "depthzoo.datasets": 2,
    "depthzoo.transforms": 2,
    "depthzoo.synthetic": 2,
    "depthzoo.visualize": 2,
    "depthzoo.writers": 2,
    "depthzoo.schedulers": 2,
    "depthzoo.weights": 3,
    "depthzoo.export": 3,
    "depthzoo.datamodules": 3,
    "depthzoo.hub": 4,
    "depthzoo.task": 4,
    "depthzoo.callbacks": 4,
    "depthzoo.checkpointing": 4,
    "depthzoo.cli": 5,
    "depthzoo.data": 5,
    "depthzoo.__main__": 5,
    "depthzoo": 5,
}
LAYER_NAMES = ("foundation", "formats", "building blocks", "weights/export/data modules", "hub/task", "command line")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict) -> list[str]:
    """The depthzoo modules an import names (``from a import b``: the module ``a.b`` if it is one, else ``a``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:  # relative: from the package of `module`
            base = module.split(".") if is_package else module.split(".")[:-1]
            source = ".".join([*base[: len(base) - (node.level - 1)], *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        names = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source for alias in node.names]
    found = []
    for name in names:
        while name and name not in modules:  # a name inside a module: the module
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] == "depthzoo":
            found.append(name)
    return found


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported depthzoo module: line of the first import}, every import of the source counted."""
    modules = all_modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for node in ast.walk(parsed(path)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in imported_modules(node, module, path.name == "__init__.py", modules):
                    if target != module:
                        edges.setdefault(target, node.lineno)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def layer_of(module: str) -> int | None:
    name = module
    while name:
        if name in LAYERS:
            return LAYERS[name]
        name = name.rpartition(".")[0]
    return None


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    return "\n".join(f"  {a} (line {graph[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:]))


def test_the_graph_sees_imports_inside_functions():
    """The graph builder is checked on what it must catch: an import inside a function, and `from a import b`."""
    graph = import_graph()
    assert "depthzoo.task" in graph["depthzoo.cli.lightning"]  # imported inside lightning_main only
    assert "depthzoo.weights.loader" in graph["depthzoo.cli.convert"]  # `from depthzoo.weights import loader`
    assert "depthzoo.models.sharing" in graph["depthzoo.models.depth_model"]
    looped = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert find_cycle(looped) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}}) is None


def test_no_import_cycle():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "depthzoo's imports form a cycle:\n" + describe(cycle, graph)


def test_every_module_has_a_layer():
    unplaced = sorted(module for module in all_modules() if layer_of(module) is None)
    assert not unplaced, f"give these modules a layer in tests/test_layering.py (LAYERS): {unplaced}"


def test_layers_point_down():
    graph = import_graph()
    upward = [
        f"{module} ({LAYER_NAMES[layer_of(module)]}) imports {target} ({LAYER_NAMES[layer_of(target)]}), line {line}"
        for module, edges in graph.items()
        for target, line in edges.items()
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("depthzoo.formats", ("depthzoo.models", "depthzoo.weights", "depthzoo.hub", "depthzoo.task", "depthzoo.cli")),
        ("depthzoo.models", ("depthzoo.weights", "depthzoo.hub", "depthzoo.task", "depthzoo.cli")),
        ("depthzoo.weights", ("depthzoo.hub", "depthzoo.task", "depthzoo.cli")),
    ],
)
def test_the_named_layers(lower, upper):
    """The order the package is organised around: formats < models < weights < hub, task and command line."""
    graph = import_graph()
    wrong = [
        f"{module} imports {target}"
        for module, edges in graph.items()
        if module == lower or module.startswith(lower + ".")
        for target in edges
        if any(target == u or target.startswith(u + ".") for u in upper)
    ]
    assert not wrong, wrong


def test_deferred_imports_say_why():
    """An import of depthzoo inside a function defers something heavy, and a comment next to it says what."""
    silent = []
    modules = all_modules()
    for module, path in modules.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for function in ast.walk(parsed(path)):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                if not imported_modules(node, module, path.name == "__init__.py", modules):
                    continue
                row = node.lineno - 1
                block = [lines[node.end_lineno - 1]]
                while row >= 0 and lines[row].strip().startswith(("#", "from ", "import ")):
                    block.append(lines[row])
                    row -= 1
                if not any("deferred" in line.lower() for line in block):
                    silent.append(f"{module}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not silent, "deferred imports without a '# deferred: <what is heavy>' comment:\n" + "\n".join(silent)
