"""Language features in the editor: the bridge between each EditorView and ``app.lsp``.

``install(window)`` (called by the Problems and Outline panels) attaches an ``EditorLsp`` to every
editor the window opens (``editorOpened``) and registers the commands:
Ctrl+Space completion, Ctrl+Shift+Space signature help, F12 definition, declaration / type
definition / implementation, Shift+F12 references (a results dock), F2 rename (a workspace edit
written through ``app.writes``, checkpointed), Shift+Alt+F format document (or the selection),
Ctrl+. code actions, restart server. The server state shows in the status bar. An editor's
language for servers is ``app.lsp.language_for`` (a configured server's ``extensions`` first).

Per editor: didOpen/didChange/didSave/didClose (the whole text goes to a single "lsp" worker, the
protocol sends incremental changes), the completion popup (Scintilla autocompletion with kind icons;
a snippet's placeholders become tab stops: ``marie.ui.snippet_session``), signature help and hover as calltips,
diagnostics as squiggles with a gutter marker, document highlight of the symbol under the caret.

Everything here runs on the GUI thread; every server call runs on a worker (``app.tasks``) and its
answer comes back through the dispatcher. Answers for a text that has changed since are dropped.
"""

from __future__ import annotations

import itertools
import logging
import weakref
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Signal
from shiboken6 import Shiboken

from PySide6.QtWidgets import (QDockWidget, QInputDialog, QLabel, QMenu, QTreeWidget, QTreeWidgetItem)

from marie.lsp import snippets
from marie.lsp.service import StampedText
from marie.lsp.types import CompletionItem, Diagnostic, Location, Range, TextEdit
from marie.text.positions import codepoint_to_utf8
from marie.ui.snippet_session import SnippetSession

log = logging.getLogger(__name__)

INDIC_ERROR, INDIC_WARNING, INDIC_INFO, INDIC_HIGHLIGHT = 20, 21, 22, 23
MARGIN_DIAGNOSTICS = 5
M_ERROR, M_WARNING, M_INFO = 21, 22, 23
_MARKER_MASK = (1 << M_ERROR) | (1 << M_WARNING) | (1 << M_INFO)
_SEVERITY = {"error": (INDIC_ERROR, M_ERROR), "warning": (INDIC_WARNING, M_WARNING),
             "information": (INDIC_INFO, M_INFO), "hint": (INDIC_INFO, M_INFO)}
_LIST_SEP, _TYPE_SEP = "\n", "\x1f"

# completion kinds -> image ids registered with Scintilla (a coloured square per family)
_KIND_IMAGE = {"function": 1, "method": 1, "constructor": 1, "class": 2, "interface": 2, "struct": 2, "enum": 2,
               "module": 3, "file": 3, "folder": 3, "keyword": 4, "snippet": 4, "variable": 5, "field": 5,
               "property": 5, "constant": 5, "value": 5, "enummember": 5, "text": 6}
_IMAGE_COLOURS = {1: "#B180D7", 2: "#E8A33D", 3: "#3D8FE8", 4: "#888888", 5: "#4FB0C6", 6: "#BBBBBB"}
_WORD_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SNAPSHOTS = itertools.count(1)   # orders every text an editor hands to a worker (GUI thread only)


def _xpm(colour: str) -> str:
    rows = ["            "] + [" xxxxxxxxxx "] * 10 + ["            "]
    lines = ['"12 12 2 1"', '"  c None"', f'"x c {colour}"'] + [f'"{r}"' for r in rows]
    return "/* XPM */\nstatic char *kind[] = {\n" + ",\n".join(lines) + "};\n"


