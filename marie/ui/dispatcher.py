"""The Qt dispatcher: hands callables from any thread to the GUI thread.

Workers and the event bus call ``post(fn, *args)``; the call is queued and a custom event posted to
the dispatcher (``QCoreApplication.postEvent`` is thread-safe), so ``fn`` always runs on the thread
that created the dispatcher (the GUI thread), in the order posted, after the current event finishes.
Posting from the GUI thread itself is deferred too, never run inline, which keeps callbacks from
re-entering the code that posted them.

(A posted event rather than a queued signal: a queued connection needs ``Qt.ConnectionType``, and the
first use of PySide6's ``Qt`` namespace builds all its ~90 enums, about 30 ms of start-up.)
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject

log = logging.getLogger(__name__)

_EVENT_TYPE: QEvent.Type | None = None


def _event_type() -> QEvent.Type:
    global _EVENT_TYPE
    if _EVENT_TYPE is None:
        _EVENT_TYPE = QEvent.Type(QEvent.registerEventType())
    return _EVENT_TYPE


GUI_SWITCH_INTERVAL_S = 0.002


class QtDispatcher(QObject):
    """Create on the GUI thread (after QApplication). ``post`` may be called from any thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._type = _event_type()
        # With several busy Python workers (scan, folder index, search, symbols) the GUI thread
        # queues for the interpreter lock behind each of them in turn; a 2 ms switch interval
        # instead of 5 ms halves that wait. Measured with bench/bench_index.py's stall probe:
        # longest stall during a search 30-44 ms -> 8-14 ms, scan and search speed unchanged.
        if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
        self._calls: deque[tuple[Callable[..., Any], tuple]] = deque()   # append/popleft are thread-safe

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` soon on the GUI thread. Thread-safe."""
        self._calls.append((fn, args))
        QCoreApplication.postEvent(self, QEvent(self._type))

    def customEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() != self._type:
            return
        try:
            fn, args = self._calls.popleft()
        except IndexError:
            return
        self._run(fn, args)

    def _run(self, fn: Callable[..., Any], args: tuple) -> None:
        try:
            fn(*args)
        except RuntimeError as exc:
            # A result arriving for a view that was closed meanwhile is a normal race, not a bug.
            if "already deleted" in str(exc):
                log.debug("callback for a deleted view dropped: %s", exc)
            else:
                log.exception("callback %s posted to the GUI thread failed", _name(fn))
        except Exception:  # one failing callback must not break the event loop
            log.exception("callback %s posted to the GUI thread failed", _name(fn))


def _name(fn: Callable[..., Any]) -> str:
    # Never repr() the callable: a bound method of a deleted Qt object raises on repr.
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"
