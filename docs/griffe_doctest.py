"""A griffe extension for the API pages: a docstring's ``>>>`` examples become ``pycon`` code blocks.

Markdown would read a ``>>>`` line as a nested quote; the examples are code (and run as tests), so they are shown as
code, with their expected output.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """``text`` with each run of ``>>>`` lines and their output (up to a blank line) in a ``pycon`` fence.

    Runs already inside a fence are left alone.
    """
    lines, out, fenced, index = text.splitlines(), [], False, 0
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            fenced = not fenced
        if fenced or not stripped.startswith(">>>"):
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(stripped)]
        block = []
        while index < len(lines) and lines[index].strip() and lines[index].startswith(indent):
            block.append(lines[index])
            index += 1
        out += [f"{indent}```pycon", *block, f"{indent}```"]
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the doctest examples of every docstring griffe loads."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