class EditorLsp(QObject):
    """Language features for one EditorView. GUI thread."""

    def __init__(self, bridge: "LspBridge", editor: Any) -> None:
        super().__init__(editor)
        self.bridge = bridge
        self.app = bridge.app
        self.editor = editor
        self.sci = editor.sci
        self.path = Path(editor.path).resolve()
        self.language = bridge.app.lsp.language_for(self.path, getattr(editor, "language", "") or None)
        self.version = 0             # bumps on every edit; answers for an older version are dropped
        self.diagnostics: list[Diagnostic] = []
        self._items: dict[str, CompletionItem] = {}
        self._completion_start = -1
        self._latest = ""
        self._closed = False
        self._setup_scintilla()
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(30)
        self._sync_timer.timeout.connect(self.sync)
        self._highlight_timer = QTimer(self)
        self._highlight_timer.setSingleShot(True)
        self._highlight_timer.setInterval(350)
        self._highlight_timer.timeout.connect(self.highlight)
        editor.textEdited.connect(self._edited)
        editor.cursorMoved.connect(self._highlight_timer.start)
        editor.dirtyChanged.connect(self._dirty_changed)
        self.sci.charAdded.connect(self._char_added)
        self.sci.autoCompleteSelection.connect(self._completion_chosen)
        self.sci.dwellStart.connect(self._dwell)
        self.sci.dwellEnd.connect(lambda *_: self.sci.callTipCancel() if not self._signature_open else None)
        self._signature_open = False
        self.snippet_session: SnippetSession | None = None
        self._latest = self.snapshot()
        path, language = self.path, self.language
        # the newest text when the worker runs: a request sent meanwhile may have opened it already
        self.bridge.background(lambda: self.app.lsp.open(path, self._latest, language), worker="lsp")
        self.set_diagnostics(self.app.lsp.diagnostics_for(self.path))

    # -- setup ----------------------------------------------------------------------------------
    def _setup_scintilla(self) -> None:
        sci = self.sci
        for indic, style, colour in ((INDIC_ERROR, 1, 0x3030E0), (INDIC_WARNING, 1, 0x20A0E0),
                                     (INDIC_INFO, 14, 0xC08040)):  # SQUIGGLE, SQUIGGLE, DOTS (BGR)
            sci.indicSetStyle(indic, style)
            sci.indicSetFore(indic, colour)
            sci.indicSetUnder(indic, True)
        sci.indicSetStyle(INDIC_HIGHLIGHT, 8)   # STRAIGHTBOX
        sci.indicSetFore(INDIC_HIGHLIGHT, 0x909090)
        sci.indicSetAlpha(INDIC_HIGHLIGHT, 60)
        sci.indicSetUnder(INDIC_HIGHLIGHT, True)
        if sci.margins() <= MARGIN_DIAGNOSTICS:
            sci.setMargins(MARGIN_DIAGNOSTICS + 1)
        sci.setMarginTypeN(MARGIN_DIAGNOSTICS, 0)   # SC_MARGIN_SYMBOL
        sci.setMarginMaskN(MARGIN_DIAGNOSTICS, _MARKER_MASK)
        sci.setMarginWidthN(MARGIN_DIAGNOSTICS, 12)
        for marker, colour in ((M_ERROR, 0x3030E0), (M_WARNING, 0x20A0E0), (M_INFO, 0xC08040)):
            sci.markerDefine(marker, 0)    # SC_MARK_CIRCLE
            sci.markerSetBack(marker, colour)
            sci.markerSetFore(marker, colour)
        sci.autoCSetSeparator(ord(_LIST_SEP))
        sci.autoCSetTypeSeparator(ord(_TYPE_SEP))
        sci.autoCSetIgnoreCase(True)
        sci.autoCSetOrder(1)               # SC_ORDER_PERFORMSORT
        sci.autoCSetCancelAtStart(False)
        sci.autoCSetMaxHeight(12)
        for image, colour in _IMAGE_COLOURS.items():
            sci.registerImage(image, _xpm(colour))
        if sci.mouseDwellTime() > 5000:
            sci.setMouseDwellTime(600)

    # -- document sync --------------------------------------------------------------------------
    def _edited(self) -> None:
        self.version += 1
        self._sync_timer.start()
        if self._highlight_timer.isActive():
            self._highlight_timer.stop()
        self.sci.setIndicatorCurrent(INDIC_HIGHLIGHT)
        self.sci.indicatorClearRange(0, self.sci.textLength())

    def sync(self) -> None:
        """Send the current text (the worker reads the newest text when it runs)."""
        if self._closed:
            return
        self._latest = self.snapshot()
        path = self.path
        self.bridge.background(lambda: self.app.lsp.change(path, self._latest), worker="lsp")
        self.bridge.documentChanged.emit(self.editor)

    def _dirty_changed(self, dirty: bool) -> None:
        if not dirty and not self._closed:
            self.sync()
            path = self.path
            self.bridge.background(lambda: self.app.lsp.save(path), worker="lsp")

    def close(self) -> None:
        self._closed = True
        self.end_snippet()
        self._sync_timer.stop()
        self._highlight_timer.stop()
        path = self.path
        self.bridge.background(lambda: self.app.lsp.close_document(path), worker="lsp")

    # -- helpers --------------------------------------------------------------------------------
    def snapshot(self) -> StampedText:
        """The editor's text, stamped so the service never lets an older one replace it."""
        return StampedText(self.editor.text(), next(_SNAPSHOTS))

    def _line_text(self, line0: int) -> str:
        return bytes(self.sci.getLine(line0)).decode("utf-8", "replace").rstrip("\r\n")

    def byte_pos(self, line: int, column: int) -> int:
        """1-based line/code-point column -> Scintilla byte position (clamped)."""
        sci = self.sci
        line0 = max(0, min(line - 1, sci.lineCount() - 1))
        return sci.positionFromLine(line0) + codepoint_to_utf8(self._line_text(line0), column - 1)

    def ask(self, fn: Callable[[str, int, int], Any], on_done: Callable[[Any], None], *, name: str,
            same_version: bool = True) -> None:
        """Run ``fn(text, line, column)`` on a worker; ``on_done(result)`` on the GUI thread unless
        the text changed meanwhile (then the answer is dropped)."""
        text = self.snapshot()
        # the request sends this text first; a document sync still queued must not send an older one
        self._latest = text
        line, column = self.editor.cursor_position()
        version = self.version

        def done(result: Any) -> None:
            if self._closed or (same_version and version != self.version):
                return
            on_done(result)

        self.bridge.request(lambda: fn(text, line, column), done, name=name)

    # -- completion -----------------------------------------------------------------------------
    def _char_added(self, ch: int) -> None:
        char = chr(ch) if 0 < ch < 0x110000 else ""
        if char == "(" or char == ",":
            self.signature_help()
        elif char == ")":
            self.sci.callTipCancel()
            self._signature_open = False
        if char == "." or (char in _WORD_CHARS and self._word_length() == 2 and not self.sci.autoCActive()):
            self.complete()

    def _word_length(self) -> int:
        pos = self.sci.currentPos()
        return pos - self.sci.wordStartPosition(pos, True)

    def complete(self) -> None:
        """Ask for completions at the caret; the popup opens when they arrive."""
        sci = self.sci
        pos = sci.currentPos()
        start = sci.wordStartPosition(pos, True)
        line0 = sci.lineFromPosition(pos)
        path = self.path

        def shown(items: list[CompletionItem]) -> None:
            self.show_completions(items, start, line0)

        self.ask(lambda text, line, column: self.app.lsp.complete(path, line, column, text=text), shown,
                 name="completion", same_version=False)

    def show_completions(self, items: list[CompletionItem], start: int, line0: int) -> None:
        sci = self.sci
        pos = sci.currentPos()
        # the user may have typed on since the request: keep the popup if still in the same word
        if not items or sci.lineFromPosition(pos) != line0 or sci.wordStartPosition(pos, True) != start or pos < start:
            return
        self._items = {}
        entries = []
        for item in items:
            label = item.label.replace(_LIST_SEP, " ").replace(_TYPE_SEP, " ")
            if label in self._items:
                continue
            self._items[label] = item
            image = _KIND_IMAGE.get(item.kind)
            entries.append(f"{label}{_TYPE_SEP}{image}" if image else label)
        self._completion_start = start
        sci.autoCShow(pos - start, _LIST_SEP.join(entries))

    def _completion_chosen(self, _method: int, text: str) -> None:
        if self.snippet_session is not None and self.snippet_session.choosing:
            return       # a choice placeholder's option: the snippet session inserts it
        item = self._items.get(text)
        if item is None:
            return
        self.sci.autoCCancel()   # inside the selection notification: Scintilla inserts nothing itself
        self.insert_completion(item)

    def insert_completion(self, item: CompletionItem) -> None:
        """Insert ``item`` replacing the word typed so far. A snippet's placeholders become tab stops
        (``SnippetSession``: Tab / Shift+Tab, the first one selected)."""
        sci = self.sci
        pos = sci.currentPos()
        start = self._completion_start if 0 <= self._completion_start <= pos else sci.wordStartPosition(pos, True)
        end = sci.wordEndPosition(pos, True)
        if item.replace is not None:
            start = min(start, self.byte_pos(item.replace.line, item.replace.column))
        raw = item.insert_text or item.label
        snippet = snippets.parse(raw) if item.is_snippet else snippets.Snippet(raw)
        # a call snippet right before an existing "(" would double the parentheses: insert the name only
        following = bytes(sci.textRange(end, min(end + 1, sci.textLength()))).decode("utf-8", "replace")
        if item.is_snippet and following == "(" and "(" in snippet.text:
            snippet = snippets.Snippet(snippet.text[:snippet.text.index("(")])
        line_start = sci.positionFromLine(sci.lineFromPosition(start))
        before = bytes(sci.textRange(line_start, start)).decode("utf-8", "replace")
        snippet = snippet.indented(before[:len(before) - len(before.lstrip(" \t"))])
        text = snippet.text
        nested = any(n > 0 for n in snippet.numbers())
        if nested:
            self.end_snippet()   # a snippet inside a placeholder: its stops take over
        # (a plain word completed inside a placeholder keeps the session: the placeholder grows)
        # pyside6-scintilla takes str for char* arguments; lengths count UTF-8 bytes
        sci.beginUndoAction()
        try:
            sci.setTargetRange(start, end)
            sci.replaceTarget(len(text.encode("utf-8")), text)
        finally:
            sci.endUndoAction()
        self._completion_start = -1
        if nested:
            self.snippet_session = SnippetSession(self.editor, start, snippet)
            self.snippet_session.finished.connect(self._snippet_finished)
        else:
            caret = start + len(text[:snippet.final()].encode("utf-8"))
            sci.setEmptySelection(caret)
        sel_start = snippet.first_selection()[0]
        if item.is_snippet and "(" in text and sel_start > text.find("("):
            self.signature_help()

    def end_snippet(self) -> None:
        """End the snippet session, if any (its tab stops are forgotten; the text stays)."""
        session, self.snippet_session = self.snippet_session, None
        if session is not None:
            session.stop()

    def _snippet_finished(self) -> None:
        session = self.sender()
        if session is self.snippet_session:
            self.snippet_session = None

    # -- signature help and hover ---------------------------------------------------------------
    def signature_help(self) -> None:
        path = self.path
        pos = self.sci.currentPos()

        def show(help_: Any) -> None:
            if help_ is None or not help_.signatures:
                return
            sig = help_.signatures[min(help_.active_signature, len(help_.signatures) - 1)]
            label = sig.label
            self.sci.callTipShow(pos, label)
            self._signature_open = True
            if 0 <= help_.active_parameter < len(sig.parameters):
                a, b = sig.parameters[help_.active_parameter]
                self.sci.callTipSetHlt(len(label[:a].encode("utf-8")), len(label[:b].encode("utf-8")))

        self.ask(lambda text, line, column: self.app.lsp.signature_help(path, line, column, text=text), show,
                 name="signature help")

    def _dwell(self, x: int, y: int) -> None:
        pos = self.sci.positionFromPointClose(x, y)
        if pos < 0 or self.sci.autoCActive() or self._signature_open:
            return
        self.hover_at(pos)

    def hover_at(self, pos: int) -> None:
        """Show diagnostics under ``pos`` and the server's hover text in a calltip."""
        sci = self.sci
        line0 = sci.lineFromPosition(pos)
        column = sci.countCharacters(sci.positionFromLine(line0), pos) + 1
        line = line0 + 1
        problems = [d for d in self.diagnostics
                    if (d.line, d.column) <= (line, column) <= (d.end_line, max(d.end_column, d.column + 1))]
        notes = [f"{d.severity}: {d.message}" + (f" ({d.source})" if d.source else "") for d in problems]
        path = self.path

        def show(hover: Any) -> None:
            parts = notes + ([hover.text] if hover is not None else [])
            if parts:
                self.show_tip(pos, "\n\n".join(parts))

        text = self._latest = self.snapshot()
        version = self.version

        def done(hover: Any) -> None:
            if version == self.version and not self._closed:
                show(hover)

        def fail(_exc: BaseException) -> None:
            if notes and version == self.version:
                self.show_tip(pos, "\n\n".join(notes))

        self.bridge.request(lambda: self.app.lsp.hover(path, line, column, text=text), done, name="hover", on_error=fail)

    def show_tip(self, pos: int, text: str, max_lines: int = 25) -> None:
        lines = text.strip().splitlines()
        if len(lines) > max_lines:
            lines = lines[:max_lines] + ["…"]
        self.last_tip = "\n".join(lines)
        self.sci.callTipShow(pos, self.last_tip)

    # -- diagnostics ----------------------------------------------------------------------------
    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        """Squiggles under each problem and a marker in the gutter."""
        sci = self.sci
        self.diagnostics = list(diagnostics)
        length = sci.textLength()
        for indic in (INDIC_ERROR, INDIC_WARNING, INDIC_INFO):
            sci.setIndicatorCurrent(indic)
            sci.indicatorClearRange(0, length)
        for marker in (M_ERROR, M_WARNING, M_INFO):
            sci.markerDeleteAll(marker)
        for d in self.diagnostics:
            indic, marker = _SEVERITY.get(d.severity, (INDIC_INFO, M_INFO))
            start = self.byte_pos(d.line, d.column)
            end = self.byte_pos(d.end_line, d.end_column)
            if end <= start:   # an empty range still gets a visible mark: the character after it
                end = min(length, sci.positionAfter(start))
            sci.setIndicatorCurrent(indic)
            sci.indicatorFillRange(start, max(0, end - start))
            sci.markerAdd(d.line - 1, marker)

    # -- document highlight ---------------------------------------------------------------------
    def highlight(self) -> None:
        if self._closed or self.sci.autoCActive():
            return
        path = self.path

        def show(marks: list) -> None:
            sci = self.sci
            sci.setIndicatorCurrent(INDIC_HIGHLIGHT)
            sci.indicatorClearRange(0, sci.textLength())
            for mark in marks:
                start = self.byte_pos(mark.range.line, mark.range.column)
                end = self.byte_pos(mark.range.end_line, mark.range.end_column)
                sci.indicatorFillRange(start, max(0, end - start))
            self.highlights = marks

        self.ask(lambda text, line, column: self.app.lsp.document_highlight(path, line, column, text=text), show,
                 name="highlight")

    # -- edits into the buffer ------------------------------------------------------------------
    def apply_edits(self, edits: list[TextEdit]) -> None:
        """Apply edits computed against the current text, as one undo step."""
        sci = self.sci
        spans = []
        for edit in edits:
            r = edit.range
            spans.append((self.byte_pos(r.line, r.column) if r.line <= sci.lineCount() else sci.textLength(),
                          self.byte_pos(r.end_line, r.end_column) if r.end_line <= sci.lineCount() else sci.textLength(),
                          len(spans), edit.new_text))
        sci.beginUndoAction()
        try:
            for start, end, _i, new in sorted(spans, reverse=True):
                sci.setTargetRange(start, end)
                sci.replaceTarget(len(new.encode("utf-8")), new)
        finally:
            sci.endUndoAction()


