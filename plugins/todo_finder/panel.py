"""The TODOs panel: a list of tagged comments, refreshed on a worker; a double-click opens the line.
GUI thread only (the search itself runs on the app's task runner)."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget


class TodoPanel(QWidget):
    def __init__(self, window: Any, find: Callable[[Any], list]) -> None:
        super().__init__()
        self.setObjectName("panel.todos")
        self.window = window
        self.find = find
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.status = QLabel("TODO, FIXME, XXX and HACK comments in this project. Press Refresh to list them.")
        self.status.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.status, 1)
        row.addWidget(self.refresh_button)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.itemActivated.connect(self._open)
        layout.addWidget(self.list)

    def refresh(self) -> None:
        self.status.setText("Searching…")
        self.refresh_button.setEnabled(False)
        app = self.window.app
        app.tasks.submit(lambda ctx: self.find(app), name="find TODOs", on_done=self._show,
                         on_error=lambda exc: self._failed(exc))

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.status.setText(f"The search failed: {exc}")

    def _show(self, todos: list) -> None:
        self.refresh_button.setEnabled(True)
        self.list.clear()
        for todo in todos:
            item = QListWidgetItem(f"{todo.tag}  {todo.path}:{todo.line}  {todo.text}")
            item.setData(Qt.ItemDataRole.UserRole, (todo.path, todo.line))
            self.list.addItem(item)
        self.status.setText(f"{len(todos)} comments" if todos else "No TODO, FIXME, XXX or HACK comments found.")

    def _open(self, item: QListWidgetItem) -> None:
        path, line = item.data(Qt.ItemDataRole.UserRole)
        self.window.open_file(self.window.app.root / path, line)
