"""The live watcher: keeps the snapshot current from file-system events.

Why not watchdog's default observer: its recursive inotify emitter on a 100k-file tree (with
node_modules, build and .venv inside) overflows the kernel queue and then rescans in a loop. Here,
on Linux, one ``watchdog.observers.inotify_c.InotifyFD`` (one inotify descriptor, one reader thread)
gets a NON-recursive watch per folder that the index keeps, so ignored folders are never watched,
and only create/delete/move/close-write and attribute (IN_ATTRIB: chmod, touch) events are
asked for; the batch re-stats each path, and ``Entry.mode``/``ctime_ns`` make a bare chmod a change. Elsewhere a watchdog ``Observer`` with
an ``event_filter`` is used and ignored paths are dropped on arrival.

Events are coalesced in a set of dirty paths; after a quiet period (``index.debounce_ms``, capped at
four periods) the owner applies them in one batch (``on_batch(dirty)`` on the watcher's thread). A
kernel queue overflow or the watch limit calls ``on_trouble(kind)``; the service repairs with a
rescan (and polls when folders cannot be watched).
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading
import time
import warnings
from typing import Callable, Iterable

log = logging.getLogger(__name__)

SETTLE_S = 0.015          # wait this long after the first event for the rest of its burst
WATCHES_FILE = "/proc/sys/fs/inotify/max_user_watches"


def watch_limit() -> int | None:
    """The system's per-user inotify watch limit (Linux), or None where there is none to read."""
    try:
        with open(WATCHES_FILE) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def raise_limit_command(needed: int) -> str:
    """The shell commands that raise the watch limit for ``needed`` folders, now and after reboot."""
    value = max(524288, 1 << max(needed * 2, 1).bit_length())
    return (f"sudo sysctl fs.inotify.max_user_watches={value} && echo fs.inotify.max_user_watches={value}"
            f" | sudo tee /etc/sysctl.d/60-inotify-watches.conf")