class LspBridge(QObject):
    """One per window: attaches ``EditorLsp`` to editors, owns the commands and the status label."""

    documentChanged = Signal(object)     # an editor's text was sent to the server (outline refresh)
    diagnosticsChanged = Signal()

    def __init__(self, window: Any) -> None:
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
        bar = getattr(window, "status_bar", None)
        if bar is not None and hasattr(bar, "add_widget"):
            bar.add_widget(self.status)
        elif hasattr(window, "statusBar"):
            window.statusBar().addPermanentWidget(self.status)
        self._unsubscribe = [self.app.events.subscribe("lsp.diagnostics", self._diagnostics),
                             self.app.events.subscribe("lsp.status", self._status),
                             self.app.events.subscribe("files.written", self._files_written)]
        window.editorOpened.connect(self.attach)
        if hasattr(window, "editorClosed"):
            window.editorClosed.connect(self.detach)
        for editor in list(window.editors()):
            self.attach(editor)
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
        editor._lsp = ed
        return ed

    def detach(self, editor: Any) -> None:
        ed = self.editors.pop(editor, None)
        if ed is not None:
            ed.close()

    def current(self) -> EditorLsp | None:
        editor = self.window.current_editor()
        if editor is None:
            return None
        return self.editors.get(editor) or self.attach(editor)

    def _alive(self) -> bool:
        """False once Qt deleted this object (events may still arrive until we unsubscribe)."""
        if Shiboken.isValid(self):
            return True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        return False

    def _diagnostics(self, path: Path, diagnostics: list, **_: Any) -> None:
        if not self._alive():
            return
        for editor, ed in list(self.editors.items()):
            if ed.path == path:
                ed.set_diagnostics(diagnostics)
        self.diagnosticsChanged.emit()

    def _files_written(self, paths: list, **_: Any) -> None:
        """Files changed by the write path: once their editors have reloaded, resend the text (a
        reload may not count as an edit)."""
        if not self._alive():
            return
        targets = {Path(p).resolve() for p in paths}
        for ed in list(self.editors.values()):
            if ed.path in targets:
                QTimer.singleShot(0, ed.sync)

    def _status(self, language: str, state: str, message: str = "", **_: Any) -> None:
        if not self._alive():
            return
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

    def _with(self, fn: Callable[[EditorLsp], Any]) -> None:
        ed = self.current()
        if ed is None:
            self.window.show_message("No language server for this file")
            return
        fn(ed)

    def goto(self, kind: str = "definition") -> None:
        """Go to the definition (or declaration, typeDefinition, implementation) under the caret."""
        ed = self.current()
        if ed is None:
            return
        path = ed.path
        words = {"definition": "definition", "declaration": "declaration", "typeDefinition": "type definition",
                 "implementation": "implementation"}

        def arrive(locations: list[Location]) -> None:
            if not locations:
                self.window.show_message(f"No {words[kind]} found")
                return
            if len(locations) > 1:
                self.show_locations(locations, f"{len(locations)} {words[kind]}s")
            first = locations[0]
            self.window.open_file(first.path, first.line, first.column)

        ed.ask(lambda text, line, column: self.app.lsp.definition(path, line, column, text=text, kind=kind),
               arrive, name=f"go to {words[kind]}", same_version=False)

    def find_references(self) -> None:
        ed = self.current()
        if ed is None:
            return
        path = ed.path

        def arrive(locations: list[Location]) -> None:
            if not locations:
                self.window.show_message("No references found")
                return
            self.show_locations(locations, f"{len(locations)} reference(s)")

        ed.ask(lambda text, line, column: self.app.lsp.references(path, line, column, text=text), arrive,
               name="find references", same_version=False)

    def show_locations(self, locations: list[Location], title: str) -> QTreeWidget:
        """The References dock: one row per location, grouped by file; double-click opens it."""
        if self.references_dock is None:
            dock = QDockWidget("References", self.window)
            dock.setObjectName("dock.lsp_references")
            tree = QTreeWidget(dock)
            tree.setHeaderLabels(["Location", "Line"])
            tree.itemActivated.connect(self._open_item)
            tree.itemDoubleClicked.connect(self._open_item)
            dock.setWidget(tree)
            self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            self.references_dock, self.references = dock, tree
        tree = self.references
        assert tree is not None
        tree.clear()
        self.references_dock.setWindowTitle(f"References — {title}")
        groups: dict[Path, QTreeWidgetItem] = {}
        for loc in locations:
            group = groups.get(loc.path)
            if group is None:
                group = QTreeWidgetItem(tree, [self._display(loc.path), ""])
                group.setExpanded(True)
                groups[loc.path] = group
            item = QTreeWidgetItem(group, [self._line_preview(loc), f"{loc.line}:{loc.column}"])
            item.setData(0, Qt.ItemDataRole.UserRole, (str(loc.path), loc.line, loc.column))
        self.references_dock.show()
        self.references_dock.raise_()
        return tree

    def _display(self, path: Path) -> str:
        try:
            return path.relative_to(self.app.root).as_posix()
        except ValueError:
            return str(path)

    def _line_preview(self, loc: Location) -> str:
        try:
            text = self.app.lsp.lines_for(loc.path).line(loc.line - 1)
        except Exception:
            text = ""
        return text.strip()[:200] or f"{loc.path.name}:{loc.line}"

    def _open_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        target = item.data(0, Qt.ItemDataRole.UserRole)
        if target:
            path, line, column = target
            self.window.open_file(path, line, column)

    def rename(self, new_name: str | None = None) -> None:
        """Rename the symbol under the caret in every file (asks for the name when not given)."""
        ed = self.current()
        if ed is None:
            return
        sci = ed.sci
        pos = sci.currentPos()
        old = bytes(sci.textRange(sci.wordStartPosition(pos, True), sci.wordEndPosition(pos, True))).decode("utf-8", "replace")
        if new_name is None:
            new_name, ok = QInputDialog.getText(self.window, "Rename Symbol", f"Rename {old!r} to:", text=old)
            if not ok:
                return
        new_name = new_name.strip()
        if not new_name or new_name == old:
            return
        path = ed.path
        label = f"rename {old} to {new_name}"

        def work(text: str, line: int, column: int) -> Any:
            edit = self.app.lsp.rename(path, line, column, new_name, text=text)
            if not edit:
                from marie.lsp.service import LspError
                raise LspError(f"nothing to rename at {line}:{column}")
            return self.app.lsp.apply_workspace_edit(edit, label)

        def written(result: Any) -> None:
            self.reload_written(result.written)
            files = len(result.written)
            self.window.show_message(f"Renamed {old} to {new_name} in {files} file(s) (checkpoint {result.checkpoint_id})")
            self.last_rename = result

        text = ed._latest = ed.snapshot()
        line, column = ed.editor.cursor_position()
        self.request(lambda: work(text, line, column), written, name="rename", quiet=False)

    def reload_written(self, rel_paths: list[str]) -> None:
        """Editors showing files the write path just changed take the new text (one undo step)."""
        targets = {(self.app.root / rel).resolve() for rel in rel_paths}
        for editor in self.window.editors():
            if editor.path and Path(editor.path).resolve() in targets:
                try:
                    editor.reload()
                except Exception as exc:
                    self.window.show_message(f"Could not reload {Path(editor.path).name}: {exc}", "warning")

    def format(self) -> None:
        """Format the selection when there is one, else the whole document."""
        ed = self.current()
        if ed is None:
            return
        sci = ed.sci
        path = ed.path
        tab = sci.tabWidth()
        spaces = not sci.useTabs()
        if sci.selectionEmpty():
            fn = lambda text, line, column: self.app.lsp.formatting(path, text=text, tab_size=tab, insert_spaces=spaces)  # noqa: E731
        else:
            a, b = sci.selectionStart(), sci.selectionEnd()
            la, lb = sci.lineFromPosition(a), sci.lineFromPosition(b)
            rng = Range(la + 1, sci.countCharacters(sci.positionFromLine(la), a) + 1,
                        lb + 1, sci.countCharacters(sci.positionFromLine(lb), b) + 1)
            fn = lambda text, line, column: self.app.lsp.range_formatting(path, rng, text=text, tab_size=tab, insert_spaces=spaces)  # noqa: E731

        def arrive(edits: list[TextEdit]) -> None:
            if not edits:
                self.window.show_message("Already formatted")
                return
            ed.apply_edits(edits)

        ed.ask(fn, arrive, name="format")

    def code_actions(self) -> QMenu | None:
        ed = self.current()
        if ed is None:
            return None
        sci = ed.sci
        path = ed.path
        a, b = sci.selectionStart(), sci.selectionEnd()
        la, lb = sci.lineFromPosition(a), sci.lineFromPosition(b)
        rng = Range(la + 1, sci.countCharacters(sci.positionFromLine(la), a) + 1,
                    lb + 1, sci.countCharacters(sci.positionFromLine(lb), b) + 1)

        def arrive(actions: list) -> None:
            if not actions:
                self.window.show_message("No code actions here")
                return
            menu = QMenu(self.window)
            for action in actions:
                menu.addAction(action.title, lambda act=action: self.run_code_action(act))
            self.code_action_menu = menu
            point = QPoint(sci.pointXFromPosition(sci.currentPos()), sci.pointYFromPosition(sci.currentPos()))
            menu.popup(sci.mapToGlobal(point))

        ed.ask(lambda text, line, column: self.app.lsp.code_actions(path, rng, text=text), arrive, name="code actions")
        return None

    def run_code_action(self, action: Any) -> None:
        if action.edit:
            def written(result: Any) -> None:
                self.reload_written(result.written)
                self.window.show_message(f"{action.title}: {len(result.written)} file(s) changed")

            self.request(lambda: self.app.lsp.apply_workspace_edit(action.edit, action.title), written,
                         name="code action", quiet=False)
        elif action.command:
            ed = self.current()
            if ed is not None:
                self.request(lambda: self.app.lsp.execute_command(ed.path, action.command), lambda _r: None,
                             name="code action", quiet=False)

    def workspace_files(self, limit: int = 2000) -> list[Path]:
        """Source files of the workspace that a configured server can check (from the index)."""
        try:
            rels = list(self.app.index.snapshot().files())
        except Exception:   # no index service: fall back to a walk below
            rels = []
        if not rels:        # index not scanned yet: a plain walk of Python files is still useful
            rels = [p.relative_to(self.app.root).as_posix() for p in self.app.root.rglob("*.py")
                    if not any(part.startswith(".") for part in p.relative_to(self.app.root).parts)][:limit]
        out = []
        for rel in rels:
            path = self.app.root / rel
            language = self.app.lsp.language_for(path)
            if language != "text" and (language == "python" or self.app.lsp.spec(language) is not None):
                out.append(path)
                if len(out) >= limit:
                    break
        return out

    def check_workspace(self) -> None:
        """Lint every source file (not only open ones) so the Problems panel covers the workspace."""
        self.window.show_message("Checking the workspace for problems…")
        files = self.workspace_files()

        def work(ctx: Any) -> dict:
            return self.app.lsp.check_workspace(files, ctx)

        def done(result: dict) -> None:
            problems = sum(len(v) for v in result.values())
            self.window.show_message(f"Checked {len(result)} file(s): {problems} problem(s)")
            self.workspace_checked = result
            self.window.show_panel("problems")

        def failed(exc: BaseException) -> None:
            self.window.show_message(f"Workspace check failed: {exc}", "error")

        self.app.tasks.submit(work, name="check workspace", on_done=done, on_error=failed)

    def restart_server(self) -> None:
        ed = self.current()
        language = ed.language if ed is not None else "python"
        self.app.tasks.submit(lambda _ctx: self.app.lsp.restart(language), name="restart language server")
        self.window.show_message(f"Restarting the {language} language server")


def install(window: Any) -> LspBridge:
    """The window's bridge (created once). GUI thread."""
    bridge = getattr(window, "_lsp_bridge", None)
    if bridge is None:
        bridge = window._lsp_bridge = LspBridge(window)
    return bridge
