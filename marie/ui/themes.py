"""Light and dark themes: a QPalette for the widgets and named colours the editor reads.

``current_theme()`` returns the active ``Theme`` (``theme.color("keyword")`` etc. as ``#rrggbb``);
``apply_theme(mode)`` switches (``"system"``, ``"light"`` or ``"dark"``, setting ``ui.theme``);
``on_theme_changed(cb)`` tells views to repaint. The colour tables live in
``resources/themes/<name>.json`` so they can be tuned without code. GUI thread only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from marie.ui.qt_names import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "themes"

# Built-in tables, used when resources/ is not shipped next to the package (e.g. a wheel install).
_BUILTIN: dict[str, dict[str, str]] = {
    "light": {
        "window": "#f3f3f3", "window_text": "#1f1f1f", "base": "#ffffff", "alternate_base": "#f7f7f7",
        "text": "#1f1f1f", "button": "#ececec", "button_text": "#1f1f1f", "highlight": "#0a64c8",
        "highlight_text": "#ffffff", "tooltip_base": "#ffffe1", "tooltip_text": "#1f1f1f",
        "placeholder": "#8a8a8a", "link": "#0a64c8", "disabled_text": "#a0a0a0", "border": "#d0d0d0",
        "editor_background": "#ffffff", "editor_foreground": "#1f1f1f", "caret": "#000000",
        "caret_line": "#f2f6fc", "selection": "#add6ff", "line_number_background": "#f7f7f7",
        "line_number_foreground": "#8a8a8a", "fold_margin": "#f7f7f7", "indent_guide": "#d8d8d8",
        "whitespace": "#c0c0c0", "brace_match": "#b9e3c2", "brace_bad": "#f4b6b6", "find_match": "#ffe08a",
        "comment": "#008000", "keyword": "#0000ff", "keyword2": "#267f99", "string": "#a31515",
        "number": "#098658", "operator": "#1f1f1f", "identifier": "#1f1f1f", "function": "#795e26",
        "class": "#267f99", "decorator": "#af00db", "preprocessor": "#af00db", "error": "#e51400",
        "warning": "#bf8803", "info": "#1a85ff", "added": "#2ea043", "removed": "#d1242f",
        "modified": "#0969da", "bar_background": "#fff4ce", "bar_foreground": "#1f1f1f",
        "status_background": "#007acc", "status_foreground": "#ffffff",
    },
    "dark": {
        "window": "#252526", "window_text": "#cccccc", "base": "#1e1e1e", "alternate_base": "#2a2a2b",
        "text": "#d4d4d4", "button": "#333337", "button_text": "#cccccc", "highlight": "#264f78",
        "highlight_text": "#ffffff", "tooltip_base": "#252526", "tooltip_text": "#cccccc",
        "placeholder": "#7a7a7a", "link": "#3794ff", "disabled_text": "#6b6b6b", "border": "#3c3c3c",
        "editor_background": "#1e1e1e", "editor_foreground": "#d4d4d4", "caret": "#aeafad",
        "caret_line": "#2a2d2e", "selection": "#264f78", "line_number_background": "#1e1e1e",
        "line_number_foreground": "#858585", "fold_margin": "#1e1e1e", "indent_guide": "#404040",
        "whitespace": "#505050", "brace_match": "#3a5a40", "brace_bad": "#6e2b2b", "find_match": "#613214",
        "comment": "#6a9955", "keyword": "#569cd6", "keyword2": "#4ec9b0", "string": "#ce9178",
        "number": "#b5cea8", "operator": "#d4d4d4", "identifier": "#9cdcfe", "function": "#dcdcaa",
        "class": "#4ec9b0", "decorator": "#c586c0", "preprocessor": "#c586c0", "error": "#f14c4c",
        "warning": "#cca700", "info": "#3794ff", "added": "#3fb950", "removed": "#f85149",
        "modified": "#58a6ff", "bar_background": "#4b3d12", "bar_foreground": "#e8e8e8",
        "status_background": "#007acc", "status_foreground": "#ffffff",
    },
}

MODES = ("system", "light", "dark")


@dataclass(frozen=True)
class Theme:
    name: str                       # "light" | "dark"
    colors: dict[str, str] = field(default_factory=dict)

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def color(self, key: str, fallback: str = "#ff00ff") -> str:
        """A colour as ``#rrggbb`` (magenta when unknown, so a missing key is visible)."""
        return self.colors.get(key, fallback)

    def qcolor(self, key: str) -> QColor:
        return QColor(self.color(key))

    def bgr(self, key: str) -> int:
        """The colour as Scintilla wants it: 0xBBGGRR."""
        c = self.qcolor(key)
        return c.red() | (c.green() << 8) | (c.blue() << 16)

    def palette(self) -> QPalette:
        """The QPalette for widgets in this theme."""
        p = QPalette()
        roles = {
            QPalette.ColorRole.Window: "window", QPalette.ColorRole.WindowText: "window_text",
            QPalette.ColorRole.Base: "base", QPalette.ColorRole.AlternateBase: "alternate_base",
            QPalette.ColorRole.Text: "text", QPalette.ColorRole.Button: "button",
            QPalette.ColorRole.ButtonText: "button_text", QPalette.ColorRole.Highlight: "highlight",
            QPalette.ColorRole.HighlightedText: "highlight_text", QPalette.ColorRole.ToolTipBase: "tooltip_base",
            QPalette.ColorRole.ToolTipText: "tooltip_text", QPalette.ColorRole.PlaceholderText: "placeholder",
            QPalette.ColorRole.Link: "link", QPalette.ColorRole.BrightText: "highlight_text",
        }
        for role, key in roles.items():
            p.setColor(role, self.qcolor(key))
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
            p.setColor(QPalette.ColorGroup.Disabled, role, self.qcolor("disabled_text"))
        return p


