"""The Terminal panel (bottom, Ctrl+`): tabs of integrated terminals, a + button for another one,
and an empty state when none is open. The first terminal starts when the panel is first shown
(never at window start-up). Each terminal runs the user's shell in the workspace root;
``path:line:col`` links open the editor (``window.open_file``). GUI thread only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel, QStackedWidget, QTabWidget, QToolButton, QVBoxLayout, QWidget

from shiboken6 import Shiboken

from marie.terminal.agent_output import COMMAND_TOOLS, AgentOutput
from marie.terminal.links import resolve
from marie.terminal.session import TerminalSession, default_shell, shell_env
from marie.ui.panels import PanelSpec
from marie.ui.terminal.widget import TerminalWidget


class TerminalPanel(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.host = window
        self.app = window.app
        self.stack = QStackedWidget(self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("TerminalTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_terminal)
        self.tabs.currentChanged.connect(lambda _i: self._focus_current())
        self.new_button = QToolButton(self)
        self.new_button.setText("+")
        self.new_button.setToolTip("New Terminal")
        self.new_button.clicked.connect(lambda: self.new_terminal())
        self.tabs.setCornerWidget(self.new_button)
        self.empty = QLabel(
            "<p><b>Terminal</b></p><p>A shell in the workspace folder, with its output linked to the editor "
            "(Ctrl+click <code>path:line:col</code>).</p><p>Press <b>+</b> or <b>Ctrl+`</b> to start one.</p>", self)
        self.empty.setWordWrap(True)
        self.empty.setObjectName("TerminalEmptyState")
        empty_page = QWidget(self)
        empty_layout = QVBoxLayout(empty_page)
        empty_layout.addWidget(self.empty)
        plus = QToolButton(empty_page)
        plus.setText("+ New Terminal")
        plus.clicked.connect(lambda: self.new_terminal())
        empty_layout.addWidget(plus)
        empty_layout.addStretch(1)
        self.empty_page = empty_page
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._started_once = False
        closing = getattr(window, "closing", None)
        if closing is not None:
            closing.connect(self.close_all)
        self.host.commands.add("terminal.new", "New Terminal", self._new_and_show, None, "View")
        # The agent's commands, in a read-only "Agent" tab made on the first one.
        self.agent_output: AgentOutput | None = None
        self.agent_widget: TerminalWidget | None = None
        self._unsubscribe = self._follow_agent()
        self.destroyed.connect(lambda *_: [unsubscribe() for unsubscribe in self._unsubscribe])

    # ---------------------------------------------------------------- terminals
    def terminals(self) -> list[TerminalWidget]:
        """The shells' tabs (not the Agent tab)."""
        return [w for w in (self.tabs.widget(i) for i in range(self.tabs.count()))
                if isinstance(w, TerminalWidget) and w is not self.agent_widget]

    def current(self) -> TerminalWidget | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, TerminalWidget) else None

    def new_terminal(self, argv: list[str] | None = None, focus: bool = True) -> TerminalWidget:
        """Open a terminal tab running the shell (``terminal.shell``/``terminal.args``) in the root."""
        settings = self.app.settings
        session = TerminalSession(self.app.root, argv or default_shell(settings), env=shell_env(),
                                  scrollback=int(settings.get("terminal.scrollback", 10000)))
        widget = TerminalWidget(self.app, session, font=self._font(), parent=self.tabs)
        name = Path(session.argv[0]).name
        index = self.tabs.addTab(widget, name)
        self.tabs.setTabToolTip(index, f"{' '.join(session.argv)} in {self.app.root}")
        widget.exited.connect(lambda code, w=widget, n=name: self._set_title(w, f"{n} (exit {code})"))
        widget.titleChanged.connect(lambda title, w=widget, n=name: self._set_title(w, title or n))
        widget.view.linkActivated.connect(lambda link, w=widget: self.open_link(w, link))
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentWidget(widget)
        widget.start()
        if focus:
            widget.setFocus()
        return widget

    def _follow_agent(self) -> list[Any]:
        try:
            from marie.agent.events import CommandOutput, ToolFinished, ToolStarted
        except ImportError:          # no agent package: no Agent tab
            return []
        events = self.app.events

        def started(event: Any) -> None:
            if not Shiboken.isValid(self) or event.tool not in COMMAND_TOOLS:
                return
            self.agent_tab().started(event)

        def forward(method: str) -> Any:
            def handler(event: Any) -> None:
                if Shiboken.isValid(self) and self.agent_output is not None:
                    getattr(self.agent_output, method)(event)
            return handler

        return [events.on(ToolStarted, started), events.on(CommandOutput, forward("output")),
                events.on(ToolFinished, forward("finished"))]

    def agent_tab(self) -> AgentOutput:
        """The Agent tab's feed, making the tab on first use (it stays, read-only, until closed)."""
        if self.agent_output is None or self.agent_widget is None or self.tabs.indexOf(self.agent_widget) < 0:
            self.agent_output = AgentOutput(scrollback=int(self.app.settings.get("terminal.scrollback", 10000)))
            self.agent_widget = TerminalWidget(self.app, source=self.agent_output, font=self._font(), parent=self.tabs)
            index = self.tabs.insertTab(0, self.agent_widget, "Agent")
            self.tabs.setTabToolTip(index, "Commands the agent runs (read-only)")
            self.agent_widget.view.linkActivated.connect(lambda link, w=self.agent_widget: self.open_link(w, link))
            self.stack.setCurrentWidget(self.tabs)
        return self.agent_output

    def _new_and_show(self) -> None:
        show = getattr(self.host, "show_panel", None)
        if show is not None:
            self._started_once = True          # the new one below is the first: showing must not add one
            show("terminal")
        self.new_terminal()

    def _set_title(self, widget: TerminalWidget, title: str) -> None:
        index = self.tabs.indexOf(widget)
        if index >= 0:
            self.tabs.setTabText(index, title[:40])

    def close_terminal(self, index: int) -> None:
        widget = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if widget is not None and widget is self.agent_widget and self.agent_output is not None:
            self.agent_output.close()
            self.agent_output = self.agent_widget = None
        if isinstance(widget, TerminalWidget):
            widget.close_session()
            widget.deleteLater()
        if not self.tabs.count():
            self.stack.setCurrentWidget(self.empty_page)

    def close_all(self) -> None:
        """Closing the window ends every shell."""
        for widget in self.terminals():
            widget.close_session()
        if self.agent_output is not None:
            self.agent_output.close()

    def open_link(self, widget: TerminalWidget, link: Any) -> None:
        session = widget.session
        folders = [session.current_directory()] if session is not None else []
        path = resolve(link, *folders, self.app.root)
        if path is None:
            self.host.show_message(f"No file {link.path}", "warning")
            return
        self.host.open_file(path, link.line, link.column or 1)

    def _font(self) -> QFont:
        settings = self.app.settings
        font = QFont(str(settings.get("editor.font_family", "monospace")))
        size = int(settings.get("terminal.font_size", 0) or settings.get("editor.font_size", 11))
        font.setPointSize(max(6, size))
        return font

    # ---------------------------------------------------------------- focus and first show
    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._started_once and not self.terminals():
            self._started_once = True
            # shown by the layout (a restored session): start the shell, leave the focus where it is
            focused = QApplication.focusWidget()
            self.new_terminal(focus=focused is not None and self.isAncestorOf(focused))

    def setFocus(self, *args: Any) -> None:  # noqa: N802 - the window focuses panels on show
        current = self.current()
        if current is not None:
            current.setFocus()
        else:
            super().setFocus(*args)

    def _focus_current(self) -> None:
        current = self.current()
        if current is not None and self.isVisible():
            current.setFocus()


PANEL = PanelSpec(id="terminal", title="Terminal", area="bottom", factory=TerminalPanel, shortcut="Ctrl+`", order=30)
