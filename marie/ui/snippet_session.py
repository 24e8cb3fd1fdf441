"""Tab stops of an inserted LSP snippet: Tab / Shift+Tab move between placeholders.

A ``SnippetSession`` starts after a completion inserted a snippet (``marie.lsp.snippets.Snippet``)
into an ``EditorView``. Tab selects the next placeholder (its default text selected, so typing
replaces it), Shift+Tab the previous one; every occurrence of the current number is selected at once
(Scintilla's multiple selections), so mirrored placeholders (``${1:x} = $1``) change together as the
user types. ``$0`` (or the end of the snippet) is the final stop: reaching it ends the session, as do
Escape and moving the caret outside the snippet.

Positions: each placeholder's byte range is kept up to date from Scintilla's own modification
notifications (the same bookkeeping Scintilla does for an indicator), so edits before, between or
inside placeholders keep them right; the placeholders are drawn with the ``INDIC_SNIPPET`` indicator.
An indicator alone cannot hold them: it has no empty ranges (``$0``, ``$1`` without a default) and a
range disappears when its text is typed over.

GUI thread only. Hooks into the editor from outside: an event filter on ``editor.sci`` and its
``modified`` signal; the editor module itself is not changed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal

from marie.lsp.snippets import Snippet

INDIC_SNIPPET = 24
_SC_MOD_INSERTTEXT, _SC_MOD_DELETETEXT = 0x1, 0x2
_SC_PERFORMED_UNDO_REDO = 0x20 | 0x40
_INDIC_DOTBOX = 12


class SnippetSession(QObject):
    """One inserted snippet's tab stops in one editor. ``finished`` is emitted once when it ends."""

    finished = Signal()

    def __init__(self, editor: Any, start: int, snippet: Snippet) -> None:
        super().__init__(editor)
        self.editor = editor
        self.sci = editor.sci
        self.snippet = snippet
        text = snippet.text

        def to_byte(cp: int) -> int:   # code points of the snippet text -> document bytes
            return start + len(text[:cp].encode("utf-8"))

        # [number, start, end] per occurrence, primary occurrence of each number first
        self.occurrences: list[list[int]] = []
        self.choices: dict[int, tuple[str, ...]] = {}
        for number in snippet.numbers():
            for stop in snippet.occurrences(number):
                self.occurrences.append([number, to_byte(stop.start), to_byte(stop.end)])
                if stop.choices:
                    self.choices.setdefault(number, stop.choices)
        self.order = [n for n in snippet.numbers() if n > 0] + [0]
        if 0 not in snippet.numbers():    # the implicit final stop: the end of the snippet
            end = to_byte(len(text))
            self.occurrences.append([0, end, end])
        self.whole = [start, to_byte(len(text))]
        self.index = -1
        self.active = True
        self._repaint_pending = False
        self._moving = False     # our own selection changes must not end the session
        self.choosing = False    # a choice placeholder's list is open
        sci = self.sci
        sci.indicSetStyle(INDIC_SNIPPET, _INDIC_DOTBOX)
        sci.indicSetFore(INDIC_SNIPPET, 0xB07030)
        sci.indicSetAlpha(INDIC_SNIPPET, 40)
        sci.indicSetOutlineAlpha(INDIC_SNIPPET, 160)
        sci.indicSetUnder(INDIC_SNIPPET, True)
        sci.modified.connect(self._modified)
        sci.autoCompleteSelection.connect(self._choice_picked)
        sci.autoCompleteCancelled.connect(self._choice_closed)
        sci.installEventFilter(self)
        editor.cursorMoved.connect(self._caret_moved)
        self._paint()
        self.next()

    # -- navigation -----------------------------------------------------------------------------
    @property
    def number(self) -> int | None:
        """The tab stop number now selected (None before the first Tab)."""
        return self.order[self.index] if 0 <= self.index < len(self.order) else None

    def ranges(self, number: int) -> list[tuple[int, int]]:
        """Byte ranges of every occurrence of ``number``, the primary one first."""
        return [(s, e) for n, s, e in self.occurrences if n == number]

    def next(self) -> None:
        """Select the next placeholder; at the final stop put the caret there and end."""
        if not self.active:
            return
        self.index = min(self.index + 1, len(self.order) - 1)
        if self.order[self.index] == 0:
            pos = self.ranges(0)[0][0]
            self._move(lambda: self.sci.setEmptySelection(pos))
            self.stop()
            return
        self._select(self.order[self.index])

    def previous(self) -> None:
        if self.active and self.index > 0:
            self.index -= 1
            self._select(self.order[self.index])

    def _select(self, number: int, choose: bool = True) -> None:
        ranges = self.ranges(number)
        sci = self.sci

        def select() -> None:
            start, end = ranges[0]
            sci.setSelection(end, start)       # caret at the end, the default text selected
            for start, end in ranges[1:]:
                sci.addSelection(end, start)   # mirrors: typing goes into every occurrence
            sci.setMainSelection(0)
            sci.scrollCaret()

        self._move(select)
        choices = self.choices.get(number)
        if choose and choices and len(choices) > 1:
            self.show_choices(choices)

    def show_choices(self, choices: tuple[str, ...]) -> None:
        """The options of a choice placeholder in Scintilla's list, in the snippet's order; the one
        picked (Tab/Enter) replaces the placeholder's text, typing replaces it with what is typed."""
        sci = self.sci
        separator = chr(sci.autoCSeparator())
        options = [c for c in choices if separator not in c and c]
        if not options:
            return
        order = sci.autoCOrder()
        sci.autoCSetOrder(2)                  # SC_ORDER_CUSTOM: keep the snippet's order
        self.choosing = True
        sci.autoCShow(0, separator.join(options))
        sci.autoCSetOrder(order)

    def _choice_picked(self, _position: int, text: str) -> None:
        if not self.choosing or not self.active or self.number is None:
            return
        self.choosing = False
        sci = self.sci
        sci.autoCCancel()   # inside the notification: Scintilla inserts nothing itself
        number = self.number
        sci.beginUndoAction()
        try:
            for i in reversed(range(len(self.ranges(number)))):   # the mirrors too
                start, end = self.ranges(number)[i]
                sci.setTargetRange(start, end)
                sci.replaceTarget(len(text.encode("utf-8")), text)
        finally:
            sci.endUndoAction()
        self._select(number, choose=False)

    def _move(self, fn: Any) -> None:
        self._moving = True
        try:
            fn()
        finally:
            self._moving = False

    def stop(self) -> None:
        """End the session (idempotent): keys and caret moves are the editor's again."""
        if not self.active:
            return
        self.active = False
        sci = self.sci
        try:
            sci.modified.disconnect(self._modified)
            sci.autoCompleteSelection.disconnect(self._choice_picked)
            sci.autoCompleteCancelled.disconnect(self._choice_closed)
            self.editor.cursorMoved.disconnect(self._caret_moved)
            sci.removeEventFilter(self)
            sci.setIndicatorCurrent(INDIC_SNIPPET)
            sci.indicatorClearRange(0, sci.textLength())
        except (RuntimeError, TypeError):   # the editor is being destroyed: nothing left to undo
            pass
        self.finished.emit()
        self.setParent(None)    # not kept alive by the editor once over

    def _choice_closed(self) -> None:
        self.choosing = False

    # -- keys and caret -------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if not self.active:
            return False
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        key, mods = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if self.sci.autoCActive():
            if key == Qt.Key.Key_Escape and kind == QEvent.Type.KeyPress:
                # close the popup only: the editor's own Escape would also drop the mirrors' carets
                self.sci.autoCCancel()
                return True
            return False        # Tab (and Enter) belong to the completion popup
        tab = key == Qt.Key.Key_Tab and mods == Qt.KeyboardModifier.NoModifier
        backtab = key == Qt.Key.Key_Backtab or (key == Qt.Key.Key_Tab and mods == Qt.KeyboardModifier.ShiftModifier)
        if kind == QEvent.Type.ShortcutOverride:
            if tab or backtab:
                event.accept()   # ours, not a window shortcut's
            return False
        if tab:
            self.next()
            return True
        if backtab:
            self.previous()
            return True
        if key == Qt.Key.Key_Escape:
            self.stop()          # and Escape still does what it does (calltip, extra carets)
        return False

    def _caret_moved(self) -> None:
        if not self.active or self._moving:
            return
        pos = self.sci.currentPos()
        if not self.whole[0] <= pos <= self.whole[1]:
            self.stop()

    # -- position bookkeeping -------------------------------------------------------------------
    def _modified(self, mtype: int, position: int, length: int, *_rest: Any) -> None:
        if not self.active or not (mtype & (_SC_MOD_INSERTTEXT | _SC_MOD_DELETETEXT)) or length <= 0:
            return
        if mtype & _SC_PERFORMED_UNDO_REDO:
            # undo may take the snippet itself away: its stops no longer mean anything
            QTimer.singleShot(0, self.stop)
        if mtype & _SC_MOD_INSERTTEXT:
            current = self.ranges(self.number) if self.number is not None else []
            for occ in self.occurrences:
                _, start, end = occ
                # text typed at the edge of the current placeholder (or one around it) belongs to it
                grows = occ[0] == self.number or (occ[0] != 0 and any(start <= a and b <= end for a, b in current))
                if position < start or (position == start and not grows):
                    occ[1], occ[2] = start + length, end + length
                elif position < end or (position == end and grows):
                    occ[2] = end + length
            if position <= self.whole[1]:
                if position < self.whole[0]:
                    self.whole[0] += length
                self.whole[1] += length
        else:
            lo, hi = position, position + length

            def keep(p: int) -> int:
                return p if p <= lo else (p - length if p >= hi else lo)

            for occ in self.occurrences:
                occ[1], occ[2] = keep(occ[1]), keep(occ[2])
            self.whole = [keep(self.whole[0]), keep(self.whole[1])]
        if not self._repaint_pending:   # no indicator changes inside a modification notification
            self._repaint_pending = True
            QTimer.singleShot(0, self._paint)

    def _paint(self) -> None:
        self._repaint_pending = False
        if not self.active:
            return
        sci = self.sci
        sci.setIndicatorCurrent(INDIC_SNIPPET)
        sci.indicatorClearRange(0, sci.textLength())
        for number, start, end in self.occurrences:
            if end > start and number != 0:
                sci.indicatorFillRange(start, end - start)
