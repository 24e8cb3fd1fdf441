"""The completion popup of an editor (Scintilla autocompletion with kind images) and snippet
insertion: a snippet's placeholders become tab stops (``marie.ui.snippet_session``). A part of
``EditorLsp`` (it uses its ``ask``, ``byte_pos`` and ``signature_help``). GUI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marie.lsp import snippets
from marie.lsp.types import CompletionItem
from marie.ui.lsp.markers import _KIND_IMAGE, _LIST_SEP, _TYPE_SEP, _WORD_CHARS
from marie.ui.snippet_session import SnippetSession


class CompletionMixin:
    """Completion for ``EditorLsp`` (mixed in: it shares the editor's state and helpers)."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

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
