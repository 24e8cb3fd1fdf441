"""One per window: attaches ``EditorLsp`` to editors, owns the status-bar label and follows the
language servers' events (diagnostics, state, files written). The commands are in ``navigation``,
``edits`` and ``workspace_check`` (mixed in here: they share the bridge's plumbing). GUI thread;
``background`` and ``request`` run server calls on workers."""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QTreeWidget
from shiboken6 import Shiboken

from marie.core.event_types import FilesWritten, LspDiagnostics, LspStatus
from marie.ui.lsp.editor_lsp import EditorLsp
from marie.ui.lsp.edits import EditCommands
from marie.ui.lsp.navigation import NavigationCommands
from marie.ui.lsp.workspace_check import WorkspaceCommands

log = logging.getLogger(__name__)


class LspBridge(NavigationCommands, EditCommands, WorkspaceCommands, QObject):
    """One per window: attaches ``EditorLsp`` to editors, owns the commands and the status label."""

    documentChanged = Signal(object)     # an editor's text was sent to the server (outline refresh)
    diagnosticsChanged = Signal()

    def __init__(self, window: Any) -> None:
        """``window`` is the EditorHost (``marie.ui.features``); the feature registry calls
        ``attach``/``detach`` for each editor."""
        super().__init__(window)
        self.window = window
        self.app = window.app
        self.editors: "weakref.WeakKeyDictionary[Any, EditorLsp]" = weakref.WeakKeyDictionary()
        self.references_dock: QDockWidget | None = None
        self.references: QTreeWidget | None = None
        self.status = QLabel("", window)
        self.status.setObjectName("status.lsp")
        self.status.setToolTip("Language server state (click for its log)")
        self.status.mousePressEvent = lambda _e: window.show_panel("lsp_log")
        window.add_status_widget(self.status)
        self._unsubscribe = [self.app.events.on(LspDiagnostics, self._diagnostics),
                             self.app.events.on(LspStatus, self._status),
                             self.app.events.on(FilesWritten, self._files_written)]
        self._register_commands()
        self.destroyed.connect(lambda *_: [u() for u in self._unsubscribe])

    # -- plumbing -------------------------------------------------------------------------------
    def background(self, fn: Callable[[], Any], worker: str | None = None) -> None:
        """Fire-and-forget on a worker (document sync keeps its order on the "lsp" worker)."""
        def run(_ctx: Any) -> Any:
            return fn()

        def failed(exc: BaseException) -> None:
            log.info("language server call failed: %s", exc)

        self.app.tasks.submit(run, name="lsp sync", worker=worker, on_error=failed)

    def request(self, fn: Callable[[], Any], on_done: Callable[[Any], None], *, name: str,
                on_error: Callable[[BaseException], None] | None = None, quiet: bool = True) -> None:
        """Run a blocking service call on the pool; the answer comes back on the GUI thread."""
        from marie.lsp.client import ResultStale, ServerError

        def failed(exc: BaseException) -> None:
            if on_error is not None:
                on_error(exc)
            if isinstance(exc, ResultStale):
                return
            if isinstance(exc, ServerError):
                if not quiet:
                    self.window.show_message(str(exc), "warning")
                return
            log.error("%s failed", name, exc_info=exc)
            self.window.show_message(f"{name} failed: {exc}", "error")

        self.app.tasks.submit(lambda _ctx: fn(), name=f"lsp {name}", on_done=on_done, on_error=failed)

    def attach(self, editor: Any) -> EditorLsp | None:
        if getattr(editor, "primary", None) is not None:
            return self.editors.get(editor.primary)      # one server document per file, not per view
        if editor in self.editors or not getattr(editor, "path", None) or getattr(editor, "large_file_mode", False):
            return self.editors.get(editor)
        if getattr(editor, "loading", False):
            # a big file still loading: attach when its text is complete
            editor.loaded.connect(lambda e=editor: self.attach(e))
            return None
        language = self.app.lsp.language_for(editor.path, getattr(editor, "language", "") or None)
        if self.app.lsp.spec(language) is None and language != "python":
            return None
        ed = EditorLsp(self, editor)
        self.editors[editor] = ed
        return ed

    def detach(self, editor: Any) -> None:
        ed = self.editors.pop(editor, None)
        if ed is not None:
            ed.close()

    def current(self) -> EditorLsp | None:
        editor = self.window.current_editor()
        if editor is None:
            return None
        editor = getattr(editor, "primary", None) or editor   # a split's second view: its document's
        return self.editors.get(editor) or self.attach(editor)

    def _alive(self) -> bool:
        """False once Qt deleted this object (events may still arrive until we unsubscribe)."""
        if Shiboken.isValid(self):
            return True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        return False

    def _diagnostics(self, event: LspDiagnostics) -> None:
        if not self._alive():
            return
        path = Path(event.path)
        for editor, ed in list(self.editors.items()):
            if ed.path == path:
                ed.set_diagnostics(list(event.diagnostics))
        self.diagnosticsChanged.emit()

    def _files_written(self, event: FilesWritten) -> None:
        """Files changed by the write path: once their editors have reloaded, resend the text (a
        reload may not count as an edit)."""
        if not self._alive():
            return
        targets = {Path(p).resolve() for p in event.paths} | {(self.app.root / rel).resolve()
                                                               for rel in (*event.written, *event.deleted)}
        for ed in list(self.editors.values()):
            if ed.path in targets:
                QTimer.singleShot(0, ed.sync)

    def _status(self, event: LspStatus) -> None:
        if not self._alive():
            return
        language, state, message = event.language, event.state, event.message
        names = {"python": "Python"}
        text = f"{names.get(language, language)}: {state}"
        self.status.setText(text)
        self.status.setToolTip(f"{text} — {message}" if message else text)
        if state in ("failed", "unavailable"):
            fallback = " (jedi answers completion, hover and definition)" if language == "python" else ""
            self.window.show_message(f"Language server for {language} is {state}: {message}{fallback}", "warning")

    # -- commands -------------------------------------------------------------------------------
    def _register_commands(self) -> None:
        from marie.ui.commands import Command

        has = lambda: self.current() is not None  # noqa: E731
        add = self.window.commands.register
        add(Command("lsp.complete", "Trigger Completion", lambda: self._with(lambda ed: ed.complete()), "Ctrl+Space", "Code", has))
        add(Command("lsp.signature", "Signature Help", lambda: self._with(lambda ed: ed.signature_help()),
                    "Ctrl+Shift+Space", "Code", has))
        add(Command("lsp.hover", "Show Hover", lambda: self._with(lambda ed: ed.hover_at(ed.sci.currentPos())), None, "Code", has))
        add(Command("lsp.definition", "Go to Definition", lambda: self.goto("definition"), "F12", "Go", has))
        add(Command("lsp.declaration", "Go to Declaration", lambda: self.goto("declaration"), None, "Go", has))
        add(Command("lsp.type_definition", "Go to Type Definition", lambda: self.goto("typeDefinition"), None, "Go", has))
        add(Command("lsp.implementation", "Go to Implementation", lambda: self.goto("implementation"), "Ctrl+F12", "Go", has))
        add(Command("lsp.references", "Find References", self.find_references, "Shift+F12", "Go", has))
        add(Command("lsp.rename", "Rename Symbol", self.rename, "F2", "Code", has))
        add(Command("lsp.format", "Format Document", self.format, "Shift+Alt+F", "Code", has))
        add(Command("lsp.code_actions", "Code Actions", self.code_actions, "Ctrl+.", "Code", has))
        add(Command("lsp.restart", "Restart Language Server", self.restart_server, None, "Code"))
        add(Command("lsp.check_workspace", "Check Workspace (Problems)", self.check_workspace, None, "Code"))
