"""The Keyboard Shortcuts view (Preferences: Keyboard Shortcuts, Ctrl+K Ctrl+S): every command with
its shortcut, where the shortcut comes from (default or ``keybindings.toml``), and conflicts (two
commands on one key sequence) marked in red. Searchable by command, id or key. Double-click a row
to record a new shortcut (written to ``keybindings.toml`` and applied at once); "Reset" puts the
default back. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QKeySequenceEdit, QLabel, QLineEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from marie.ui.keybindings import Binding, Keybindings, normalise
from marie.ui.qt_names import Qt

COLUMNS = ("Command", "Keybinding", "Source", "Command id")


class KeybindingsView(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.setObjectName("KeybindingsView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search by command, id or key (e.g. ctrl+shift+k)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        top.addWidget(self.search, 1)
        self.recorder = QKeySequenceEdit(self)
        self.recorder.setToolTip("Press the new shortcut for the selected command")
        top.addWidget(self.recorder)
        self.assign = QPushButton("Assign", self)
        self.assign.clicked.connect(self._assign_selected)
        top.addWidget(self.assign)
        self.reset = QPushButton("Reset", self)
        self.reset.clicked.connect(self._reset_selected)
        top.addWidget(self.reset)
        layout.addLayout(top)
        self.summary = QLabel("", self)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.itemDoubleClicked.connect(lambda _item: self.recorder.setFocus())
        layout.addWidget(self.table, 1)
        self.bindings: list[Binding] = []
        self.conflicts: dict[str, list[str]] = {}
        self._pending = False
        self.refresh()
        window.commands.on_register(lambda _c: self._refresh_later())

    @property
    def keybindings(self) -> Keybindings:
        return self.window_.keybindings

    def _refresh_later(self) -> None:
        from PySide6.QtCore import QTimer

        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.refresh)

    def refresh(self) -> None:
        self._pending = False
        self.bindings = sorted(self.keybindings.bindings(self.window_.commands.all()), key=lambda b: b.title.lower())
        self.conflicts = self.keybindings.conflicts(self.bindings)
        clashing = {cid for ids in self.conflicts.values() for cid in ids}
        self.table.setRowCount(len(self.bindings))
        for row, binding in enumerate(self.bindings):
            keys = QKeySequence(binding.shortcut).toString(QKeySequence.SequenceFormat.NativeText) if binding.shortcut else ""
            source = binding.source + (" (default: " + binding.default + ")" if binding.source == "user" and binding.default else "")
            cells = [binding.title, keys, source, binding.command_id]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setData(Qt.ItemDataRole.UserRole, binding.command_id)
                if binding.command_id in clashing:
                    others = [c for c in self.conflicts[normalise(binding.shortcut)] if c != binding.command_id]
                    item.setForeground(QBrush(QColor("#d03030")))
                    item.setToolTip(f"Conflicts with {', '.join(others)}")
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        errors = "; ".join(self.keybindings.errors)
        self.summary.setText((f"{len(self.conflicts)} conflict(s)" if self.conflicts else "No conflicts")
                             + (f" \u2014 {errors}" if errors else ""))
        self.filter(self.search.text())

    def filter(self, text: str) -> int:
        words = text.lower().split()
        shown = 0
        for row, binding in enumerate(self.bindings):
            hay = f"{binding.title} {binding.command_id} {normalise(binding.shortcut)} {binding.shortcut}".lower()
            visible = all(word in hay for word in words)
            self.table.setRowHidden(row, not visible)
            shown += visible
        return shown

    def conflicting_ids(self) -> set[str]:
        return {cid for ids in self.conflicts.values() for cid in ids}

    def _selected_id(self) -> str | None:
        item = self.table.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def assign_shortcut(self, command_id: str, shortcut: str | None) -> None:
        """Bind ``command_id`` (None: back to its default), save and apply."""
        self.keybindings.set(command_id, shortcut)
        self.window_.reinstall_shortcuts()
        self.refresh()

    def _assign_selected(self) -> None:
        command_id = self._selected_id()
        sequence = self.recorder.keySequence().toString()
        if command_id and sequence:
            self.assign_shortcut(command_id, sequence)
            self.recorder.clear()

    def _reset_selected(self) -> None:
        command_id = self._selected_id()
        if command_id:
            self.assign_shortcut(command_id, None)
