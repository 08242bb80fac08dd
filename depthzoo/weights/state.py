"""Moved to :mod:`depthzoo.formats.state_dict` (strict state-dict loading sits below the models that use it)."""

from depthzoo.formats.state_dict import load_state, state_problems

__all__ = ["load_state", "state_problems"]
