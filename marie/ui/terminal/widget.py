"""``TerminalWidget``: one terminal as the panel shows it: the find bar, the view with its scroll
bar, and a banner when the shell has exited (with its exit code). It owns the session: starts it in
``start()``, closes it in ``close_session()``. ``TerminalWidget.read_only(...)`` shows a model that
something else feeds (the agent's commands). GUI thread only; the session's threads report back
through the app's dispatcher.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollBar, QVBoxLayout, QWidget
from shiboken6 import Shiboken

from marie.terminal.session import TerminalSession
from marie.ui.terminal.find_bar import FindBar
from marie.ui.terminal.view import TerminalView


class TerminalWidget(QWidget):
    exited = Signal(int)            # the shell's exit code
    titleChanged = Signal(str)

    def __init__(self, app: Any, session: TerminalSession | None = None, source: Any = None,
                 font: QFont | None = None, parent: QWidget | None = None) -> None:
        """``session``: a shell to show and type into; or ``source``: something else that feeds a
        model (``.model``, ``.on_dirty``, ``.acknowledge()``: the Agent tab), shown read-only."""
        super().__init__(parent)
        self.app = app
        self.session = session
        feeder = session if session is not None else source
        feeder.on_dirty = lambda: app.dispatcher.post(self._pull)
        if session is not None:
            session.on_exit = lambda code: app.dispatcher.post(self._exited, code)
        self.model = feeder.model
        self.view = TerminalView(self.model, session, font, self)
        self.view.acknowledge = feeder.acknowledge
        self.scrollbar = QScrollBar(self)
        self.find_bar = FindBar(self.view, app.tasks, self)
        self.find_bar.hide()
        self.banner = QLabel("", self)
        self.banner.setObjectName("InfoBar")
        self.banner.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.view, 1)
        row.addWidget(self.scrollbar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.find_bar)
        layout.addLayout(row, 1)
        layout.addWidget(self.banner)
        self.setFocusProxy(self.view)
        self.view.findRequested.connect(self.find_bar.open)
        self.view.scrolled.connect(self._sync_scrollbar)
        self.scrollbar.valueChanged.connect(self._scrollbar_moved)
        self._syncing = False
        self._title = ""

    def start(self) -> "TerminalWidget":
        """Start the shell at the view's size. Shows the reason in the banner when it cannot start."""
        if self.session is not None and self.session.proc is None:
            if self.view.isVisible():
                lines, columns = self.view.cells()
                self.session.model.resize(lines, columns)
            try:
                self.session.start()
            except OSError as exc:
                self.banner.setText(f"The shell {self.session.argv[0]} could not start: {exc}")
                self.banner.show()
        return self

    def close_session(self) -> None:
        if self.session is not None:
            self.session.close()

    @property
    def title(self) -> str:
        return self._title

    def _pull(self) -> None:
        if not Shiboken.isValid(self):
            return
        self.view.pull()
        title = self.model.title
        if title != self._title:
            self._title = title
            self.titleChanged.emit(title)

    def _exited(self, code: int) -> None:
        if not Shiboken.isValid(self):
            return
        self._pull()
        self.banner.setText(f"The shell exited with code {code}.")
        self.banner.show()
        self.exited.emit(code)

    def _sync_scrollbar(self) -> None:
        first, bottom = self.model.first_id(), self.model.bottom_id()
        self._syncing = True
        try:
            self.scrollbar.setRange(0, bottom - first)
            self.scrollbar.setPageStep(self.view.cells()[0])
            self.scrollbar.setValue(self.view.top_id() - first)
        finally:
            self._syncing = False

    def _scrollbar_moved(self, value: int) -> None:
        if not self._syncing:
            self.view.scroll_to(self.model.first_id() + value)
