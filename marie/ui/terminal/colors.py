"""Terminal colours: pyte's colour names and hex strings to QColors, per theme. The 16 ANSI colours
are VS Code's terminal palette for its light and dark themes; "default" is the theme's editor
foreground/background. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from marie.ui import themes

_NAMES = ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white")
_DARK = ("000000", "cd3131", "0dbc79", "e5e510", "2472c8", "bc3fbc", "11a8cd", "e5e5e5",
         "666666", "f14c4c", "23d18b", "f5f543", "3b8eea", "d670d6", "29b8db", "e5e5e5")
_LIGHT = ("000000", "cd3131", "00bc00", "949800", "0451a5", "bc05bc", "0598bc", "555555",
          "666666", "cd3131", "14ce14", "b5ba00", "0451a5", "bc05bc", "0598bc", "a5a5a5")


class TerminalColors:
    """Looks colours up (cached) for the current theme; ``refresh()`` after a theme switch."""

    def __init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        theme = themes.current_theme()
        table = _DARK if theme.dark else _LIGHT
        self._named: dict[str, QColor] = {}
        for i, name in enumerate(_NAMES):
            self._named[name] = QColor("#" + table[i])
            self._named["bright" + name] = QColor("#" + table[i + 8])
        self.foreground = QColor(theme.color("editor_foreground"))
        self.background = QColor(theme.color("editor_background"))
        self.selection = QColor(theme.color("selection"))
        self.find_match = QColor(theme.color("find_match"))
        self.link = QColor(theme.color("link"))
        self.cursor = QColor(theme.color("caret"))
        self._cache: dict[str, QColor] = {}

    def fg(self, name: str) -> QColor:
        return self.foreground if name == "default" else self._lookup(name)

    def bg(self, name: str) -> QColor | None:
        """None for the default background (nothing to fill)."""
        return None if name == "default" else self._lookup(name)

    def _lookup(self, name: str) -> QColor:
        color = self._named.get(name) or self._cache.get(name)
        if color is None:
            color = QColor("#" + name) if len(name) == 6 else self.foreground
            if not color.isValid():
                color = self.foreground
            self._cache[name] = color
        return color
