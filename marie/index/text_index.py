"""The project's text index, kept live: which files may contain a query, for indexed search.

``TextIndex`` owns a ``TrigramStore`` on disk (in the workspace's data folder, so a reopened project
validates it against the file system instead of rereading every file) and keeps it in step with the
snapshot:

- ``start()`` runs ``sync`` on the "textindex" worker after the scan: rows whose file is gone are
  dropped, files that are new or whose size/mtime/ctime changed are read and indexed, in batches;
- ``on_changes`` (called with every new snapshot, on the thread that made it) records the changed
  paths as *pending* at once and drains them on the worker. A pending path is always a candidate of
  every query, so an external change is searchable as soon as the snapshot has it, before its text
  is indexed: the index only ever narrows, ripgrep decides.

``candidates(groups)`` answers a search: the files that may match (index hits, pending files),
filtered to what ripgrep would search (regular files in the snapshot under the size cap), or None
when the index cannot answer exactly (not built yet, a hit on a file whose NUL byte comes late,
a file above the old size cap now below it, too many pending files). Any thread.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from marie.index.sqlite_db import close_quietly
from marie.index.trigram_store import BINARY, LATE_BINARY, TEXT, TOO_LARGE, TrigramStore

log = logging.getLogger(__name__)

BATCH_FILES = 400           # files per transaction: a few ms of writing, bounded memory
BATCH_BYTES = 16 << 20
BINARY_PROBE = 8192         # a NUL this early: ripgrep's first buffer holds it, nothing is printed
MAX_PENDING = 5000          # more files changed than this and not indexed yet: ripgrep answers
_SIZE_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: Any) -> int:
    """ripgrep's ``--max-filesize`` syntax (``8M``, ``512K``, ``1G``, plain bytes) in bytes."""
    value = str(text).strip().upper()
    if value and value[-1] in _SIZE_UNITS:
        return int(float(value[:-1]) * _SIZE_UNITS[value[-1]])
    return int(value)


