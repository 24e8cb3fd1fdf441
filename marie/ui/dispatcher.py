"""The Qt dispatcher: hands callables from any thread to the GUI thread.

Workers and the event bus call ``post(fn, *args)``; a queued signal carries the call into the Qt event
loop, so ``fn`` always runs on the thread that created the dispatcher (the GUI thread), after the
current event finishes. Posting from the GUI thread itself is deferred too, never run inline, which
keeps callbacks from re-entering the code that posted them.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


class QtDispatcher(QObject):
    """Create on the GUI thread (after QApplication). ``post`` may be called from any thread."""

    _posted = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # QueuedConnection: the slot runs in this object's thread's event loop, whichever thread emits.
        self._posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` soon on the GUI thread. Thread-safe."""
        self._posted.emit(fn, args)

    @Slot(object, object)
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
