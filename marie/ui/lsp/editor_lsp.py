"""Language features of one editor: document sync, signature help and hover, diagnostics as
squiggles and gutter markers, document highlight, edits applied into the buffer. Completion is in
``marie.ui.lsp.completion``. GUI thread; every server call runs on a worker (through the bridge)
and answers for a text that has changed since are dropped."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QTimer

from marie.lsp.service import StampedText
from marie.lsp.types import Diagnostic, TextEdit
from marie.text.positions import codepoint_to_utf8
from marie.ui.lsp import markers
from marie.ui.lsp.completion import CompletionMixin
from marie.ui.lsp.markers import (INDIC_ERROR, INDIC_HIGHLIGHT, INDIC_INFO, INDIC_WARNING, M_ERROR, M_INFO,
                                  M_WARNING, _SEVERITY)

if TYPE_CHECKING:
    from marie.lsp.types import CompletionItem
    from marie.ui.lsp.bridge import LspBridge
    from marie.ui.snippet_session import SnippetSession

_SNAPSHOTS = itertools.count(1)   # orders every text an editor hands to a worker (GUI thread only)


class EditorLsp(CompletionMixin, QObject):
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
        self.highlights: list = []   # the document highlights shown now
        markers.setup(self.sci)
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


    # -- document sync --------------------------------------------------------------------------
    def _edited(self) -> None:
        self.version += 1
        self._sync_timer.start()
        if self._highlight_timer.isActive():
            self._highlight_timer.stop()
        if self.highlights:
            # only when some are shown: this runs on every keystroke
            self.highlights = []
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
        view = self.bridge.window.current_editor()     # a split's second view asks at its own caret
        if view is None or (getattr(view, "primary", None) or view) is not self.editor:
            view = self.editor
        line, column = view.cursor_position()
        version = self.version

        def done(result: Any) -> None:
            if self._closed or (same_version and version != self.version):
                return
            on_done(result)

        self.bridge.request(lambda: fn(text, line, column), done, name=name)


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
