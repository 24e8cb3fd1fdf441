"""Go to symbol in the file (Ctrl+Shift+O) and in the workspace (Ctrl+T), over the index's
tree-sitter symbols. Matching runs on the "quickopen" worker like quick open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import frizbee

from marie.ui.quick_open import PickerDialog


def _label(symbol) -> str:
    inside = f"  ({symbol.container})" if symbol.container else ""
    return f"{symbol.name}{inside}"


class FileSymbolPicker(PickerDialog):
    placeholder = "Go to symbol in file"

    def __init__(self, window: Any, rel: str) -> None:
        super().__init__(window)
        self.rel = rel

    def compute(self, query: str):
        symbols = self.app.index.symbols(self.rel)
        query = query.strip().lstrip("@")
        if query:
            matcher = frizbee.Matcher(query, max_typos=0, sort="score_then_index_asc")
            symbols = [symbols[m.index] for m in matcher.match_list([s.name for s in symbols])]
        return [(_label(s), f"{s.kind} · line {s.line}", (s.path, s.line, s.column)) for s in symbols]

    def choose(self, payload) -> None:
        rel, line, column = payload
        self.window_.open_file(Path(self.app.root) / rel, line, column)


class WorkspaceSymbolPicker(PickerDialog):
    placeholder = "Go to symbol in workspace"

    def compute(self, query: str):
        return [(_label(s), f"{s.kind} · {s.path}:{s.line}", (s.path, s.line, s.column))
                for s in self.app.index.workspace_symbols(query, limit=100)]

    def choose(self, payload) -> None:
        rel, line, column = payload
        self.app.index.note_opened(rel)
        self.window_.open_file(Path(self.app.root) / rel, line, column)


def show_file_symbols(window: Any) -> FileSymbolPicker | None:
    editor = window.current_editor()
    path = getattr(editor, "path", None) if editor is not None else None
    if not path:
        window.show_message("Open a file first to list its symbols", "info")
        return None
    try:
        rel = Path(path).resolve().relative_to(Path(window.app.root)).as_posix()
    except ValueError:
        window.show_message("The file is outside the workspace", "info")
        return None
    old = window.findChild(FileSymbolPicker)      # one per window, for the current file
    if old is not None:
        old.deleteLater()
    dialog = FileSymbolPicker(window, rel)
    dialog.open()
    return dialog


def show_workspace_symbols(window: Any) -> WorkspaceSymbolPicker:
    index = window.app.index
    if not index.symbol_index.ready and (index.symbol_index._task is None):
        index.symbol_index.start()
    dialog = window.findChild(WorkspaceSymbolPicker) or WorkspaceSymbolPicker(window)   # one per window
    dialog.open()
    return dialog
