"""Edit formats: each module has ``NAME``, ``parse(text) -> list[Edit]`` and ``render(path, old, new)``.

``search_replace`` (default for capable models), ``udiff`` and ``whole`` (default for small local
models). ``grammar(name)`` gives the GBNF grammar that constrains a llama.cpp model to the format.
"""

from __future__ import annotations

from types import ModuleType

from marie.composer.edits import Edit
from marie.composer.errors import ParseError
from marie.composer.formats import search_replace, udiff, whole_file

FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (search_replace, udiff, whole_file)}
ALIASES = {"sr": "search_replace", "search-replace": "search_replace", "diff": "udiff", "unified": "udiff",
           "whole-file": "whole", "whole_file": "whole", "wholefile": "whole", "editblock": "search_replace"}


def canonical(name: str) -> str:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in FORMATS:
        raise ValueError(f"unknown edit format {name!r}; choose one of {', '.join(FORMATS)}")
    return key


def parse(text: str, name: str) -> list[Edit]:
    """Parse a model answer in format ``name``; raises ParseError with a message for the model."""
    return FORMATS[canonical(name)].parse(text)


def render(name: str, path: str, old: str | None, new: str | None, context: int = 3) -> str:
    return FORMATS[canonical(name)].render(path, old, new, context)


def fallback_order(first: str) -> list[str]:
    """The format to try first, then the others (most forgiving last)."""
    first = canonical(first)
    order = [first] + [f for f in ("search_replace", "whole", "udiff") if f != first]
    return order


__all__ = ["FORMATS", "ParseError", "Edit", "parse", "render", "canonical", "fallback_order"]
