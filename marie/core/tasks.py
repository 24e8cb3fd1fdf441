"""Background work: named workers, cancellation and progress.

``TaskRunner.submit(fn, ...)`` runs ``fn(ctx, *args)`` off the calling thread. ``ctx`` is a
``TaskContext``: long loops call ``ctx.check()`` (raises ``Cancelled``) and ``ctx.progress(...)``.
Completion, failure and progress callbacks are delivered through the dispatcher, i.e. on the GUI
thread in the app. Libraries whose objects are not thread-safe (libgit2, llama.cpp) get a dedicated
single-thread worker by passing ``worker="git"`` and so on: every task for that worker runs on the
same thread, in order.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, TypedDict

from marie.core.dispatch import Dispatcher, InlineDispatcher

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a task when its cancellation was requested."""


class CancelToken:
    """Thread-safe cancellation flag with callbacks (used to kill subprocesses or close sockets)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a failing cancel hook must not stop the others
                log.exception("cancel callback failed")

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when cancelled (at once if already cancelled)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; returns True early if cancelled."""
        return self._event.wait(timeout)


@dataclass
class Progress:
    done: int = 0
    total: int | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@dataclass
class TaskContext:
    token: CancelToken
    _report: Callable[[Progress], None]
    _last: float = 0.0

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def check(self) -> None:
        self.token.check()

    def progress(self, done: int, total: int | None = None, message: str = "", *, force: bool = False) -> None:
        """Report progress; throttled to ~20 per second so a tight loop cannot flood the GUI."""
        now = time.monotonic()
        if force or now - self._last >= 0.05 or (total is not None and done >= total):
            self._last = now
            self._report(Progress(done, total, message))


@dataclass
class Task:
    id: int
    name: str
    token: CancelToken
    future: Future
    state: str = "pending"  # pending | running | done | failed | cancelled
    progress: Progress = field(default_factory=Progress)
    error: BaseException | None = None

    def cancel(self) -> None:
        self.token.cancel()
        self.future.cancel()

    def result(self, timeout: float | None = None) -> Any:
        return self.future.result(timeout)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")


class Callbacks(TypedDict, total=False):
    """The keyword arguments of a queued operation (``TaskRunner.submit``); services that queue work
    take them as ``**callbacks: Unpack[Callbacks]``."""

    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    on_progress: Callable[[Progress], None] | None
    token: CancelToken | None
    quiet: bool


class TaskRunner:
    """Owns the worker threads. Create one per app; call ``shutdown`` on exit."""

    def __init__(self, dispatcher: Dispatcher | None = None, pool_size: int = 4) -> None:
        self.dispatcher = dispatcher or InlineDispatcher()
        self._pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="marie-pool")
        self._workers: dict[str, ThreadPoolExecutor] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.tasks: dict[int, Task] = {}
        self._listeners: list[Callable[[Task], None]] = []
        self.closed = False

    def worker(self, name: str) -> ThreadPoolExecutor:
        """The dedicated single thread named ``name`` (created on first use)."""
        with self._lock:
            if name not in self._workers:
                self._workers[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"marie-{name}")
            return self._workers[name]

    def on_task_change(self, callback: Callable[[Task], None]) -> None:
        """Views listen here to show running tasks; called through the dispatcher."""
        self._listeners.append(callback)

    def _announce(self, task: Task) -> None:
        for callback in list(self._listeners):
            self.dispatcher.post(callback, task)

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "", worker: str | None = None,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[Progress], None] | None = None,
               token: CancelToken | None = None, quiet: bool = False) -> Task:
        """Run ``fn(ctx, *args)`` in the background. Callable from any thread.

        A failure goes to ``on_error`` (through the dispatcher); without one it is logged, unless
        ``quiet`` says the caller waits on ``task.result()`` and reports the error itself.
        """
        token = token or CancelToken()
        if self.closed:
            # Timers and watchers may still fire while the app shuts down; their work is moot, so
            # it is refused quietly as a cancelled task instead of raising in a Qt callback.
            token.cancel()
            refused: Future = Future()
            refused.cancel()
            return Task(0, name or getattr(fn, "__name__", "task"), token, refused, state="cancelled")
        executor = self.worker(worker) if worker else self._pool
        holder: dict[str, Task] = {}

        def report(progress: Progress) -> None:
            task = holder["task"]
            task.progress = progress
            if on_progress:
                self.dispatcher.post(on_progress, progress)
            self._announce(task)

        def run() -> Any:
            task = holder["task"]
            if token.cancelled:
                task.state = "cancelled"
                self._announce(task)
                raise Cancelled()
            task.state = "running"
            self._announce(task)
            try:
                result = fn(TaskContext(token, report), *args)
            except Cancelled:
                task.state = "cancelled"
                self._announce(task)
                raise
            except BaseException as exc:
                task.state, task.error = "failed", exc
                self._announce(task)
                if on_error:
                    self.dispatcher.post(on_error, exc)
                elif not quiet:
                    log.error("task %r failed", task.name, exc_info=exc)
                raise
            if token.cancelled:
                task.state = "cancelled"
                self._announce(task)
                raise Cancelled()
            task.state = "done"
            self._announce(task)
            if on_done:
                self.dispatcher.post(on_done, result)
            return result

        with self._lock:
            task_id = next(self._ids)
            # The task object must exist before the worker can start running it.
            future: Future = Future()
            task = Task(task_id, name or getattr(fn, "__name__", "task"), token, future)
            holder["task"] = task
            self.tasks[task_id] = task
        inner = executor.submit(run)
        task.future = inner
        inner.add_done_callback(lambda _f: self._forget(task_id))
        return task

    def _forget(self, task_id: int) -> None:
        with self._lock:
            self.tasks.pop(task_id, None)

    def run_sync(self, fn: Callable[..., Any], *args: Any, worker: str | None = None, timeout: float | None = None) -> Any:
        """Run on the given worker and wait: for the CLI and tests, never for the GUI thread."""
        return self.submit(fn, *args, worker=worker, quiet=True).result(timeout)

    def cancel_all(self) -> None:
        with self._lock:
            tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()

    def shutdown(self, wait: bool = True) -> None:
        self.closed = True
        self.cancel_all()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        for executor in list(self._workers.values()):
            executor.shutdown(wait=wait, cancel_futures=True)
