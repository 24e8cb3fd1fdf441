"""Commands: every user action has an id, a title, a category and an optional default shortcut.

Menus, keyboard shortcuts and the command palette are all built from one ``CommandRegistry``, so an
action added by a panel appears everywhere at once. The registry itself holds no Qt objects; the
window turns each command into a ``QAction`` (``MainWindow._install_action``). GUI thread only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass
class Command:
    id: str                                   # "file.save", "view.toggle.files", ...
    title: str                                # "Save", shown in menus and the palette
    callback: Callable[[], Any]
    shortcut: str | None = None               # Qt key sequence text, e.g. "Ctrl+Shift+P"
    category: str = ""                        # "File", "Edit", "View", "Go", "Help" (menu name) or other
    enabled: Callable[[], bool] | None = None  # greyed out / skipped in the palette when it says False

    @property
    def label(self) -> str:
        """What the palette lists: ``Category: Title``."""
        return f"{self.category}: {self.title}" if self.category else self.title

    def is_enabled(self) -> bool:
        try:
            return self.enabled() if self.enabled else True
        except Exception:
            log.exception("enabled() of %s failed", self.id)
            return False


class CommandRegistry:
    """Holds commands by id. Listeners hear about each registration (the window adds menu items)."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._listeners: list[Callable[[Command], None]] = []

    def register(self, command: Command) -> Command:
        """Add (or replace) a command; returns it."""
        self._commands[command.id] = command
        for listener in list(self._listeners):
            listener(command)
        return command

    def add(self, id: str, title: str, callback: Callable[[], Any], shortcut: str | None = None,
            category: str = "") -> Command:
        return self.register(Command(id, title, callback, shortcut, category))

    def get(self, id: str) -> Command | None:
        return self._commands.get(id)

    def __contains__(self, id: str) -> bool:
        return id in self._commands

    def all(self) -> list[Command]:
        """Every command, in registration order."""
        return list(self._commands.values())

    def run(self, id: str) -> Any:
        """Run a command by id; raises KeyError for an unknown id."""
        command = self._commands.get(id)
        if command is None:
            raise KeyError(f"unknown command {id!r}")
        return command.callback()

    def on_register(self, listener: Callable[[Command], None]) -> None:
        self._listeners.append(listener)


def match(query: str, commands: list[Command], limit: int = 200) -> list[Command]:
    """Commands whose label matches ``query``, best first (``marie.index.palette_rank``)."""
    from marie.index.palette_rank import rank

    return rank(query, commands, label=lambda c: c.label, title=lambda c: c.title, ident=lambda c: c.id, limit=limit)
