"""The dirty set: paths that may have changed since the last checkpoint, so the next one re-stats
only them instead of walking 100k files.

Fed by the index's ``IndexChanged(snapshot, changes)`` events (the watcher's batches and the diffs
of rescans) and by ``FilesWritten`` (the single write path). Event handlers may run on any thread
(inline on the watcher's thread, or the GUI thread through the Qt dispatcher), so everything here is
guarded by one lock.

When the feed can be trusted (``live()``): the index exists, its watcher runs and is not limited
(polling), and at least one snapshot was seen. Anything that makes the set unreliable marks it
``broken`` so the next checkpoint does a full stat walk instead: an ignore-rule file changed, the
watcher reported an overflow (the index's rescan), or a batch so big that a walk is as cheap.

Events queued on the dispatcher but not delivered yet are caught by ``sync()``, which compares the
last snapshot seen here with the index's current one (snapshot generations increase by one per
change). The remaining window: a change the kernel has not yet handed to the watcher (normally
milliseconds, plus the watcher's debounce) is not in the set; it lands in the next checkpoint. The
write path and restore re-stat the paths they touch, so those are never missed. The index's
changes compare size and mtime only, so a change that keeps both (a bare ``chmod``, or a rewrite
with the mtime set back) is not reported; the next full walk (a new process, the CLI, an overflow)
records it. Restore is not affected for content: it re-stats what it writes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterable

from marie.core.event_types import FilesWritten, IndexChanged

FULL_WALK_ABOVE = 20_000      # more dirty paths than this: a full walk costs about the same
_RULE_FILES = (".gitignore", ".ignore")


def _is_rule_file(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1] in _RULE_FILES or rel == ".git/info/exclude"


class DirtyFeed:
    def __init__(self, app: Any, root: Path) -> None:
        self.app = app
        self.root = Path(root)
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._broken = False
        self._seen = None            # the last index Snapshot whose changes are in ``_paths``
        self._notices_seen = 0
        events = getattr(app, "events", None)
        self._unsubscribe = [events.on(IndexChanged, self._on_index_changed),
                             events.on(FilesWritten, self._on_files_written)] if events else []

    # -- feeding (any thread) -------------------------------------------------------------------
    def _add(self, rels: Iterable[str]) -> None:   # caller holds the lock
        if self._broken:
            return
        for rel in rels:
            if _is_rule_file(rel):
                self._broken = True   # what is ignored may change anywhere below: walk
                break
            self._paths.add(rel)
        if len(self._paths) > FULL_WALK_ABOVE:
            self._broken = True
        if self._broken:
            self._paths = set()

    def _on_index_changed(self, event: IndexChanged) -> None:
        snapshot, changes = event.snapshot, event.changes
        with self._lock:
            seen = self._seen
            if seen is not None and snapshot.generation <= seen.generation:
                return   # already covered (``sync`` caught up before this event arrived)
            if seen is not None and snapshot.generation != seen.generation + 1:
                changes = seen.diff(snapshot)   # an event in between is missing or late
            self._seen = snapshot
            self._add(c.path for c in changes)

    def _on_files_written(self, event: FilesWritten) -> None:
        self.add(event.paths)

    def add(self, paths: Iterable[str | Path]) -> None:
        """Mark paths (relative POSIX strings or absolute paths) dirty. Any thread."""
        rels = []
        for path in paths:
            if isinstance(path, Path) or str(path).startswith("/"):
                try:
                    path = Path(path).relative_to(self.root).as_posix()
                except ValueError:
                    continue
            rels.append(str(path))
        with self._lock:
            self._add(rels)

    # -- reading (the checkpoint worker) --------------------------------------------------------
    def index(self):
        """``app.index`` if something already built it (never built just to ask)."""
        return getattr(self.app, "__dict__", {}).get("index")

    def live(self) -> bool:
        """Whether a running watcher feeds this set."""
        idx = self.index()
        if idx is None or getattr(idx, "_closed", False):
            return False
        watcher = getattr(idx, "watcher", None)
        if watcher is None or getattr(watcher, "limited", False):
            return False
        snap = idx.snapshot()
        if not getattr(snap, "complete", True):
            return False   # the first scan is still running
        with self._lock:
            if self._seen is None:
                # Built after the index announced its scan: start from its current snapshot (a
                # full walk follows, so nothing before this moment needs to be in the set).
                self._seen = snap
            return True

    def settle(self, timeout: float) -> None:
        """Give the watcher up to ``timeout`` s to apply what it has queued (before a restore)."""
        idx = self.index()
        if idx is not None and hasattr(idx, "wait_idle"):
            try:
                idx.wait_idle(timeout)
            except Exception:
                pass

    def sync(self) -> None:
        """Catch up with the index's current snapshot and notice an overflow rescan."""
        idx = self.index()
        if idx is None:
            return
        snap = idx.snapshot()
        notices = list(getattr(idx, "notices", ()))
        with self._lock:
            seen = self._seen
            if seen is not None and snap.generation > seen.generation:
                self._add(c.path for c in seen.diff(snap))
                self._seen = snap
            fresh = notices[self._notices_seen:]
            self._notices_seen = len(notices)
            if any("missed events" in n or "rescanned" in n for n in fresh):
                self._broken = True   # the kernel dropped events: trust only a full walk
                self._paths = set()

    def take(self) -> tuple[set[str], bool]:
        """The dirty paths and whether the set is broken; both reset. Any thread."""
        with self._lock:
            paths, broken = self._paths, self._broken
            self._paths, self._broken = set(), False
            return paths, broken

    def reset(self) -> None:
        """A full walk starts now: what it sees supersedes everything collected so far."""
        with self._lock:
            self._paths, self._broken = set(), False

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
