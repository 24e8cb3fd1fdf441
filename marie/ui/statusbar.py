"""The status bar: cursor position, selection size, encoding, line ending, language, indentation.

``StatusBar.show_editor(editor)`` refreshes the fields from an EditorView; other areas add their own
widgets with ``window.status_bar.add_widget(w)`` (git branch, LSP state, AI usage ...). GUI thread.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {
    "python": "Python", "javascript": "JavaScript", "typescript": "TypeScript", "json": "JSON", "yaml": "YAML",
    "toml": "TOML", "markdown": "Markdown", "html": "HTML", "css": "CSS", "c": "C", "cpp": "C++", "go": "Go",
    "rust": "Rust", "java": "Java", "shell": "Shell", "bash": "Shell", "sql": "SQL", "makefile": "Makefile",
    "dockerfile": "Dockerfile", "ini": "INI", "xml": "XML", "diff": "Diff", "text": "Plain Text",
    "plaintext": "Plain Text", "": "Plain Text",
}


def language_name(language_id: str | None) -> str:
    return LANGUAGE_NAMES.get(language_id or "", (language_id or "Plain Text").capitalize())


class StatusBar(QStatusBar):
    """QStatusBar with the editor fields on the right and an ``add_widget`` slot for other areas."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MarieStatusBar")
        self._extra: list[QWidget] = []
        self.position = self._field("position", "Line and column of the cursor")
        self.selection = self._field("selection", "Characters selected")
        self.indentation = self._field("indentation", "Indentation of this file")
        self.encoding = self._field("encoding", "Encoding the file is read and written with")
        self.eol = self._field("eol", "Line endings kept when saving")
        self.language = self._field("language", "Language mode")
        self.show_editor(None)

    def _field(self, name: str, tip: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(f"status.{name}")
        label.setToolTip(tip)
        self.addPermanentWidget(label)
        return label

    def add_widget(self, widget: QWidget, permanent: bool = True) -> None:
        """Let another area show something here (left of the editor fields when ``permanent``)."""
        self._extra.append(widget)
        if permanent:
            self.insertPermanentWidget(len(self._extra) - 1, widget)
        else:
            self.addWidget(widget)

    def show_editor(self, editor: Any | None) -> None:
        """Refresh every field from ``editor`` (an EditorView) or blank them when None."""
        fields = (self.position, self.selection, self.indentation, self.encoding, self.eol, self.language)
        if editor is None:
            for label in fields:
                label.setText("")
                label.setVisible(False)
            return
        for label in fields:
            label.setVisible(True)
        self.update_cursor(editor)
        try:
            fmt = editor.text_file.format
            self.encoding.setText(fmt.label)
            self.eol.setText(fmt.eol_label)
        except AttributeError:
            self.encoding.setText("UTF-8")
            self.eol.setText("LF")
        self.language.setText(language_name(getattr(editor, "language", "")))
        self.indentation.setText(indentation_label(editor))

    def update_cursor(self, editor: Any) -> None:
        """Cheap refresh on each cursor move: position and selection size only."""
        try:
            line, column = editor.cursor_position()
        except Exception:
            line, column = 1, 1
        self.position.setText(f"Ln {line}, Col {column}")
        try:
            sci = editor.sci
            main = sci.mainSelection()
            # no text is copied out of Scintilla for the usual case: an empty selection
            count = len(editor.selected_text()) if sci.selectionNEnd(main) > sci.selectionNStart(main) else 0
        except Exception:
            count = 0
        self.selection.setText(f"({count} selected)" if count else "")
        self.selection.setVisible(bool(count))


def indentation_label(editor: Any) -> str:
    sci = getattr(editor, "sci", None)
    try:
        width = sci.indent() or sci.tabWidth()
        return f"Tabs: {sci.tabWidth()}" if sci.useTabs() else f"Spaces: {width}"
    except Exception:
        return "Spaces: 4"
