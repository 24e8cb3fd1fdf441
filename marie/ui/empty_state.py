"""The text a panel shows while it has nothing to list: what it is for and how to fill it.
``EmptyState(text, parent)`` is a wrapped, centred, dimmed label named "EmptyState" (the themes
style it); the panel shows it instead of its empty list. GUI thread only."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from marie.ui.qt_names import Qt


class EmptyState(QLabel):
    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("EmptyState")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMargin(12)
        self.setEnabled(False)          # the disabled palette dims it in both themes

    def watch(self, view: Any) -> "EmptyState":
        """Show this text instead of ``view`` (a list, tree, table or text view) while it is empty."""
        model = view.model() if hasattr(view, "model") else None
        if model is not None:
            def update(*_args: object) -> None:
                self._set_empty(view, model.rowCount() == 0)
            for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
                signal.connect(update)
        else:                                   # a QPlainTextEdit / QTextEdit
            def update(*_args: object) -> None:
                self._set_empty(view, view.document().isEmpty())
            view.textChanged.connect(update)
        update()
        return self

    def _set_empty(self, view: Any, empty: bool) -> None:
        try:
            self.setVisible(empty)
            view.setVisible(not empty)
        except RuntimeError:   # the panel is being deleted
            pass
