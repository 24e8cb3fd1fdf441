"""The Language Server Log panel: what the servers print on stderr, plus their log messages and
MarieIDE's own notes (started, crashed, restarted, hung). GUI thread; follows the ``lsp.log`` event.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from shiboken6 import Shiboken

from marie.core.event_types import LspLog
from marie.ui.empty_state import EmptyState
from marie.ui.panels import PanelSpec


class LspLogPanel(QWidget):
    MAX_LINES = 5000

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.app = window.app
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(self.MAX_LINES)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.view)
        self.empty = EmptyState("The language server log shows what the servers say: start-up, restarts and "
                                "errors. It fills when you open a source file a server handles (Python here).", self)
        layout.addWidget(self.empty)
        self.empty.watch(self.view)
        self._unsubscribe = self.app.events.on(LspLog, lambda event: self._event(language=event.language, line=event.line))
        self.destroyed.connect(lambda *_: self._unsubscribe())

    def _event(self, **payload: Any) -> None:
        if not Shiboken.isValid(self):   # deleted by Qt: stop listening
            self._unsubscribe()
            return
        self.append(**payload)

    def append(self, language: str, line: str, **_: Any) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.view.appendPlainText(f"{stamp} [{language or 'lsp'}] {line}")


PANEL = PanelSpec(id="lsp_log", title="Language Server Log", area="bottom", factory=LspLogPanel, order=90)
