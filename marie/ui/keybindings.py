"""User keybindings: ``keybindings.toml`` in the user config folder overrides a command's default
shortcut, and conflicts (two commands on one key sequence) are found.

The file::

    # command id = "key sequence" (Qt's text form, chords separated by ", "); "" unbinds
    [bindings]
    "edit.delete_lines" = "Ctrl+Shift+K"
    "view.split_right" = "Ctrl+Alt+\\\\"

A bad file or a bad value is reported in ``errors`` and the rest still applies. No Qt here: the
window turns shortcuts into ``QAction``s. GUI thread (tiny file reads).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from marie.core import atomic, paths

FILE_NAME = "keybindings.toml"
HEADER = ("# MarieIDE keyboard shortcuts: command id = \"key sequence\" (\"\" removes the shortcut).\n"
          "# The Keyboard Shortcuts view (Ctrl+K Ctrl+S) lists every command id.\n")


def keybindings_file() -> Path:
    return paths.config_dir() / FILE_NAME


@dataclass(frozen=True)
class Binding:
    command_id: str
    title: str
    shortcut: str          # "" when none
    source: str            # "default" | "user"
    default: str


def normalise(sequence: str) -> str:
    """A comparable form: chords split on ",", modifiers in a fixed order, case-folded keys."""
    order = {"ctrl": 0, "shift": 1, "alt": 2, "meta": 3}
    chords = []
    for chord in (c.strip() for c in sequence.split(",")):
        if not chord:
            continue
        parts = [p for p in chord.replace(" ", "").split("+")]
        if chord.endswith("++"):      # "Ctrl++": the key is "+"
            parts = [p for p in parts if p] + ["+"]
        mods = sorted((p.lower() for p in parts[:-1]), key=lambda m: order.get(m, 9))
        chords.append("+".join([*mods, parts[-1].lower()]))
    return ", ".join(chords)


class Keybindings:
    """The user's overrides, loaded from ``keybindings.toml``."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file or keybindings_file()
        self.overrides: dict[str, str] = {}
        self.errors: list[str] = []
        self.reload()

    def reload(self) -> None:
        self.overrides, self.errors = {}, []
        try:
            data = tomllib.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            self.errors.append(f"{self.file}: {exc}")
            return
        table = data.get("bindings", {})
        if not isinstance(table, dict):
            self.errors.append(f"{self.file}: [bindings] must be a table")
            return
        for command_id, value in table.items():
            if isinstance(value, str):
                self.overrides[command_id] = value
            else:
                self.errors.append(f"{self.file}: {command_id}: expected a string such as \"Ctrl+Shift+K\"")

    def shortcut_for(self, command: Any) -> str | None:
        """The shortcut a command gets: the user's, else its default."""
        if command.id in self.overrides:
            return self.overrides[command.id] or None
        return command.shortcut

    def bindings(self, commands: Iterable[Any]) -> list[Binding]:
        out = []
        for command in commands:
            user = command.id in self.overrides
            out.append(Binding(command.id, command.label, self.shortcut_for(command) or "",
                               "user" if user else "default", command.shortcut or ""))
        return out

    @staticmethod
    def conflicts(bindings: Iterable[Binding]) -> dict[str, list[str]]:
        """Normalised key sequence -> the command ids bound to it, for sequences with several."""
        seen: dict[str, list[str]] = {}
        for binding in bindings:
            if binding.shortcut:
                seen.setdefault(normalise(binding.shortcut), []).append(binding.command_id)
        return {key: ids for key, ids in seen.items() if len(ids) > 1}

    def set(self, command_id: str, shortcut: str | None) -> None:
        """Bind (``None``: back to the default) and write the file atomically."""
        if shortcut is None:
            self.overrides.pop(command_id, None)
        else:
            self.overrides[command_id] = shortcut
        lines = [HEADER, "[bindings]"]
        for key, value in sorted(self.overrides.items()):
            lines.append(f"{_toml_string(key)} = {_toml_string(value)}")
        self.file.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(self.file, ("\n".join(lines) + "\n").encode("utf-8"))


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
