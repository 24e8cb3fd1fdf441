"""The catalogue of settings the Settings view shows, read from the defaults files' comments.

``marie/core/defaults/<area>.toml`` documents each key with the comment lines right above it;
``catalog()`` pairs every key (``table.key``) with that text and its default. Plain Python (no Qt),
so the command line could list the same catalogue. Any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marie.core import settings as core_settings

_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"]+)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"]+)\s*=")


@dataclass(frozen=True)
class SettingDoc:
    key: str              # "editor.tab_width"
    default: Any
    description: str      # the comment above the key in its defaults file ("" when none)
    area: str             # the defaults file's name ("editor", "ai" ...)


def defaults_folder() -> Path:
    return Path(core_settings.__file__).resolve().parent / "defaults"


def _comments(file: Path) -> dict[str, str]:
    """key -> the comment block right above it (a blank line ends a block)."""
    out: dict[str, str] = {}
    table = ""
    block: list[str] = []
    depth = 0                     # inside a multi-line array or inline table: not a key line
    for raw in file.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if depth > 0:
            depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
            continue
        if not line:
            block = []
            continue
        if line.startswith("#"):
            block.append(line.lstrip("#").strip())
            continue
        found = _TABLE.match(line)
        if found:
            table = found.group(1).replace('"', "")
            block = []
            continue
        found = _KEY.match(line)
        if found:
            key = f"{table}.{found.group(1).strip(chr(34))}".strip(".")
            out[key] = " ".join(block).strip()
            value = line.split("=", 1)[1]
            depth = value.count("[") + value.count("{") - value.count("]") - value.count("}")
        block = []
    return out


def catalog() -> list[SettingDoc]:
    """Every default setting with its description, sorted by key."""
    defaults = core_settings.load_defaults()
    docs: dict[str, tuple[str, str]] = {}
    for file in sorted(defaults_folder().glob("*.toml")):
        for key, text in _comments(file).items():
            docs[key] = (text, file.stem)
    out = []
    for key, default in defaults.items():
        text, area = docs.get(key, ("", key.split(".", 1)[0]))
        if not text:                  # a key inside a documented table ("ai.routing.chat" ...)
            parent = key.rsplit(".", 1)[0]
            text = docs.get(parent, ("", area))[0]
        out.append(SettingDoc(key, default, text, area))
    return sorted(out, key=lambda d: d.key)


def parse_value(default: Any, text: str) -> Any:
    """The typed value a user typed for a setting whose default is ``default``; ValueError if bad."""
    text = text.strip()
    if isinstance(default, bool):
        if text.lower() in ("true", "yes", "on", "1"):
            return True
        if text.lower() in ("false", "no", "off", "0"):
            return False
        raise ValueError("expected true or false")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, str):
        return text
    raise ValueError("edit this setting in settings.toml")