def builtin_colors(dark: bool) -> dict[str, str]:
    """The built-in colour table of the light or dark theme (fallback for keys a theme file lacks)."""
    return _BUILTIN["dark" if dark else "light"]


def load(name: str) -> Theme:
    """The theme ``name`` ("light"/"dark"): built-in colours overlaid with resources/themes/<name>.json."""
    if name not in _BUILTIN:
        raise ValueError(f"unknown theme {name!r}; use one of: light, dark")
    colors = dict(_BUILTIN[name])
    file = RESOURCES / f"{name}.json"
    try:
        colors.update(json.loads(file.read_text(encoding="utf-8")).get("colors", {}))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("theme file %s ignored: %s", file, exc)
    return Theme(name, colors)


_system_palette_dark: bool | None = None


def _palette_is_dark() -> bool:
    """Whether the platform's own palette (before ours replaced it) has a dark window colour."""
    global _system_palette_dark
    if _system_palette_dark is None:
        window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
        _system_palette_dark = window.lightness() < 128
    return _system_palette_dark


def system_prefers_dark(quick: bool = False) -> bool:
    """What the desktop asks for (QStyleHints.colorScheme); light when unknown.

    ``quick`` (start-up, before the first paint) reads the platform palette instead: asking
    QStyleHints touches PySide6's ``Qt`` namespace, whose first use costs ~30 ms. The window checks
    the precise answer once it is on screen (``recheck_system``)."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    if quick:
        return _palette_is_dark()
    _palette_is_dark()   # remember the platform palette before apply_theme replaces it
    try:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # Qt older than 6.5
        return False


def resolve(mode: str, quick: bool = False) -> str:
    """``system`` -> ``light``/``dark``; bad values fall back to the system choice."""
    if mode in ("light", "dark"):
        return mode
    return "dark" if system_prefers_dark(quick) else "light"


_current: Theme | None = None
_mode: str = "system"
_listeners: list[Callable[[Theme], None]] = []


def current_theme() -> Theme:
    """The active theme (the system's choice until ``apply_theme`` runs)."""
    global _current
    if _current is None:
        _current = load(resolve(_mode))
    return _current


def current_mode() -> str:
    return _mode


def on_theme_changed(callback: Callable[[Theme], None]) -> Callable[[], None]:
    """Call ``callback(theme)`` after each switch; returns an unsubscribe function."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback) if callback in _listeners else None


def apply_theme(mode: str = "system", quick: bool = False) -> Theme:
    """Switch the whole application to ``mode`` ("system", "light", "dark"); returns the Theme.
    ``quick``: see ``system_prefers_dark`` (follow with ``recheck_system()`` after the first paint)."""
    global _current, _mode
    _mode = mode if mode in MODES else "system"
    theme = load(resolve(_mode, quick))
    changed = _current is None or theme.name != _current.name
    _current = theme
    app = QGuiApplication.instance()
    if app is not None:
        # Fusion draws every widget from the palette, so both themes look the same on every platform.
        from PySide6.QtWidgets import QApplication

        if isinstance(app, QApplication) and app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(theme.palette())
        if isinstance(app, QApplication):
            app.setStyleSheet(stylesheet(theme))
    if changed or True:  # views re-read colours even on a re-apply (e.g. a new editor font)
        for callback in list(_listeners):
            try:
                callback(theme)
            except Exception:
                log.exception("theme listener failed")
    return theme


def recheck_system() -> Theme | None:
    """After a ``quick`` start: re-apply when the precise system answer differs (None if unchanged)."""
    if _mode != "system" or _current is None:
        return None
    if resolve("system") != _current.name:
        return apply_theme("system")
    return None


def stylesheet(theme: Theme) -> str:
    """The few things QPalette cannot express: tab and dock title bars, the status bar, info bars."""
    c = theme.color
    return f"""
QTabBar::tab {{ padding: 4px 10px; border: 1px solid {c('border')}; border-bottom: none;
               background: {c('window')}; color: {c('window_text')}; }}
QTabBar::tab:selected {{ background: {c('editor_background')}; color: {c('editor_foreground')}; }}
QDockWidget::title {{ padding: 4px; background: {c('window')}; }}
QMainWindow > QTabBar::tab {{ padding: 3px 7px; }}
QStatusBar {{ background: {c('status_background')}; color: {c('status_foreground')}; }}
QStatusBar QLabel {{ color: {c('status_foreground')}; padding: 0 6px; }}
QWidget#InfoBar {{ background: {c('bar_background')}; color: {c('bar_foreground')}; }}
QWidget#InfoBar QLabel {{ color: {c('bar_foreground')}; }}
"""
