"""The store lock: one ``fcntl.flock`` on ``<store>/lock`` shared by every MarieIDE process on the
workspace, plus a thread lock for threads of this process (flock is per open file, so the thread lock
keeps two threads of one process from both believing they hold it). A crashed holder's lock is
released by the kernel, so a kill -9 never leaves the store locked."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Iterator


class StoreBusy(RuntimeError):
    """Another MarieIDE process held the checkpoint store for longer than the timeout."""


class StoreLock:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self, timeout: float = 60.0) -> Iterator[None]:
        """Hold the lock (re-entrant within a thread). Blocks up to ``timeout`` seconds. Any thread."""
        with self._thread_lock:
            if self._depth == 0:
                self._acquire(timeout)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()

    def _acquire(self, timeout: float) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise StoreBusy(f"the checkpoint store {self.path.parent} is busy (another MarieIDE "
                                    f"process has held it for {timeout:.0f} s)") from None
                time.sleep(0.02)
        self._fd = fd

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
