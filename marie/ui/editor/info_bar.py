"""A thin bar above the text with a message and buttons: "changed on disk", "deleted on disk",
"large file". Styled by the theme's ``QWidget#InfoBar`` rule. GUI thread.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class InfoBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("InfoBar")
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self._layout = layout
        self.buttons: dict[str, QPushButton] = {}
        self.kind = ""
        self.hide()

    def show_message(self, kind: str, text: str, buttons: list[tuple[str, Callable[[], None]]] = ()) -> None:
        """Replace the bar's content; ``kind`` names what it is about ("conflict", "deleted", "large")."""
        for button in self.buttons.values():
            self._layout.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        self.kind = kind
        self.label.setText(text)
        for title, callback in buttons:
            button = QPushButton(title, self)
            button.setAutoDefault(False)
            button.clicked.connect(callback)
            self._layout.addWidget(button)
            self.buttons[title] = button
        self.show()

    def dismiss(self) -> None:
        self.kind = ""
        self.hide()
