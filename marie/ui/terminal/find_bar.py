"""The terminal's find bar: search the scrollback and the screen (plain or regex, case optional),
step through matches with Enter / Shift+Enter, Escape closes. The search runs on a worker
(``app.tasks``): a full scrollback is 10,000 rows. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from marie.terminal.search import search


class FindBar(QWidget):
    closed = Signal()

    def __init__(self, view: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.tasks = tasks
        self.setObjectName("TerminalFindBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Find in terminal")
        self.case = QCheckBox("Aa", self)
        self.case.setToolTip("Match case")
        self.regex = QCheckBox(".*", self)
        self.regex.setToolTip("Regular expression")
        self.count = QLabel("", self)
        previous, following, close = (QToolButton(self) for _ in range(3))
        previous.setText("\u2191")
        following.setText("\u2193")
        close.setText("\u2715")
        for widget in (self.edit, self.case, self.regex, self.count, previous, following, close):
            layout.addWidget(widget, 1 if widget is self.edit else 0)
        self.matches: list[Any] = []
        self.index = -1
        self._generation = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)          # search once the user pauses typing
        self._timer.timeout.connect(self.run)
        self.edit.textChanged.connect(lambda _t: self._timer.start())
        self.case.toggled.connect(lambda _c: self.run())
        self.regex.toggled.connect(lambda _c: self.run())
        self.edit.returnPressed.connect(lambda: self.step(1))
        previous.clicked.connect(lambda: self.step(-1))
        following.clicked.connect(lambda: self.step(1))
        close.clicked.connect(self.close_bar)

    def open(self) -> None:
        self.show()
        self.edit.setFocus()
        self.edit.selectAll()
        if self.edit.text():
            self.run()

    def close_bar(self) -> None:
        self.hide()
        self.view.highlights = []
        self.view.current_highlight = None
        self.view.update()
        self.view.setFocus()
        self.closed.emit()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.step(-1)
            return
        super().keyPressEvent(event)

    def run(self) -> None:
        """Search now (on a worker); the newest search wins."""
        self._timer.stop()
        self._generation += 1
        generation = self._generation
        query, case, regex = self.edit.text(), self.case.isChecked(), self.regex.isChecked()
        model = self.view.model
        self.tasks.submit(lambda ctx: search(model, query, case, regex), name="terminal-find",
                          on_done=lambda found: self._found(generation, found),
                          on_error=lambda exc: self._failed(generation, exc))

    def _found(self, generation: int, matches: list[Any]) -> None:
        if generation != self._generation:
            return
        self.matches = matches
        self.view.highlights = matches
        # start from the newest match above the bottom, as a user looking back expects
        self.index = len(matches) - 1 if matches else -1
        self._show()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.matches, self.index = [], -1
            self.view.highlights = []
            self.count.setText(str(exc))
            self.view.update()

    def step(self, delta: int) -> None:
        if not self.matches:
            return
        self.index = (self.index + delta) % len(self.matches)
        self._show()

    def _show(self) -> None:
        if self.matches:
            match = self.matches[self.index]
            self.view.current_highlight = match
            self.view.reveal(match.row_id)
            self.count.setText(f"{self.index + 1} of {len(self.matches)}")
        else:
            self.view.current_highlight = None
            self.count.setText("No results" if self.edit.text() else "")
        self.view.update()
