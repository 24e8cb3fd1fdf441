"""The screen model of one terminal: a pyte screen plus a bounded scrollback, behind one lock.

The parser thread feeds it (``feed``); the GUI thread reads rows as *runs* (``(column, text, attrs)``
with pyte's ``Char`` attributes: fg, bg, bold, italics, underscore, strikethrough, reverse) and takes
the set of rows that changed since its last look (``take_dirty``). Rows are addressed by absolute id
(0 = the first row that ever scrolled into the scrollback), so a view scrolled back stays on the same
text while output goes on.

Why ``pyte.Screen`` with our own history rather than ``pyte.HistoryScreen``: HistoryScreen wraps every
attribute access of the screen to keep its paging state, which makes parsing ~3x slower (measured:
0.07 vs 0.19 MB/s), and we page in the view, not in the model. The history itself is the same thing
HistoryScreen keeps in ``history.top``: a ``deque(maxlen=N)`` of the lines that scrolled off the top.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict, deque
from typing import Any, Callable, Iterable

import pyte
from pyte.screens import Char, Margins, StaticDefaultDict

Run = tuple[int, str, Char]          # (start column, text, attributes: data field unused)

DEFAULT_SCROLLBACK = 10_000
FEED_SLICE = 512                     # bytes parsed per lock hold (~3 ms of pyte), so a paint never waits long
BRACKETED_PASTE = 2004 << 5          # pyte keeps private (DEC) modes shifted left by 5
APP_CURSOR_KEYS = 1 << 5             # DECCKM
ALTERNATE_MODES = (1049, 1047, 47)   # private modes that switch to the alternate screen


DEFAULT_ATTRS = Char(" ")


class RawRow:
    """A row that never went through pyte's per-character screen: made by the flood fast path
    (``marie.terminal.flood``) from plain text and colour codes, already cut into runs. (A row of
    plain text in the default colours is kept as a bare ``str``: strings are not tracked by the
    garbage collector, whose full passes over 10,000 rows of objects stalled the GUI thread
    100-180 ms each during a flood.)"""

    __slots__ = ("runs",)

    def __init__(self, runs: tuple[Run, ...]) -> None:
        self.runs = runs


class _Screen(pyte.Screen):
    """pyte's screen, feeding the rows that scroll off the top into ``history``."""

    def __init__(self, columns: int, lines: int, history: int, on_input: Callable[[bytes], None] | None) -> None:
        self.history: deque[Any] = deque(maxlen=history)
        self.pushed = 0                       # rows ever appended to history (their absolute ids)
        self.on_input = on_input
        self.alternate: tuple[Any, Any] | None = None   # (main buffer, main cursor) while on the alternate screen
        super().__init__(columns, lines)

    # The alternate screen (xterm's private modes 1049, 1047, 47), which pyte does not have: full
    # screen programs (less, vim, htop, git's pager) draw there and leave the shell's screen and
    # the scrollback as they were.
    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        modes = self._switch_screens(modes, kwargs, self._enter_alternate)
        if modes:
            super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        modes = self._switch_screens(modes, kwargs, self._leave_alternate)
        if modes:
            super().reset_mode(*modes, **kwargs)

    @staticmethod
    def _switch_screens(modes: tuple[int, ...], kwargs: dict, switch: Callable[[], None]) -> tuple[int, ...]:
        """Run ``switch`` if ``modes`` name the alternate screen; the other modes, for pyte."""
        if kwargs.get("private") and any(m in ALTERNATE_MODES for m in modes):
            switch()
            return tuple(m for m in modes if m not in ALTERNATE_MODES)
        return modes

    def _enter_alternate(self) -> None:
        if self.alternate is not None:
            return
        self.alternate = (self.buffer, copy.copy(self.cursor))
        self.buffer = defaultdict(lambda: StaticDefaultDict(self.default_char))
        self.dirty.update(range(self.lines))

    def _leave_alternate(self) -> None:
        if self.alternate is None:
            return
        self.buffer, self.cursor = self.alternate
        self.alternate = None
        self.cursor.x = min(self.cursor.x, self.columns)
        self.cursor.y = min(self.cursor.y, self.lines - 1)
        self.dirty.update(range(self.lines))

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        # Like xterm: only a scroll of the whole screen (top margin 0) saves the row, and never on
        # the alternate screen.
        if self.cursor.y == bottom and top == 0 and self.alternate is None:
            self.history.append(self.buffer[top])
            self.pushed += 1
        super().index()

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Like a terminal emulator rather than pyte: fewer lines drop blank rows below the cursor
        first, then scroll the top rows into the history (pyte deletes them, prompt included);
        the default tab stops follow the width."""
        lines = lines or self.lines
        columns = columns or self.columns
        if (lines, columns) == (self.lines, self.columns):
            return
        if lines < self.lines:
            drop = self.lines - lines
            below = min(drop, self.lines - 1 - self.cursor.y)
            for y in range(self.lines - below, self.lines):
                self.buffer.pop(y, None)
            top = drop - below
            if top:
                for y in range(top):
                    if self.alternate is None:
                        self.history.append(self.buffer[y])
                        self.pushed += 1
                for y in range(self.lines - below - top):
                    self.buffer[y] = self.buffer[y + top]
                for y in range(self.lines - below - top, self.lines):
                    self.buffer.pop(y, None)
                self.cursor.y -= top
        if columns < self.columns:
            for line in self.buffer.values():
                for x in range(columns, self.columns):
                    line.pop(x, None)
        if self.tabstops == _default_tabstops(self.columns):
            self.tabstops = _default_tabstops(columns)
        self.lines, self.columns = lines, columns
        self.cursor.x = min(self.cursor.x, columns)
        self.cursor.y = min(self.cursor.y, lines - 1)
        self.set_margins()
        self.dirty.update(range(lines))

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:                          # "clear" asks to drop the scrollback too
            self.history.clear()

    def write_process_input(self, data: str) -> None:
        # Answers to the program's queries (cursor position, device attributes) go back to the pty.
        if self.on_input is not None:
            self.on_input(data.encode("utf-8"))


def line_runs(line: Any, columns: int) -> list[Run]:
    """The runs of one row (a pyte line or a RawRow), clipped to ``columns``. Caller holds the lock."""
    if isinstance(line, str):
        return [(0, line[:columns], DEFAULT_ATTRS)] if line else []
    if isinstance(line, RawRow):
        return [run for run in line.runs if run[0] < columns]
    if not line:
        return []
    end = min(columns, max(line) + 1)
    runs: list[Run] = []
    first = line[0]
    start, text, key, attrs = 0, [first.data], first[1:], first
    for x in range(1, end):
        ch = line[x]
        k = ch[1:]
        if k != key:
            runs.append((start, "".join(text), attrs))
            start, text, key, attrs = x, [], k, ch
        text.append(ch.data)
    runs.append((start, "".join(text), attrs))
    return runs


def line_text(line: Any, columns: int | None = None) -> str:
    """The plain text of one row (trailing blanks kept as drawn). Caller holds the lock or a copy."""
    if isinstance(line, str):
        return line
    if isinstance(line, RawRow):
        out: list[str] = []
        for col, text, _ in line.runs:
            if col > len("".join(out)):
                out.append(" " * (col - len("".join(out))))
            out.append(text)
        return "".join(out)
    if not line:
        return ""
    end = max(line) + 1 if columns is None else min(columns, max(line) + 1)
    return "".join(line[x].data or "" for x in range(end))


class ScreenModel:
    """One terminal's screen and scrollback. ``feed`` runs on the parser thread; everything else on any
    thread (the GUI reads), each call taking ``lock`` briefly."""

    def __init__(self, columns: int = 80, lines: int = 24, scrollback: int = DEFAULT_SCROLLBACK,
                 on_input: Callable[[bytes], None] | None = None) -> None:
        self.lock = threading.RLock()
        self.screen = _Screen(columns, lines, scrollback, on_input)
        self.stream = pyte.ByteStream(self.screen)
        self._scrolled = True           # the scrollback grew (or the size changed) since take_dirty
        self.version = 0                # bumped by every change (the session notifies only on a new one)

    # ---------------------------------------------------------------- writing (parser thread)
    def feed(self, data: bytes, should_stop: Callable[[], bool] | None = None) -> None:
        """Parse ``data`` into the screen, a slice at a time so readers never wait long."""
        for i in range(0, len(data), FEED_SLICE):
            if should_stop is not None and should_stop():
                return
            with self.lock:
                before = self.screen.pushed
                self.stream.feed(data[i:i + FEED_SLICE])
                self.version += 1
                if self.screen.pushed != before:
                    self._scrolled = True

    def resize(self, lines: int, columns: int) -> None:
        """New size in cells (any thread). Rows in the scrollback keep their width."""
        with self.lock:
            if (lines, columns) != (self.screen.lines, self.screen.columns):
                self.screen.resize(lines, columns)
                self.screen.dirty.update(range(lines))
                self._scrolled = True
                self.version += 1

    # ---------------------------------------------------------------- reading (any thread)
    @property
    def size(self) -> tuple[int, int]:
        """(lines, columns)."""
        with self.lock:
            return self.screen.lines, self.screen.columns

    def first_id(self) -> int:
        """Absolute id of the oldest row still in the scrollback."""
        with self.lock:
            return self.screen.pushed - len(self.screen.history)

    def bottom_id(self) -> int:
        """Absolute id of the screen's first row (one past the newest scrollback row)."""
        with self.lock:
            return self.screen.pushed

    def history_size(self) -> int:
        with self.lock:
            return len(self.screen.history)

    def _line(self, row_id: int) -> Any:
        scr = self.screen
        if row_id >= scr.pushed:
            y = row_id - scr.pushed
            return scr.buffer[y] if y < scr.lines else None
        index = row_id - (scr.pushed - len(scr.history))
        return scr.history[index] if index >= 0 else None

    def rows(self, first_id: int, count: int) -> list[list[Run]]:
        """Runs of ``count`` rows from absolute id ``first_id`` (rows that do not exist are empty)."""
        with self.lock:
            columns = self.screen.columns
            out = []
            for row_id in range(first_id, first_id + count):
                line = self._line(row_id)
                out.append(line_runs(line, columns) if line is not None else [])
            return out

    def row_text(self, row_id: int) -> str:
        with self.lock:
            line = self._line(row_id)
            return line_text(line, self.screen.columns) if line is not None else ""

    def screen_text(self) -> list[str]:
        """The visible screen as text, one string per row (tests, the find bar)."""
        with self.lock:
            return [line_text(self.screen.buffer[y], self.screen.columns).rstrip() for y in range(self.screen.lines)]

    def lines_snapshot(self) -> tuple[int, list[Any], int]:
        """(first id, every row object from the oldest scrollback row to the screen's last, columns):
        a cheap copy (row objects are shared) to scan without holding the lock. Rows on the screen
        are copied, since pyte changes them in place."""
        with self.lock:
            scr = self.screen
            screen_rows = [_copy_line(scr.buffer[y]) for y in range(scr.lines)]
            return scr.pushed - len(scr.history), list(scr.history) + screen_rows, scr.columns

    def cursor(self) -> tuple[int, int, bool]:
        """(row on the screen, column, hidden)."""
        with self.lock:
            c = self.screen.cursor
            return c.y, min(c.x, self.screen.columns - 1), c.hidden

    def take_dirty(self) -> tuple[set[int], bool]:
        """(screen rows changed since the last call, whether the scrollback moved) and reset both."""
        with self.lock:
            dirty = set(self.screen.dirty)
            self.screen.dirty.clear()
            scrolled, self._scrolled = self._scrolled, False
            return dirty, scrolled

    @property
    def title(self) -> str:
        with self.lock:
            return self.screen.title

    def has_mode(self, mode: int) -> bool:
        with self.lock:
            return mode in self.screen.mode

    # ---------------------------------------------------------------- the flood fast path
    def at_row_start_at_bottom(self) -> bool:
        """Whether the cursor sits at column 0 of an empty bottom row after a scroll, with nothing that
        the flood fast path does not model (margins, insert mode, no autowrap, line-feed mode, a
        graphics charset, an escape sequence half-parsed). Caller holds ``lock``."""
        scr = self.screen
        return (scr.alternate is None and scr.cursor.x == 0 and scr.cursor.y == scr.lines - 1
                and not scr.buffer[scr.lines - 1]
                and scr.margins in (None, Margins(0, scr.lines - 1)) and pyte.modes.DECAWM in scr.mode
                and pyte.modes.IRM not in scr.mode and pyte.modes.LNM not in scr.mode
                and scr.charset == 0 and scr.g0_charset is pyte.charsets.LAT1_MAP
                and bool(self.stream._taking_plain_text) and scr.tabstops == _default_tabstops(scr.columns))

    def push_flood(self, rows: Iterable[Any], attrs: Char) -> None:
        """What a flood of plain lines does to a screen in the state ``at_row_start_at_bottom``: every
        row but the bottom one scrolls into the scrollback, then ``rows``; the screen restarts empty,
        cursor at the top left with ``attrs``. The caller then feeds the flood's last lines, which fill
        the screen again exactly as they would have."""
        with self.lock:
            scr = self.screen
            for y in range(scr.lines - 1):
                scr.history.append(scr.buffer[y])
                scr.pushed += 1
            rows = list(rows)
            scr.history.extend(rows)
            scr.pushed += len(rows)
            scr.buffer.clear()
            scr.cursor.x = scr.cursor.y = 0
            scr.cursor.attrs = attrs
            scr.dirty.update(range(scr.lines))
            self._scrolled = True
            self.version += 1


def _copy_line(line: Any) -> Any:
    copy: StaticDefaultDict[int, Char] = StaticDefaultDict(line.default)
    copy.update(line)
    return copy


def _default_tabstops(columns: int) -> set[int]:
    return set(range(8, columns, 8))
