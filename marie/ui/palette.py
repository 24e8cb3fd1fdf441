"""The command palette (Ctrl+Shift+P): type to filter every registered command, Enter runs it.

Matching is ``marie.ui.commands.match`` (subsequence gate, rapidfuzz ranking). The palette closes
before running the command so a command that opens a dialog gets the focus. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from marie.index.palette_rank import match_positions
from marie.ui.commands import Command, CommandRegistry, match
from marie.ui.match_highlight import MatchDelegate, set_row


class CommandPalette(QDialog):
    def __init__(self, registry: CommandRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.setObjectName("CommandPalette")
        self.setWindowTitle("Command Palette")
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.setModal(True)
        self.resize(560, 360)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.input = QLineEdit(self)
        self.input.setPlaceholderText("Type a command")
        self.list = QListWidget(self)
        self.list.setItemDelegate(MatchDelegate(self.list))
        layout.addWidget(self.input)
        layout.addWidget(self.list)
        self.input.textChanged.connect(self.refill)
        self.input.returnPressed.connect(self.run_selected)
        self.list.itemActivated.connect(lambda _item: self.run_selected())
        self.input.installEventFilter(self)
        self.refill("")

    def refill(self, query: str) -> None:
        self.list.clear()
        commands = [c for c in self.registry.all() if c.id != "palette.show" and c.is_enabled()]
        for command in match(query, commands):
            shortcut = self._shortcut(command)
            item = QListWidgetItem()
            set_row(item, command.label, match_positions(query.strip(), command.label),
                    QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText) if shortcut else "")
            item.setData(Qt.ItemDataRole.UserRole, command.id)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _shortcut(self, command: Command) -> str | None:
        """The shortcut the window gave the command (keybindings.toml wins over the default)."""
        bindings = getattr(self.parentWidget(), "keybindings", None)
        return bindings.shortcut_for(command) if bindings is not None else command.shortcut

    def selected(self) -> Command | None:
        item = self.list.currentItem()
        return self.registry.get(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def run_selected(self) -> None:
        command = self.selected()
        self.accept()
        if command is not None:
            command.callback()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Up/Down in the input move through the list, so the hands never leave the keyboard.
        if watched is self.input and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 10, Qt.Key.Key_PageUp: -10}[key]
                row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
                self.list.setCurrentRow(row)
                return True
            if key == Qt.Key.Key_Escape:
                self.reject()
                return True
        return super().eventFilter(watched, event)

    def popup(self) -> None:
        """Show centred near the top of the parent window, input focused."""
        parent = self.parentWidget()
        if parent is not None:
            geo = parent.geometry()
            self.move(geo.x() + (geo.width() - self.width()) // 2, geo.y() + 60)
        self.input.clear()
        self.refill("")
        self.show()
        self.raise_()
        self.activateWindow()
        self.input.setFocus()
