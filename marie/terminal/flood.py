"""The flood fast path: plain output arriving faster than pyte can parse it (``cat`` of a big file).

pyte parses ~0.2 MB/s; a 50 MB ``cat`` would take minutes. While a flood lasts, the parser thread
keeps only what a terminal would still show afterwards: the last ``scrollback + lines + 2`` lines
(older lines scroll out of the scrollback anyway) and the colour state they start with. When the
flood pauses (or every ``FRAME_S`` while it goes on), those lines become scrollback rows directly
(``line_rows``: runs cut at the screen width, without pyte's per-character work) and only the last
``lines + 2`` lines go through pyte, from an empty screen, which puts the screen exactly where
parsing everything would have (``ScreenModel.push_flood`` explains why).

Exactness: the fast path is taken only for output that pyte would lay out row by row: printable
text, UTF-8, tabs, backspaces, carriage returns and SGR colour codes (``ESC [ ... m``), every line
ending in CR LF, starting at column 0 of an empty bottom row with no scroll margins (checked by
``ScreenModel.at_row_start_at_bottom``). Lines with anything but printable ASCII and colour codes are
laid out by pyte itself on a scratch screen. Anything else (cursor moves, other escapes) ends the
flood and is fed to pyte as usual. ``tests/terminal/test_flood.py`` compares the result with pyte's,
row by row and attribute by attribute.

Everything here runs on the session's parser thread.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pyte
from pyte.screens import Char

from marie.terminal.screen import DEFAULT_ATTRS, RawRow, ScreenModel

ENTER_BYTES = 32 * 1024        # a chunk this big (pending at once) may start a flood
TRIM_BYTES = 4 * 1024 * 1024   # the kept tail is trimmed to its last lines past this size
CARRY_LIMIT = 256 * 1024       # a "line" longer than this without a newline ends the flood
FRAME_S = 0.25                 # a long flood is shown this often (or less: see ``due``)

_PRINTABLE = bytes(range(0x20, 0x7F))
# Bytes that may appear in flood output; anything else (other C0 controls, DEL) ends the flood.
_PLAIN = _PRINTABLE + bytes(range(0x80, 0x100)) + b"\t\r\n\x08\x07\x1b"
_SGR = re.compile(rb"\x1b\[([0-9;]*)m")
_SGR_WHOLE = re.compile(rb"\x1b\[[0-9;]*m")
_RESETS = (b"\x1b[0m", b"\x1b[m")


def is_plain(data: bytes) -> bool:
    """Whether ``data`` (complete lines) holds only what the fast path lays out exactly."""
    if data.translate(None, _PLAIN):
        return False
    escapes = data.count(b"\x1b")
    if escapes and len(_SGR_WHOLE.findall(data)) != escapes:
        return False
    return data.count(b"\n") == data.count(b"\r\n")


def _params(raw: bytes) -> list[int]:
    return [int(p) if p else 0 for p in raw.split(b";")] if raw else [0]


def apply_sgr(attrs: Char, data: bytes, scratch: pyte.Screen) -> Char:
    """The attributes after the SGR codes in ``data``, starting from ``attrs`` (pyte's own rules)."""
    start = max(data.rfind(r) for r in _RESETS)
    if start >= 0:                       # everything before the last full reset cannot matter
        attrs = scratch.default_char
    else:
        start = 0
        if b"\x1b" not in data:
            return attrs
    for match in _SGR.finditer(data, start):
        attrs = sgr(attrs, match.group(1), scratch)
    return attrs


def sgr(attrs: Char, raw: bytes, scratch: pyte.Screen) -> Char:
    scratch.cursor.attrs = attrs
    scratch.select_graphic_rendition(*_params(raw))
    return scratch.cursor.attrs


def line_rows(line: bytes, attrs: Char, columns: int, scratch: pyte.Screen) -> tuple[list[Any], Char]:
    """The screen rows one output line (without its CR LF) fills, and the attributes after it."""
    if not line.translate(None, _PRINTABLE):              # printable ASCII only: cut at the width
        text = line.decode("ascii")
        if attrs == DEFAULT_ATTRS:                          # rows as bare strings (see RawRow)
            return [text[i:i + columns] for i in range(0, len(text), columns)] or [""], attrs
        if not text:
            return [RawRow(())], attrs
        return [RawRow(((0, text[i:i + columns], attrs),)) for i in range(0, len(text), columns)], attrs
    if line.isascii():
        parts = _SGR.split(line)
        if not b"".join(parts[0::2]).translate(None, _PRINTABLE):   # ASCII text and colour codes
            rows: list[Any] = []
            runs: list[tuple[int, str, Char]] = []
            x = 0
            for i, part in enumerate(parts):
                if i % 2:
                    attrs = sgr(attrs, part, scratch)
                    continue
                text = part.decode("ascii")
                pos = 0
                while pos < len(text):
                    if x == columns:          # pyte wraps when the next character comes, as here
                        rows.append(RawRow(tuple(runs)))
                        runs, x = [], 0
                    take = text[pos:pos + columns - x]
                    runs.append((x, take, attrs))
                    x += len(take)
                    pos += len(take)
            rows.append(RawRow(tuple(runs)))
            return rows, attrs
    return _pyte_rows(line, attrs, columns)


def _plain_rows(lines: list[bytes], attrs: Char, columns: int) -> list[Any] | None:
    """Rows for lines of printable ASCII no wider than the screen (the usual ``cat``), one list
    comprehension instead of a call per line; None when some line needs ``line_rows``."""
    joined = b"".join(lines)
    if joined.translate(None, _PRINTABLE) or max(map(len, lines), default=0) > columns:
        return None
    if not lines:
        return []
    if attrs == DEFAULT_ATTRS:                    # one decode, one split, bare strings (see RawRow)
        return b"\n".join(lines).decode("ascii").split("\n")
    return [RawRow(((0, line.decode("ascii"), attrs),)) if line else RawRow(()) for line in lines]


def _pyte_rows(line: bytes, attrs: Char, columns: int) -> tuple[list[Any], Char]:
    # Tabs, backspaces, carriage returns, wide and combining characters: pyte's rules, on a screen
    # tall enough that nothing scrolls (a character takes at least one byte and at most two cells).
    screen = pyte.Screen(columns, 2 * len(line) // max(1, columns) + 2)
    screen.cursor.attrs = attrs
    pyte.ByteStream(screen).feed(line)
    return [screen.buffer[y] for y in range(screen.cursor.y + 1)], screen.cursor.attrs


class Flood:
    """The state of one flood for one screen model. Parser thread only."""

    def __init__(self, model: ScreenModel) -> None:
        self.model = model
        self.active = False
        self.tail = bytearray()     # complete lines (CR LF ended), the newest last
        self.carry = b""            # the unfinished last line
        self.attrs: Char = model.screen.default_char   # attributes at the start of ``tail``
        self.last_frame = 0.0
        self.bytes_skipped = 0      # bytes that never went through pyte's screen (for the bench)
        self.peak_tail = 0          # the largest the kept tail got (memory bound, tests)
        self.finish_s = 0.0         # how long the last ``finish`` took
        self._scratch = pyte.Screen(1, 1)

    def _limit(self) -> int:
        return self.model.screen.history.maxlen or 0

    def _keep_lines(self) -> int:
        return self._limit() + self.model.screen.lines + 2

    def try_start(self, data: bytes, should_stop: Any = None) -> bool:
        """Feed ``data`` (a big pending chunk), going through the fast path where it can. True when
        the chunk was taken (fed or kept); the caller feeds it normally otherwise."""
        model = self.model
        pos = 0
        lines = model.screen.lines
        for _ in range(lines + 3):         # bring the cursor to an empty bottom row, line by line
            with model.lock:
                ready = model.at_row_start_at_bottom()
                if ready:
                    self.attrs = model.screen.cursor.attrs
            if ready:
                break
            newline = data.find(b"\n", pos)
            if newline < 0:
                break
            model.feed(data[pos:newline + 1])
            pos = newline + 1
        else:
            ready = False
        if not ready:
            model.feed(data[pos:], should_stop)
            return True
        self.active = True
        self.last_frame = time.monotonic()
        rest = self.extend(data[pos:])
        if rest is not None:               # not plain after all
            self.finish()
            model.feed(rest, should_stop)
        return True

    def extend(self, data: bytes) -> bytes | None:
        """Keep ``data`` if it is plain; else return what was not kept (the carried line included)."""
        data = self.carry + data
        cut = data.rfind(b"\n") + 1
        complete = data[:cut]
        if (complete and not is_plain(complete)) or len(data) - cut > CARRY_LIMIT:
            self.carry = b""
            return data
        self.carry = data[cut:]
        self.tail += complete
        self.bytes_skipped += len(complete)
        self.peak_tail = max(self.peak_tail, len(self.tail) + len(self.carry))
        if len(self.tail) > TRIM_BYTES:
            self._trim()
        return None

    def _trim(self, keep: int | None = None) -> None:
        # Cut after the newline that leaves ``keep`` lines. bytes.count runs at C speed; the window is
        # found by doubling from the end, then halved, each step counting only the bytes it adds, so
        # a trim scans about twice the kept lines rather than the whole tail.
        tail, keep = self.tail, keep or self._keep_lines()
        hi, c_hi = len(tail), 0          # invariant: count(lo) > keep >= count(hi), count(p) = newlines in tail[p:]
        lo, c_lo, step = hi, 0, max(4096, keep * 64)
        while c_lo <= keep:
            if lo == 0:
                return                   # fewer lines than we keep: nothing to drop
            hi, c_hi = lo, c_lo
            lo = max(0, lo - step)
            c_lo = c_hi + tail.count(b"\n", lo, hi)
            step *= 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            c_mid = c_hi + tail.count(b"\n", mid, hi)
            if c_mid > keep:
                lo, c_lo = mid, c_mid
            else:
                hi, c_hi = mid, c_mid
        cut = lo + 1                      # tail[lo] is the newline just before the kept lines
        if tail.find(b"\x1b", 0, cut) >= 0:
            self.attrs = apply_sgr(self.attrs, bytes(tail[:cut]), self._scratch)
        del tail[:cut]

    def due(self) -> bool:
        """Time to show the flood so far: every FRAME_S, stretched so that showing it (about 50 ms
        for a full scrollback) takes at most a fifth of the parser's time."""
        return self.active and time.monotonic() - self.last_frame >= max(FRAME_S, 5 * self.finish_s)

    def finish(self) -> None:
        """Show what the flood left: scrollback rows, then the last lines through pyte."""
        started = time.monotonic()
        try:
            self._finish()
        finally:
            self.finish_s = time.monotonic() - started

    def _finish(self) -> None:
        model = self.model
        limit = self._limit()
        keep = model.screen.lines + 2
        self._trim(limit + keep)          # only these lines can still be seen; their colours count
        tail, carry = bytes(self.tail), self.carry
        self.tail, self.carry = bytearray(), b""
        self.active = False
        lines = tail.split(b"\r\n")
        lines.pop()                      # what follows the last CR LF is in ``carry``
        if len(lines) <= keep:          # the screen is still at the flood's start: parse as usual
            model.feed(tail + carry)
            return
        body, last = lines[:-keep], lines[-keep:]
        attrs = self.attrs
        columns = model.screen.columns
        rows = _plain_rows(body, attrs, columns)
        if rows is None:
            rows = []
            for line in body:
                made, attrs = line_rows(line, attrs, columns, self._scratch)
                rows.extend(made)
        model.push_flood(rows[-limit:], attrs)
        model.feed(b"\r\n".join(last) + b"\r\n" + carry)
        self.last_frame = time.monotonic()


def recent(flood: Flood, within_s: float = 0.5) -> bool:
    """Whether a flood was shown lately: the next chunk, however small, may continue it."""
    return time.monotonic() - flood.last_frame < within_s
