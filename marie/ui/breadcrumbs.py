"""Breadcrumbs above the editor: the file's folders › file name › the class and function around the
caret.

The symbols are the index's tree-sitter outline of the file (``app.index.symbols``, fetched on a
worker and kept per file until the file is saved); which of them enclose the caret comes from the
buffer's own fold structure (``SCI_GETFOLDPARENT``: the headers of the blocks the caret is in), so
it follows unsaved edits as far as the symbol lines still match. A crumb is a button: a folder
reveals the Files panel, a symbol jumps to its line (recorded for Go Back). GUI thread only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

SEPARATOR = "\u203a"     # ›


def enclosing(symbols: list[Any], headers: list[int], caret_line: int) -> list[Any]:
    """The symbols whose (1-based) line is one of ``headers`` (fold headers around the caret, or
    the caret's own line), outermost first. Without fold information (``headers`` empty) the
    nearest symbol at or above the caret stands alone."""
    by_line: dict[int, Any] = {}
    for symbol in symbols:
        by_line.setdefault(symbol.line, symbol)
    if headers:
        chain = [by_line[line] for line in sorted(set(headers) | {caret_line}) if line in by_line]
        return chain
    above = [s for s in symbols if s.line <= caret_line]
    return [max(above, key=lambda s: s.line)] if above else []


class Breadcrumbs(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.app = window.app
        self.setObjectName("Breadcrumbs")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 1, 8, 1)
        self._layout.setSpacing(2)
        self._symbols: dict[str, list[Any]] = {}      # rel -> symbols (cleared for a file on save)
        self._asked: set[str] = set()
        self.crumbs: list[str] = []                   # what is shown, for tests and screenshots
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.refresh)
        window.currentEditorChanged.connect(lambda _e: self._timer.start(0))
        window.caretMoved.connect(lambda _e: self._timer.start())
        window.editorSaved.connect(self._saved)
        self.hide()

    def _rel(self, editor: Any) -> str | None:
        if editor is None or not editor.path:
            return None
        try:
            return Path(editor.path).resolve().relative_to(self.app.root).as_posix()
        except ValueError:
            return None

    def _saved(self, editor: Any) -> None:
        rel = self._rel(editor)
        if rel is not None:
            self._symbols.pop(rel, None)
            self._asked.discard(rel)
            self._timer.start(0)

    def refresh(self) -> None:
        editor = self.window_.current_editor()
        if editor is None or not editor.path:
            self._show([], editor)
            return
        rel = self._rel(editor)
        parts = list(Path(rel).parts) if rel else [Path(editor.path).name]
        crumbs: list[tuple[str, Any]] = [(p, ("folder", "/".join(parts[:i + 1]))) for i, p in enumerate(parts[:-1])]
        crumbs.append((parts[-1], ("file", None)))
        symbols = self._symbols.get(rel) if rel else None
        if symbols is None and rel is not None and rel not in self._asked and not editor.large_file_mode:
            self._asked.add(rel)
            self.app.tasks.submit(lambda _ctx, r=rel: self.app.index.symbols(r), name="breadcrumbs",
                                  worker="quickopen", on_done=lambda found, r=rel: self._arrived(r, found),
                                  on_error=lambda _exc, r=rel: self._arrived(r, []))
        if symbols:
            line, _column = editor.cursor_position()
            sci = editor.sci
            headers, at = [], line - 1
            for _ in range(64):            # fold parents, innermost first
                at = sci.foldParent(at)
                if at < 0:
                    break
                headers.append(at + 1)
            for symbol in enclosing(symbols, headers, line):
                crumbs.append((symbol.name, ("symbol", symbol)))
        self._show(crumbs, editor)

    def _arrived(self, rel: str, symbols: list[Any]) -> None:
        self._symbols[rel] = list(symbols or [])
        self._timer.start(0)

    def _show(self, crumbs: list[tuple[str, Any]], editor: Any) -> None:
        texts = [text for text, _ in crumbs]
        if texts == self.crumbs and self.isVisible() == bool(crumbs):
            return
        self.crumbs = texts
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for i, (text, target) in enumerate(crumbs):
            if i:
                self._layout.addWidget(QLabel(SEPARATOR, self))
            button = QToolButton(self)
            button.setText(text)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _c=False, t=target, e=editor: self._go(t, e))
            self._layout.addWidget(button)
        self._layout.addStretch(1)
        self.setVisible(bool(crumbs))

    def _go(self, target: Any, editor: Any) -> None:
        kind, value = target
        if kind == "symbol" and editor is not None and editor.path:
            self.window_.open_file(editor.path, value.line, value.column)
        elif kind == "folder" and "files" in getattr(self.window_, "docks", {}):
            self.window_.show_panel("files")
