"""Small dialogs the window uses: save/discard/cancel, go to line, open/save-as file pickers and a
side-by-side-free unified diff viewer. Each is a plain function so tests can monkeypatch it.
GUI thread only.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QInputDialog, QMessageBox,
                               QPlainTextEdit, QVBoxLayout, QWidget)

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def ask_save_changes(parent: QWidget, name: str) -> str:
    """Ask what to do with unsaved changes in ``name``: returns SAVE, DISCARD or CANCEL."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Do you want to save the changes you made to {name}?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return DISCARD
    return CANCEL


def ask_goto_line(parent: QWidget, current: int, last: int) -> tuple[int, int | None] | None:
    """Ask for ``line`` or ``line:column``; None when cancelled or not a number."""
    text, ok = QInputDialog.getText(parent, "Go to Line", f"Line (1-{last}), optionally :column",
                                    text=str(current))
    if not ok:
        return None
    return parse_line_column(text)


def parse_line_column(text: str) -> tuple[int, int | None] | None:
    parts = text.strip().replace(",", ":").split(":")
    try:
        line = int(parts[0])
        column = int(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError:
        return None
    return max(1, line), column


def ask_open_file(parent: QWidget, folder: Path) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open File", str(folder))
    return Path(name) if name else None


def ask_save_path(parent: QWidget, suggestion: Path) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, "Save As", str(suggestion))
    return Path(name) if name else None


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=old_name, tofile=new_name)
    text = "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)
    return text or "The two versions are identical.\n"


class DiffDialog(QDialog):
    """Read-only unified diff of two texts (e.g. the file on disk against the unsaved buffer)."""

    def __init__(self, parent: QWidget | None, title: str, old: str, new: str, old_name: str,
                 new_name: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(900, 600)
        layout = QVBoxLayout(self)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font: QFont = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.view.setFont(font)
        self.view.setPlainText(unified_diff(old, new, old_name, new_name))
        layout.addWidget(self.view)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def show_diff(parent: QWidget | None, title: str, old: str, new: str, old_name: str = "on disk",
              new_name: str = "unsaved") -> DiffDialog:
    """Open a non-modal diff window and return it."""
    dialog = DiffDialog(parent, title, old, new, old_name, new_name)
    dialog.setAttribute(__import__("PySide6.QtCore", fromlist=["Qt"]).Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
