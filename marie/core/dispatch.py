"""One way for results of background work to reach the thread that owns the views.

Workers never touch views: they ``post`` a callable to the dispatcher, which runs it on the owning
thread. The GUI installs a Qt dispatcher (``marie.ui.dispatcher``), the CLI a queue it drains, unit
tests the inline one. ``post`` may be called from any thread.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Protocol


class Dispatcher(Protocol):
    def post(self, fn: Callable[..., Any], *args: Any) -> None: ...


class InlineDispatcher:
    """Runs the callable at once on the calling thread (unit tests, simple scripts)."""

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)


class QueueDispatcher:
    """Collects callables from any thread; the owning thread runs them with ``drain`` or ``run_until``."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()
        self.owner = threading.get_ident()

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.put((fn, args))

    def drain(self, timeout: float | None = 0.0) -> int:
        """Run what is queued (waiting up to ``timeout`` for the first item); returns how many ran."""
        ran = 0
        try:
            fn, args = self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
        except queue.Empty:
            return 0
        while True:
            fn(*args)
            ran += 1
            try:
                fn, args = self._queue.get_nowait()
            except queue.Empty:
                return ran

    def run_until(self, done: Callable[[], bool], timeout: float = 60.0) -> bool:
        """Pump the queue on this thread until ``done()`` is true or ``timeout`` passes."""
        import time

        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.drain(timeout=min(left, 0.05))
        return True
