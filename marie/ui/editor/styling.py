"""Styling a big document ahead of the view, in small slices, on the GUI thread's idle time.

Scintilla styles on demand: painting a line first lexes everything from the last styled position
up to it. With the lexer's state flowing from the top of the file, jumping to the end of an 8 MiB
Python file lexed all 8 MiB inside one paint (about 0.5 s here). Scintilla's own idle styling
(SC_IDLESTYLING_ALL) guesses its slice sizes from a running estimate and measured 370-600 ms
stalls in the Qt port, so it stays off; instead ``BackgroundStyler`` asks Scintilla to colourise
the next slice from a zero-delay timer, sizing each slice from the speed it just measured so one
slice takes about ``SLICE_SECONDS``. Once the whole document is styled a jump anywhere paints at
once. An edit makes Scintilla forget the styles after it, so the styler starts again shortly
after typing pauses (``RESTART_DELAY_MS``), not on every keystroke.

The view also turns on Scintilla's SC_IDLESTYLING_TOVISIBLE while the styler has not reached the
end, so a jump made before then paints styled text within a bounded budget instead of styling
everything up to the jump in one go. GUI thread only.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer

# One slice's target duration: keystrokes and paints wait at most about this long behind it.
# Each slice is followed by a repaint (SCI_COLOURISE redraws), about 3 ms more.
SLICE_SECONDS = 0.004
MIN_SLICE_BYTES = 16 << 10
MAX_SLICE_BYTES = 256 << 10
# Smaller documents are styled on demand as before: all of it takes a few ms.
STYLE_AHEAD_MIN_BYTES = 256 << 10
# Typing pauses this long before the styles an edit invalidated are rebuilt ahead of the view.
RESTART_DELAY_MS = 300
_SC_IDLESTYLING_NONE, _SC_IDLESTYLING_TOVISIBLE = 0, 1


class BackgroundStyler(QObject):
    """Colourise ``sci`` from its first unstyled position to the end, one bounded slice per
    event-loop turn. ``start()`` begins (or resumes), ``kick()`` after an edit, ``stop()`` ends it;
    ``finished`` (optional callback) runs when the document is styled to the end."""

    def __init__(self, sci, parent: QObject | None = None, on_finished: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.sci = sci
        self.on_finished = on_finished
        self.slice_bytes = MIN_SLICE_BYTES * 4
        self._rate: float | None = None  # bytes per second, smoothed over the last slices
        self.slices = 0                 # slices run since the last start (for tests and the bench)
        self.longest_slice_s = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._step)
        self.delay = QTimer(self)
        self.delay.setSingleShot(True)
        self.delay.setInterval(RESTART_DELAY_MS)
        self.delay.timeout.connect(self.start)

    @property
    def active(self) -> bool:
        return self.timer.isActive() or self.delay.isActive()

    @property
    def done(self) -> bool:
        return self.sci.endStyled() >= self.sci.textLength()

    def start(self) -> None:
        """Style what is left from now on (nothing happens when the document is styled)."""
        self.delay.stop()
        if self.done:
            self._set_paint_budget(False)
            return
        self._set_paint_budget(True)
        self.slices = 0
        self.timer.start()

    def kick(self) -> None:
        """The text changed: resume after typing pauses (cheap; called for every edit)."""
        if not self.timer.isActive():
            self.delay.start()

    def stop(self) -> None:
        self.timer.stop()
        self.delay.stop()

    def _set_paint_budget(self, bounded: bool) -> None:
        # While the styler is behind, a jump far ahead must not lex everything up to it inside one
        # paint: TOVISIBLE makes Scintilla style a bounded amount before painting and the rest in
        # its idle time. Once done, synchronous styling of the (few) lines an edit touches is exact.
        self.sci.setIdleStyling(_SC_IDLESTYLING_TOVISIBLE if bounded else _SC_IDLESTYLING_NONE)

    def _step(self) -> None:
        sci = self.sci
        start, length = sci.endStyled(), sci.textLength()
        if start < length and self._catching_up(start):
            return   # Scintilla is styling up to a far jump in its own bounded idle slices: let it
        if start >= length:
            self.timer.stop()
            self._set_paint_budget(False)
            if self.on_finished is not None:
                self.on_finished()
            return
        end = min(length, start + self.slice_bytes)
        began = time.perf_counter()
        sci.colourise(start, end)
        took = time.perf_counter() - began
        self.slices += 1
        self.longest_slice_s = max(self.longest_slice_s, took)
        styled = sci.endStyled() - start
        if styled <= 0:          # nothing to style with (no lexer): Scintilla paints plain text
            self.timer.stop()
            self._set_paint_budget(False)
            return
        # size the next slice from the speed measured (lexers differ tenfold between languages);
        # smoothed, since a slice that lost the CPU to another process looks slow
        rate = styled / max(took, 1e-5)
        self._rate = rate if self._rate is None else 0.7 * self._rate + 0.3 * rate
        self.slice_bytes = int(min(MAX_SLICE_BYTES, max(MIN_SLICE_BYTES, self._rate * SLICE_SECONDS)))

    def _catching_up(self, end_styled: int) -> bool:
        sci = self.sci
        last_visible = sci.docLineFromVisible(sci.firstVisibleLine() + sci.linesOnScreen())
        return end_styled < sci.positionFromLine(min(last_visible, sci.lineCount() - 1))
