"""``OutputParser``: bytes in from any thread, a ``ScreenModel`` kept up to date on its own thread.

Producers ``put`` bytes (it blocks while ``max_pending`` bytes wait, so memory stays bounded and a
fast producer is slowed to the parser's pace, as a slow terminal slows a program) and ``end()`` when
there will be no more. The parser thread takes everything pending at once, sends big plain chunks
through the flood fast path (``marie.terminal.flood``), the rest through pyte, and calls
``on_dirty`` after a change, at most once until ``acknowledge()`` (the reader is about to look).
``on_end`` runs on the parser thread after the last byte was parsed. Used by a pty session
(``TerminalSession``) and by the read-only Agent tab (``AgentOutput``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from marie.terminal import flood as flood_path
from marie.terminal.screen import ScreenModel

log = logging.getLogger(__name__)

MAX_PENDING = 4 * 1024 * 1024
FLOOD_QUIET_S = 0.015       # no output for this long: a flood is over, show it
FLOOD_BATCH = 256 * 1024    # during a flood the parser lets this much gather (or FLOOD_NAP_S pass)
FLOOD_NAP_S = 0.004


class OutputParser:
    def __init__(self, model: ScreenModel, name: str = "terminal", on_dirty: Callable[[], None] | None = None,
                 on_end: Callable[[], None] | None = None, max_pending: int = MAX_PENDING) -> None:
        self.model = model
        self.name = name
        self.flood = flood_path.Flood(model)
        self.on_dirty = on_dirty
        self.on_end = on_end
        self.max_pending = max_pending
        self.peak_pending = 0                  # the most bytes that ever waited for the parser
        self._pending = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._closed = False
        self._notified = False
        self._notified_version = -1
        self._notify_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> "OutputParser":
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-parser", daemon=True)
        self._thread.start()
        return self

    # ---------------------------------------------------------------- producers (any thread)
    def put(self, data: bytes, block: bool = True) -> None:
        """Queue ``data`` for parsing; waits while the backlog is full (never on a closed parser).
        ``block=False`` (the GUI thread, for output capped elsewhere) never waits."""
        with self._cond:
            while block and len(self._pending) >= self.max_pending and not self._closed:
                self._cond.wait(0.5)
            if self._closed:
                return
            self._pending += data
            self.peak_pending = max(self.peak_pending, len(self._pending))
            self._cond.notify_all()

    def end(self) -> None:
        """No more input: the parser drains what is pending, then calls ``on_end``."""
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def close(self, wait: float = 2.0) -> None:
        """Stop now (pending bytes are dropped). ``on_end`` still runs."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)

    @property
    def closed(self) -> bool:
        return self._closed

    # ---------------------------------------------------------------- change notices
    def acknowledge(self) -> None:
        """The reader is about to look at the model: the next change notifies again (any thread)."""
        with self._notify_lock:
            self._notified = False

    def notify(self, force: bool = False) -> None:
        """Tell ``on_dirty`` if the model changed since the last notice (``force``: tell anyway)."""
        with self._notify_lock:
            version = self.model.version
            if self._notified or (version == self._notified_version and not force):
                return                   # already told, or nothing new (a flood only gathering)
            self._notified = True
            self._notified_version = version
        if self.on_dirty is not None:
            try:
                self.on_dirty()
            except Exception:
                log.exception("terminal change listener failed")

    # ---------------------------------------------------------------- the parser thread
    def _take(self) -> bytes | None:
        """The bytes waiting; None at the end; b"" when a flood went quiet."""
        if self.flood.active and len(self._pending) < FLOOD_BATCH:
            time.sleep(FLOOD_NAP_S)      # fewer, bigger chunks: one wake-up per batch, not per read
        with self._cond:
            while not self._pending and not self._eof and not self._closed:
                if self.flood.active:
                    self._cond.wait(FLOOD_QUIET_S)
                    if not self._pending:
                        return b""
                else:
                    self._cond.wait()
            if self._closed or (not self._pending and self._eof):
                return None
            data = bytes(self._pending)
            self._pending.clear()
            self._cond.notify_all()
            return data

    def _loop(self) -> None:
        stop = lambda: self._closed  # noqa: E731
        try:
            while True:
                data = self._take()
                if data is None:
                    break
                self._parse(data, stop)
                self.notify()
            if self.flood.active and not self._closed:
                self.flood.finish()
                self.notify()
        except Exception:
            log.exception("terminal parser failed")
        finally:
            if self.on_end is not None:
                try:
                    self.on_end()
                except Exception:
                    log.exception("terminal end listener failed")

    def _parse(self, data: bytes, stop: Callable[[], bool]) -> None:
        flood = self.flood
        if flood.active:
            if not data:                       # the flood paused: show it
                flood.finish()
                return
            rest = flood.extend(data)
            if rest is not None:
                flood.finish()
                self.model.feed(rest, stop)
            elif flood.due():
                flood.finish()
        elif data and (len(data) >= flood_path.ENTER_BYTES or flood_path.recent(flood)):
            flood.try_start(data, stop)
        elif data:
            self.model.feed(data, stop)