class Batch(dict):
    """rel path -> "rescan below it" (a folder that appeared or moved in); ``moves`` lists the
    renames inside the tree the kernel reported as one (``(old, new)`` from paired
    IN_MOVED_FROM/IN_MOVED_TO events with the same cookie), so the index can announce them as moves."""

    moves: list[tuple[str, str]]

    def __init__(self, *args, moves=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.moves = list(moves)


class Watcher:
    """Owns the watches and the debounce thread. Start with ``start(dirs)``; ``close()`` stops it."""

    def __init__(self, root: str, on_batch: Callable[[Batch], None], on_trouble: Callable[[str], None],
                 debounce_s: float = 0.075) -> None:
        self.root = root
        self.on_batch = on_batch
        self.on_trouble = on_trouble
        self.debounce_s = debounce_s
        self._pending: dict[str, bool] = {}
        self._moved_from: dict[int, str] = {}     # inotify cookie -> old path, awaiting its MOVED_TO
        self._moves: list[tuple[str, str]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._paused = 0
        self._overflowed = False
        self.limited = False                 # some folders could not be watched (watch limit)
        self.requested = 0                   # folders asked to be watched (for the limit notice)
        self.busy = False                    # a batch is being applied
        self._wd_rel: dict[int, str] = {}
        self._rel_wd: dict[str, int] = {}
        self._map_lock = threading.Lock()
        self._fd = None
        self._observer = None
        self._thread = threading.Thread(target=self._run, name="marie-index-watch", daemon=True)

    # -- lifetime ---------------------------------------------------------------------------------
    def start(self, dirs: Iterable[str]) -> None:
        """Watch the root and ``dirs`` (rel paths of kept folders). Any thread."""
        if sys.platform.startswith("linux"):
            from watchdog.observers.inotify_c import InotifyFD

            self._fd = InotifyFD()   # our own descriptor: not shared with other watchdog users
            self._fd.start()
            self.add_dirs([""] + list(dirs))
        else:  # pragma: no cover - other platforms
            self._start_observer()
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._fd is not None:
            try:
                self._fd.stop()
            except Exception:
                log.exception("stopping inotify failed")
        if self._observer is not None:  # pragma: no cover
            self._observer.stop()

    # -- watches ----------------------------------------------------------------------------------
    @property
    def watch_count(self) -> int:
        return len(self._rel_wd)

    def add_dirs(self, rels: Iterable[str]) -> None:
        """Add a non-recursive watch per folder. On the watch limit: report once, stop adding."""
        if self._fd is None:
            return
        from watchdog.observers.inotify_c import InotifyConstants as C

        mask = (C.IN_CREATE | C.IN_DELETE | C.IN_MOVED_FROM | C.IN_MOVED_TO | C.IN_CLOSE_WRITE
                | C.IN_ATTRIB | C.IN_DELETE_SELF | C.IN_ONLYDIR | C.IN_DONT_FOLLOW | C.IN_EXCL_UNLINK)
        rels = list(rels)
        self.requested += len(rels)
        for rel in rels:
            if self.limited:
                return
            path = os.fsencode(os.path.join(self.root, *rel.split("/")) if rel else self.root)
            try:
                with warnings.catch_warnings():
                    # Re-adding a moved folder returns its existing watch; watchdog warns, harmlessly.
                    warnings.simplefilter("ignore", RuntimeWarning)
                    wd = self._fd.add_callback(path, mask, self, id(self))
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EMFILE):
                    self.limited = True
                    self._raise_trouble("limit")
                    return
                continue  # vanished or unreadable folder: nothing to watch
            with self._map_lock:
                old = self._wd_rel.get(wd)
                if old is not None and old != rel:
                    self._rel_wd.pop(old, None)   # the same folder, moved: the kernel kept its wd
                self._wd_rel[wd] = rel
                self._rel_wd[rel] = wd

    def remove_dirs(self, rels: Iterable[str]) -> None:
        if self._fd is None:
            return
        drop: list[tuple[int, int]] = []
        with self._map_lock:
            for rel in rels:
                wd = self._rel_wd.pop(rel, None)
                if wd is not None and self._wd_rel.get(wd) == rel:
                    del self._wd_rel[wd]
                    drop.append((wd, id(self)))
        if drop:
            try:
                self._fd.remove_callbacks(drop)
            except Exception:
                log.debug("removing watches failed", exc_info=True)

    def watched(self) -> set[str]:
        with self._map_lock:
            return set(self._rel_wd)

    # -- InotifyFD callbacks (its reader thread) ------------------------------------------------
    def on_event(self, event) -> None:
        with self._map_lock:
            folder = self._wd_rel.get(event.wd)
        if folder is None:
            return
        if not event.name:
            return  # events on the watched folder itself: its parent's watch reports them
        name = os.fsdecode(event.name)
        rel = f"{folder}/{name}" if folder else name
        subtree = bool(event.is_directory and (event.is_create or event.is_moved_to))
        if event.is_moved_from or event.is_moved_to:
            with self._cond:
                if event.is_moved_from:
                    self._moved_from[event.cookie] = rel
                else:
                    old = self._moved_from.pop(event.cookie, None)
                    if old is not None:
                        self._moves.append((old, rel))
        self.push({rel: subtree})

    def on_watch_deleted(self, wd) -> None:
        with self._map_lock:
            rel = self._wd_rel.pop(wd, None)
            if rel is not None and self._rel_wd.get(rel) == wd:
                del self._rel_wd[rel]

    def on_queue_overflow(self) -> None:
        """The kernel dropped events: the next batch is replaced by a rescan."""
        with self._cond:
            self._overflowed = True
            self._cond.notify_all()

    # -- batching ---------------------------------------------------------------------------------
    def push(self, batch: Batch) -> None:
        """Queue dirty paths (also used for writes MarieIDE made itself). Any thread."""
        with self._cond:
            for rel, subtree in batch.items():
                self._pending[rel] = self._pending.get(rel, False) or subtree
            self._cond.notify_all()

    def pause(self) -> None:
        """Hold batches (a full rescan is running); events keep collecting."""
        with self._cond:
            self._paused += 1

    def resume(self) -> None:
        with self._cond:
            self._paused = max(0, self._paused - 1)
            self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return not self._pending and not self._overflowed and not self.busy

    def _raise_trouble(self, kind: str) -> None:
        try:
            self.on_trouble(kind)
        except Exception:
            log.exception("watcher trouble handler failed")

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._paused or not (self._pending or self._overflowed)):
                    self._cond.wait()
                if self._closed:
                    return
                # Debounce: a short settle first, so a lone edit shows within ~15 ms; only when
                # more events arrive meanwhile (a burst: a checkout, a build) wait for a quiet
                # period, never more than four periods in all, and apply the burst as one batch.
                deadline = time.monotonic() + 4 * self.debounce_s
                quiet = min(SETTLE_S, self.debounce_s)
                while not self._closed:
                    before = len(self._pending)
                    self._cond.wait(quiet)
                    if len(self._pending) == before or time.monotonic() >= deadline:
                        break
                    quiet = self.debounce_s
                if self._closed:
                    return
                if self._paused:
                    continue
                batch = Batch(self._pending, moves=self._moves)
                # A MOVED_FROM still unpaired here went out of the tree: a plain removal.
                self._pending, self._moves, self._moved_from = {}, [], {}
                overflowed, self._overflowed = self._overflowed, False
                self.busy = True
            try:
                if overflowed:
                    self._raise_trouble("overflow")
                else:
                    self.on_batch(batch)
            except Exception:
                log.exception("applying watcher events failed")
            finally:
                with self._cond:
                    self.busy = False
                    self._cond.notify_all()

    # -- other platforms ------------------------------------------------------------------------
    def _start_observer(self) -> None:  # pragma: no cover - exercised on macOS/Windows only
        from watchdog.events import (DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent,
                                     FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
                                     FileSystemEventHandler)
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                for path in (event.src_path, getattr(event, "dest_path", "")):
                    if path:
                        rel = os.path.relpath(os.fsdecode(path), watcher.root).replace(os.sep, "/")
                        if not rel.startswith(".."):
                            watcher.push({rel: event.is_directory})

        self._observer = Observer()
        self._observer.schedule(Handler(), self.root, recursive=True, event_filter=[
            FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent,
            DirCreatedEvent, DirDeletedEvent, DirMovedEvent])
        self._observer.start()
