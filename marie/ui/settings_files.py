"""Preferences as files: Open Settings opens the user (or project) ``settings.toml``, or
``keybindings.toml``, in an editor tab. Saving one reloads the settings (or shortcuts) at once and
shows what is wrong as diagnostics in that editor: a squiggle under the line, a marker in the
gutter, and the messages in the editor's bar. GUI thread only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from marie.core import atomic, paths

_LINE = re.compile(r"at line (\d+)")
TEMPLATE = ("# MarieIDE settings. Every key, its default and what it does: Preferences: Settings.\n"
            "# Example:\n# [editor]\n# font_size = 12\n")


def problem_line(text: str, key: str, message: str) -> int:
    """The 1-based line a settings problem is about: the TOML parser's line, or where the key's
    last part is assigned (under its table when it has one), else 1."""
    found = _LINE.search(message)
    if found:
        return int(found.group(1))
    if not key:
        return 1
    parts = key.split(".")
    lines = text.splitlines()
    table, name = ".".join(parts[:-1]), parts[-1]
    current = ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped.strip("[]").strip()
            continue
        assigned = stripped.split("=", 1)[0].strip().strip('"')
        if "=" in stripped and (assigned == name and current == table or assigned == key
                                or f"{current}.{assigned}".strip(".") == key):
            return number
    return 1


class SettingsFiles:
    """Opens the preference files and checks them on save (one per window)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.problems: dict[Path, list[tuple[int, str]]] = {}   # file -> (line, message) after the last save
        window.editorSaved.connect(self._saved)

    # -- opening ------------------------------------------------------------------------------------
    def open_user(self) -> Any | None:
        return self._open(paths.user_settings_file(), TEMPLATE)

    def open_project(self) -> Any | None:
        return self._open(paths.project_settings_file(self.window.app.root), TEMPLATE)

    def open_keybindings(self) -> Any | None:
        from marie.ui.keybindings import HEADER

        return self._open(self.window.keybindings.file, HEADER + "[bindings]\n")

    def _open(self, file: Path, template: str) -> Any | None:
        if not file.exists():
            # MarieIDE's own preference file (not the user's workspace): created with a short header
            file.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_bytes(file, template.encode("utf-8"))
        editor = self.window.open_file(file)
        if editor is not None:
            self._check(editor)
        return editor

    # -- checking -----------------------------------------------------------------------------------
    def _is_settings(self, path: Path) -> bool:
        app = self.window.app
        files = [paths.user_settings_file(), paths.project_settings_file(app.root)]
        return any(path == f.resolve() for f in files if f is not None)

    def _saved(self, editor: Any) -> None:
        path = Path(editor.path).resolve() if editor.path else None
        if path is None:
            return
        if path == Path(self.window.keybindings.file).resolve():
            self.window.reinstall_shortcuts()
            self._check(editor)
        elif self._is_settings(path):
            self.window.app.settings.reload()
            self._check(editor)

    def _check(self, editor: Any) -> list[tuple[int, str]]:
        """Show the problems of ``editor``'s preference file (from the settings' own validation)."""
        path = Path(editor.path).resolve()
        text = editor.text()
        if path == Path(self.window.keybindings.file).resolve():
            messages = [("", e) for e in self.window.keybindings.errors]
        else:
            messages = [(e.key, e.message) for e in self.window.app.settings.errors if Path(e.file).resolve() == path]
        found = [(problem_line(text, key, message), f"{key}: {message}" if key else message) for key, message in messages]
        self.problems[path] = found
        paint_problems(editor, found)
        if found:
            editor.info_bar.show_message("settings", f"{path.name}: {len(found)} problem(s) \u2014 "
                                         + "; ".join(f"line {line}: {m}" for line, m in found[:3]),
                                         [("OK", editor.info_bar.dismiss)])
        elif editor.info_bar.kind == "settings":
            editor.info_bar.dismiss()
        return found


def paint_problems(editor: Any, problems: list[tuple[int, str]]) -> None:
    """Error squiggles over whole lines and a gutter marker (the language servers' look)."""
    from marie.ui.lsp import markers

    sci = editor.sci
    markers.setup(sci)
    sci.setIndicatorCurrent(markers.INDIC_ERROR)
    sci.indicatorClearRange(0, sci.textLength())
    sci.markerDeleteAll(markers.M_ERROR)
    for line, _message in problems:
        line0 = max(0, min(line - 1, sci.lineCount() - 1))
        start, end = sci.positionFromLine(line0), sci.lineEndPosition(line0)
        sci.indicatorFillRange(start, max(1, end - start))
        sci.markerAdd(line0, markers.M_ERROR)