def classify(data: bytes) -> tuple[int, str | None]:
    """``(state, text to index)`` for a file's bytes, as ripgrep would see them."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return TEXT, data.decode("utf-16", "replace")    # ripgrep transcodes BOM-marked UTF-16
    if b"\0" in data[:BINARY_PROBE]:
        return BINARY, None
    # Undecodable bytes become U+FFFD: a valid UTF-8 query's bytes always decode to its own text,
    # so its trigrams are found even in a file that is not valid UTF-8 elsewhere.
    text = data.decode("utf-8", "replace")
    return (LATE_BINARY if b"\0" in data else TEXT), text


class TextIndex:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.root = os.fspath(service.root)
        self._store: TrigramStore | None = None
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}     # path -> change sequence number
        self._seq = 0
        self._draining = False
        self._resync = False
        self._closed = False
        self.ready = False                     # a sync finished: candidates() may answer
        self._too_large: dict[str, int] = {}
        self._task = None
        self.last_sync: dict[str, float | int] = {}   # figures of the last sync (bench, CLI)

    # -- settings and storage -------------------------------------------------------------------------
    @property
    def size_cap(self) -> int:
        return parse_size(self.service.app.settings.get("index.search_max_filesize"))

    @property
    def store(self) -> TrigramStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = TrigramStore(Path(self.service.app.data_dir) / "text-index" / "trigrams.sqlite")
        return self._store

    # -- building --------------------------------------------------------------------------------------
    def start(self):
        """Validate and complete the index on the "textindex" worker (cancellable). Any thread."""
        self._task = self.service.app.tasks.submit(self.sync, name="text index", worker="textindex")
        return self._task

    def sync(self, ctx=None) -> int:
        """Bring the store in line with the current complete snapshot; returns the files (re)read.

        Blocking: the "textindex" worker (or a test/CLI). Reading happens a batch at a time; sqlite
        releases the interpreter lock while it writes, so the GUI thread keeps running."""
        try:
            return self._sync(ctx)
        except sqlite3.ProgrammingError:
            if self._closed:
                return 0               # the project was closed under the running build
            raise

    def _sync(self, ctx=None) -> int:
        snap = self.service.snapshot()
        if not snap.complete:
            return 0
        started = time.perf_counter()
        store = self.store
        live = store.count()
        if store.dead > max(20000, live):
            store.reset()                      # garbage from replaced files outweighs the index
        known: dict[str, tuple[int, int, int, int]] = {}
        for rows in store.file_states():
            for path, size, mtime, ctime, state in rows:
                known[path] = (size, mtime, ctime, state)
            if ctx is not None:
                ctx.check()
        cap = self.size_cap
        files = {p: e for p, e in snap.entries.items() if e.kind == "file"}
        removals = [p for p in known if p not in files]
        todo = []
        for path, entry in files.items():
            old = known.get(path)
            if old is None or old[:3] != (entry.size, entry.mtime_ns, entry.ctime_ns) \
                    or (old[3] == TOO_LARGE and entry.size <= cap):
                todo.append(path)
        validated_s = time.perf_counter() - started
        del known
        if removals:
            store.replace((), removals)
        read_bytes = self._index(todo, ctx)
        if len(todo) > 1000:
            store.optimize()
        store.mark_complete()
        self._too_large = dict(store.too_large())
        self.ready = True
        self.last_sync = {"files": len(files), "read": len(todo), "removed": len(removals),
                          "read_bytes": read_bytes, "validate_s": round(validated_s, 3),
                          "seconds": round(time.perf_counter() - started, 3), "size_bytes": store.size_bytes()}
        self._schedule_drain()                 # what changed while this ran
        return len(todo)

    def _index(self, paths: list[str], ctx=None) -> int:
        """Read and store ``paths`` (removing those no longer regular files). Returns bytes read."""
        store, cap, root = self.store, self.size_cap, self.root
        docs: list = []
        removals: list[str] = []
        size = total = 0
        for path in paths:
            if self._closed:
                return total
            entry = self.service.snapshot().get(path)
            if entry is None or entry.kind != "file":
                removals.append(path)
                continue
            if entry.size > cap:
                docs.append((path, entry.size, entry.mtime_ns, entry.ctime_ns, TOO_LARGE, None))
            else:
                try:
                    # read() sizes its buffer from the file (read(cap + 1) would allocate the
                    # whole cap, 8 MiB, for every small file)
                    with open(os.path.join(root, *path.split("/")), "rb") as handle:
                        data = handle.read()
                except OSError:
                    removals.append(path)      # unreadable now: ripgrep reads nothing either
                    continue
                state, text = classify(data)
                docs.append((path, entry.size, entry.mtime_ns, entry.ctime_ns, state, text))
                size += len(data)
                total += len(data)
            if len(docs) >= BATCH_FILES or size >= BATCH_BYTES:
                if ctx is not None:
                    ctx.check()
                store.replace(docs, removals)
                docs, removals, size = [], [], 0
        if docs or removals:
            store.replace(docs, removals)
        return total

    # -- keeping it live ----------------------------------------------------------------------------
    def on_changes(self, snapshot, changes) -> None:
        """Record changed paths as pending (searchable at once) and drain them on the worker."""
        if not changes:
            return
        if len(changes) > MAX_PENDING:
            # A rescan (or a checkout) changed more than is worth tracking path by path: compare
            # the whole store with the new snapshot instead; rg answers until that is done.
            with self._lock:
                resync, self._resync = not self._resync, True
                self.ready = False
            if resync and not self._closed:
                self.service.app.tasks.submit(self._run_resync, name="text index resync", worker="textindex")
            return
        with self._lock:
            for change in changes:
                self._seq += 1
                self._pending[change.path] = self._seq
        self._schedule_drain()

    def _run_resync(self, ctx) -> None:
        with self._lock:
            self._resync = False
            self._pending.clear()       # sync compares every file: what is pending is covered
        self.sync(ctx)

    def _schedule_drain(self) -> None:
        with self._lock:
            if self._draining or not self._pending or not self.ready or self._closed:
                return
            self._draining = True
        self.service.app.tasks.submit(self._drain, name="text index update", worker="textindex")

    def _drain(self, ctx) -> None:
        try:
            while True:
                with self._lock:
                    batch = dict(list(self._pending.items())[:BATCH_FILES * 10])
                if not batch or self._closed:
                    return
                try:
                    self._index(list(batch), ctx)
                except sqlite3.ProgrammingError:
                    if self._closed:
                        return         # closed under the update
                    raise
                snap, cap = self.service.snapshot(), self.size_cap
                over = {}
                for path in batch:
                    entry = snap.get(path)
                    if entry is not None and entry.kind == "file" and entry.size > cap:
                        over[path] = entry.size
                with self._lock:
                    for path, seq in batch.items():
                        if self._pending.get(path) == seq:
                            del self._pending[path]
                    # A new dict, never edited in place: candidates() reads the old one unlocked.
                    self._too_large = {**{p: s for p, s in self._too_large.items() if p not in batch}, **over}
        finally:
            with self._lock:
                self._draining = False
            if self._pending:
                self._schedule_drain()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is pending (tests, CLI). Not the GUI thread."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending and not self._draining:
                    return True
            time.sleep(0.01)
        return False

    # -- answering -------------------------------------------------------------------------------------
    def candidates(self, groups) -> list[str] | None:
        """The files a query with trigram ``groups`` may match, or None (ripgrep must decide). Any thread."""
        if not self.ready or self._closed:
            return None
        snap = self.service.snapshot()
        cap = self.size_cap
        with self._lock:
            pending = dict(self._pending)
            too_large = self._too_large
        if len(pending) > MAX_PENDING:
            return None
        if any(size <= cap and path not in pending for path, size in too_large.items()):
            return None                        # the cap grew since: those files were never read
        # One pass in the index's order (no sort: rg's output order is its own anyway), keeping
        # what rg would search: regular files in the snapshot, under the size cap.
        get = snap.entries.get
        kept: list[str] = []
        for path, state in self.store.candidates(groups):
            if path in pending:
                continue
            if state == LATE_BINARY:
                return None
            entry = get(path)
            if entry is not None and entry.kind == "file" and entry.size <= cap:
                kept.append(path)
        for path in pending:
            entry = snap.get(path)
            if entry is None or entry.kind != "file" or entry.size > cap:
                continue
            try:
                with open(os.path.join(self.root, *path.split("/")), "rb") as handle:
                    state, _text = classify(handle.read())
            except OSError:
                continue
            if state == LATE_BINARY:
                return None
            if state == TEXT:
                kept.append(path)
        return kept

    def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        close_quietly(self._store, "text index")
