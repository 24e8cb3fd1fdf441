"""``IndexService`` (``app.index``): the project's immutable snapshot, kept live, plus quick open,
symbols and project search over it.

Threads: ``scan`` runs on the caller (a worker or the CLI); ``start`` runs the scan on the "index"
worker and then starts the watcher, whose batches are applied on the watcher's own thread. Readers
(``snapshot``, ``find``, ``symbols`` ...) may be called from any thread; the GUI calls ``find`` and
``workspace_symbols`` through ``app.tasks`` so a keystroke never waits on them. Every new snapshot
is announced with ``index.changed(snapshot, changes)`` through the event bus (GUI thread in the app).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from marie.core import atomic
from marie.core.event_types import FilesWritten, IndexChanged, IndexProgress, SettingsChanged
from marie.core.tasks import CancelToken, Cancelled, Task
from marie.core.release import release_later
from marie.index import gcpause
from marie.index.ignore import IgnoreMatcher, matcher_for
from marie.index.quick_open import FileMatch, QuickOpen
from marie.index.scan import Unreadable, entry_for, walk
from marie.index.rgscan import list_files
from marie.index import snapshot_store
from marie.index.compact import CompactEntries
from marie.index.reopen import Reopened, revalidate
from marie.index.snapshot import Change, Entry, LazyEntries, Snapshot, link_moves
from marie.index.snapshot_store import ScanRecord
from marie.index.watcher import Batch, Watcher

log = logging.getLogger(__name__)


class IndexService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.root = Path(app.root)
        self._root_text = os.fspath(self.root)
        self.matcher: IgnoreMatcher = matcher_for(self.root, app.settings)
        self._snapshot = Snapshot(complete=False)
        self.listing_s: float | None = None   # how long the last paths-first listing took
        self.complete_s: float | None = None  # how long the last scan took to its complete snapshot
        # How the first scan got its entries: {"from": "store" | "walk", "reason": why not the store, ...}
        self.last_open: dict[str, Any] = {}
        self._unsaved: tuple | None = None    # the last scan's snapshot and record, until stored
        self._lock = threading.RLock()
        self._scan_lock = threading.Lock()
        self.quick_open = QuickOpen()
        self.watcher: Watcher | None = None
        self.notices: list[str] = []          # what the user was told (tests and the CLI read it)
        self._told: set[str] = set()
        self._scan_task: Task | None = None
        self._scanning = threading.Event()
        self._poll_stop = threading.Event()
        self._closed = False
        self._symbols = None
        self._text = None
        self._unsubscribe = [app.events.on(FilesWritten, self._on_files_written),
                             app.events.on(SettingsChanged, self._on_settings_changed)]
        self._load_recent()

    # -- reading ---------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The current immutable snapshot (empty and ``complete=False`` before the first scan)."""
        return self._snapshot

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        return self.matcher.is_ignored(rel, is_dir)

    # -- scanning --------------------------------------------------------------------------------
    def scan(self, ctx=None, paths_first: bool = False, save: bool = True) -> Snapshot:
        """Blocking full scan; installs and announces the new snapshot. Worker thread or CLI.

        The first scan of a project opened before starts from the snapshot stored at the end of the
        last scan (``snapshot_store``), re-checked against the disk (``reopen.revalidate``: every
        entry re-stat'ed, only changed folders listed again); without a usable store, the tree is
        walked. ``paths_first``: when walking with nothing indexed yet, first publish the path list
        from ``rg --files`` (``complete=False``, sizes/mtimes 0, no symlinks or empty folders) as soon
        as ripgrep has walked the tree, then the walker's complete snapshot as the next generation.
        ``save``: store the result at the end (``start`` saves later, once the watcher runs).
        """
        with self._scan_lock:
            self._scanning.set()
            if self.watcher:
                self.watcher.pause()
            try:
                started = time.perf_counter()
                matcher = self.matcher
                # No cyclic GC while 100k objects are made: a full collection held the GIL (and so
                # froze the GUI) for 50-110 ms at 100k files.
                with gcpause.paused():
                    reopened = self._reopen(matcher, ctx) if not self._snapshot.entries else None
                if reopened is not None:
                    entries, unreadable, record = reopened.entries, reopened.unreadable, reopened.record
                else:
                    if paths_first and not self._snapshot.entries:
                        self._publish_listing(ctx)
                    inodes: dict[str, int] = {}
                    walker = walk(self.root, matcher, ctx, inodes=inodes)
                    with gcpause.paused():
                        entries = CompactEntries.of(walker)    # columns, no Entry kept per path
                    top = walker.top
                    record = ScanRecord(walker.started_ns, (top.st_mtime_ns, top.st_ctime_ns, top.st_ino)
                                        if top is not None else (0, 0, 0), inodes)
                    unreadable = walker.unreadable
                with gcpause.paused():
                    with self._lock:
                        old = self._snapshot
                        new = Snapshot(entries, old.generation + 1, tuple(str(u) for u in unreadable), True)
                        self._snapshot = new
                    self.complete_s = time.perf_counter() - started
                    entries.index    # noqa: B018 - derive the path index now, on this worker, not in a view
                    if old.complete:
                        changes = old.diff(new) if old.entries else [Change("added", p) for p in entries]
                    else:
                        # After a paths-only listing every entry gains its metadata: all "added"
                        # (cheap), plus what the listing had that the walker did not keep.
                        changes = [Change("removed", p) for p in old.entries.keys() - entries.keys()]
                        changes += [Change("added", p) for p in entries]
                    # Freeing the previous tree is one long C call under the interpreter lock
                    # (a GUI stall): done in slices on the release thread instead.
                    release_later(old)
                    del old
                self._unsaved = (new, record, [u.path for u in unreadable], matcher)
                for problem in unreadable:
                    self.tell(f"Not indexed: {problem}", "warning", key=f"unreadable:{problem.path}")
                if self.watcher:
                    self._sync_watches(new)
            finally:
                self._scanning.clear()
                if self.watcher:
                    self.watcher.resume()
        self._announce(new, changes)
        if save:
            self.save_snapshot()
        return new

    # -- the stored snapshot -------------------------------------------------------------------------
    def _store_path(self) -> Path:
        return Path(self.app.data_dir) / "snapshot" / "snapshot.bin"

    def _reopen(self, matcher: IgnoreMatcher, ctx) -> Reopened | None:
        """The complete entries from the stored snapshot, re-checked against the disk; None (the
        reason in ``last_open``) when there is none or it cannot be trusted. Scan thread."""
        stored, reason = snapshot_store.load(self._store_path())
        reopened = None
        if stored is not None:
            try:
                reopened, reason = revalidate(self._root_text, matcher, stored, ctx)
            except Cancelled:
                raise
            except Exception as exc:    # a bug here must cost a walk, never a wrong tree
                log.exception("checking the stored snapshot failed")
                reopened, reason = None, f"checking the stored snapshot failed ({exc})"
            del stored
        if reopened is None:
            log.info("index: walking the project (%s)", reason)
            self.last_open = {"from": "walk", "reason": reason}
            return None
        self.last_open = {"from": "store", "reason": "", "trusted_folders": reopened.trusted,
                          "relisted_folders": len(reopened.relisted), "walked_entries": reopened.walked}
        return reopened

    def save_snapshot(self) -> bool:
        """Store the last scan's snapshot for the next open (after each scan). Scan thread or CLI;
        a failure only costs the next open a walk."""
        pending, self._unsaved = self._unsaved, None
        if pending is None:
            return False
        snap, record, unreadable, matcher = pending
        path = self._store_path()
        try:
            with gcpause.paused():
                header = {"fingerprint": snapshot_store.fingerprint(self._root_text, matcher),
                          "rules": snapshot_store.rule_reads(matcher, self._root_text, snap.entries)}
                return snapshot_store.save(path, snap.entries, record, unreadable, header)
        except (OSError, ValueError) as exc:
            log.warning("could not store the index snapshot in %s: %s", path, exc)
            return False

    def _publish_listing(self, ctx) -> Snapshot | None:
        """Install and announce the ``rg --files`` listing (None when rg cannot run). Worker thread.

        Published as soon as rg's output is split into paths; the folders those paths imply are
        derived right after (still on this worker, before the walker starts), so a view that asks
        early waits for them at most that long and later readers find them ready."""
        started = time.perf_counter()
        with gcpause.paused():
            files = list_files(self._root_text, self.matcher, ctx)
            if files is None:
                return None
            with self._lock:
                if self._snapshot.entries:
                    return None      # something newer got in first
                listing = Snapshot(LazyEntries(files=files), self._snapshot.generation + 1, (), False)
                self._snapshot = listing
        self.listing_s = time.perf_counter() - started
        # Views re-read the snapshot; the per-path "added" list follows with the complete scan.
        self._announce(listing, [])
        with gcpause.paused():
            listing.entries.kinds      # noqa: B018 - derive the folders now, off any view's thread
        return listing

    def scan_paths(self, ctx=None) -> Snapshot:
        """The path list alone (``rg --files``, ignore rules applied): all that quick open needs, at
        ripgrep's speed, for one-shot queries (``marie find``). A full scan where rg cannot run.
        Blocking: worker thread or CLI."""
        with self._scan_lock:
            listing = self._publish_listing(ctx) if not self._snapshot.entries else None
        return listing if listing is not None else self.scan(ctx)

    def start(self) -> Task:
        """Scan in the background (progress as ``IndexProgress`` events), then watch. Any thread."""
        def job(ctx):
            snap = self.scan(ctx, paths_first=True, save=False)
            snap.files()   # sort the file list here, not in ``done`` on the GUI thread
            if not self._closed and self.app.settings.get("index.watch"):
                self._start_watcher(snap)
            self.save_snapshot()       # after the watcher is up: storing must not delay it
            return snap

        def progress(p) -> None:
            self.app.events.publish(IndexProgress(p.done, p.message, finished=False))

        def done(snap: Snapshot) -> None:
            self.app.events.publish(IndexProgress(len(snap), f"{len(snap.files())} files indexed", finished=True))
            if self.app.settings.get("index.symbols"):
                self.symbol_index.start()
            if self.app.settings.get("index.text_index"):
                self.text_index.start()

        self._scan_task = self.app.tasks.submit(job, name="index scan", worker="index",
                                                on_progress=progress, on_done=done)
        return self._scan_task

    def rescan(self, reason: str = "") -> Task:
        """Repair with a full background rescan (overflow, watch limit, changed ignore rules)."""
        return self.app.tasks.submit(lambda ctx: self.scan(ctx), name=f"index rescan {reason}".strip(),
                                     worker="index")

    # -- the watcher ------------------------------------------------------------------------------
    def start_watcher(self) -> Watcher:
        """Start watching the current snapshot's folders (``start`` does this after its scan)."""
        return self._start_watcher(self._snapshot)

    def _start_watcher(self, snap: Snapshot) -> Watcher:
        with self._lock:
            if self.watcher is None:
                debounce = max(10, int(self.app.settings.get("index.debounce_ms"))) / 1000
                self.watcher = Watcher(self._root_text, self._apply_batch, self._on_trouble, debounce)
                self.watcher.start(snap.dirs())
        return self.watcher

    def _sync_watches(self, snap: Snapshot) -> None:
        assert self.watcher is not None
        dirs = set(snap.dirs()) | {""}
        watched = self.watcher.watched()
        self.watcher.remove_dirs(watched - dirs)
        self.watcher.add_dirs(sorted(dirs - watched))

    def _on_trouble(self, kind: str) -> None:
        """Watcher thread: the kernel dropped events, or folders cannot all be watched."""
        if kind == "overflow":
            self.tell("The file watcher missed events (the system's event queue overflowed); "
                      "the project was rescanned to catch up.", "warning", key="overflow")
            self.scan()
        elif kind == "limit":
            from marie.index.watcher import raise_limit_command, watch_limit

            seconds = self.app.settings.get("index.poll_seconds")
            needed = self.watcher.requested if self.watcher is not None else len(self._snapshot)
            limit = watch_limit()
            self.tell(f"Not every folder can be watched: the system's inotify watch limit"
                      f"{f' ({limit})' if limit else ''} was reached with {needed} folders to watch. "
                      f"Changes are picked up by rescanning every {seconds} s (or longer on a big project) "
                      f"instead. To get instant updates, raise the limit and reopen the project: "
                      f"{raise_limit_command(needed)}", "warning", key="limit")
            threading.Thread(target=self._poll, args=(seconds,), name="marie-index-poll", daemon=True).start()

    def _poll(self, seconds: float) -> None:
        """Rescan every ``seconds``, or three times as long as the last rescan took, so that polling
        a huge tree never keeps a core busy. Polling thread."""
        wait = seconds
        while not self._poll_stop.wait(wait):
            started = time.monotonic()
            try:
                self.scan()
            except Exception:
                log.exception("polling rescan failed")
            wait = max(seconds, 3 * (time.monotonic() - started))

    def _apply_batch(self, batch: Batch) -> None:
        """Watcher thread: turn dirty paths into a new snapshot (only those paths are stat'ed)."""
        if any(IgnoreMatcher.is_rule_file(rel) for rel in batch):
            # Ignore rules changed: what is listed may change anywhere below; rescan.
            self.matcher.invalidate()
            self.scan()
            return
        upserts: list[Entry] = []
        removals: list[str] = []
        new_dirs: list[str] = []
        with self._lock:
            snap = self._snapshot
        for rel, subtree in sorted(batch.items()):
            entry = entry_for(self._root_text, rel)
            if entry is None or self.matcher.is_ignored(rel, entry.kind == "dir"):
                if rel in snap.entries:
                    removals.append(rel)
                continue
            parent = entry.parent
            if parent and parent not in snap.entries and not any(e.path == parent for e in upserts):
                # Its folder is not indexed (yet): the folder's own event brings it in.
                pre = entry_for(self._root_text, parent)
                if pre is None or pre.kind != "dir" or self.matcher.is_ignored(parent, True):
                    continue
            upserts.append(entry)
            if entry.kind == "dir" and (subtree or rel not in snap.entries):
                new_dirs.append(rel)
                for sub in walk(self.root, self.matcher, start=rel):
                    upserts.append(sub)
                    if sub.kind == "dir":
                        new_dirs.append(sub.path)
        with self._lock:
            # Re-read: a rescan may have installed a newer snapshot meanwhile.
            previous = self._snapshot
            new, changes = previous.apply(upserts, removals)
            self._snapshot = new
        release_later(previous)
        del previous
        # Renames the kernel reported as such reach readers as linked removed/added pairs.
        changes = link_moves(changes, getattr(batch, "moves", ()))
        if self.watcher:
            gone = [c.path for c in changes if c.kind == "removed" and snap.get(c.path) and snap.get(c.path).kind == "dir"]
            # Add first: a folder moved inside the tree keeps its inode, so the kernel hands back its
            # existing watch and the new path takes it over; only then drop what is really gone.
            self.watcher.add_dirs(new_dirs)
            self.watcher.remove_dirs(gone)
        if changes:
            self._announce(new, changes)

    def _on_files_written(self, event: FilesWritten) -> None:
        """The single write path wrote files: refresh them now, without waiting for the kernel."""
        batch: Batch = {}
        for path in event.paths:
            try:
                rel = Path(path).relative_to(self.root).as_posix()
            except ValueError:
                continue
            batch[rel] = False
        if not batch:
            return
        if self.watcher is not None:
            self.watcher.push(batch)
        elif self._snapshot.complete:
            self._apply_batch(batch)

    def _on_settings_changed(self, event: SettingsChanged) -> None:
        if {"files.exclude", "index.exclude"} & event.keys:
            self.matcher = matcher_for(self.root, self.app.settings)
            if self._snapshot.complete:
                self.rescan("exclude list changed")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the scan and pending watcher batches are done (tests, CLI). Not the GUI thread."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            scan_busy = self._scan_task is not None and not self._scan_task.future.done()
            if not scan_busy and not self._scanning.is_set() and (self.watcher is None or self.watcher.idle()):
                return True
            time.sleep(0.01)
        return False

    def _announce(self, snapshot: Snapshot, changes: list[Change]) -> None:
        if self._symbols is not None:
            self._symbols.on_changes(snapshot, changes)
        if self._text is not None:
            self._text.on_changes(snapshot, changes)
        self.app.events.publish(IndexChanged(snapshot, tuple(changes)))

    def tell(self, message: str, level: str = "info", *, key: str | None = None) -> None:
        """Tell the user once per ``key`` (a repeated overflow is not repeated to the user)."""
        key = key or message
        if key in self._told:
            return
        self._told.add(key)
        self.notices.append(message)
        self.app.events.notice(message, level)

    # -- quick open --------------------------------------------------------------------------------
    def find(self, query: str, limit: int = 50) -> list[FileMatch]:
        """Quick-open results for ``query`` (``name:line`` allowed). Any thread; prefer a worker."""
        return self.quick_open.find(self._snapshot, query, limit)

    def note_opened(self, rel: str) -> None:
        """Record that the user opened ``rel`` (quick open ranks recent files first)."""
        self.quick_open.note_opened(rel)
        self._save_recent()

    def _recent_file(self) -> Path:
        return Path(self.app.data_dir) / "recent-files.json"

    def _load_recent(self) -> None:
        try:
            self.quick_open.set_recent(json.loads(self._recent_file().read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            pass

    def _save_recent(self) -> None:
        try:
            path = self._recent_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(path, json.dumps(self.quick_open.recent))
        except OSError:
            log.debug("could not save recent files", exc_info=True)

    def background_paused(self):
        """A context manager that holds background symbol parsing while a foreground operation
        (a checkpoint, a restore) runs, so it does not queue behind the parser for the GIL."""
        if self._symbols is None:
            return contextlib.nullcontext()
        return self._symbols.paused()

    # -- symbols -----------------------------------------------------------------------------------
    @property
    def symbol_index(self):
        if self._symbols is None:
            from marie.index.symbols import SymbolIndex

            with self._lock:
                if self._symbols is None:
                    self._symbols = SymbolIndex(self)
        return self._symbols

    def symbols(self, rel: str):
        """Symbols of one file (parsed now if not indexed yet). Worker thread preferred."""
        return self.symbol_index.symbols(rel)

    def workspace_symbols(self, query: str, limit: int = 100):
        """Symbols in the whole workspace matching ``query`` (fuzzy). Worker thread preferred."""
        return self.symbol_index.find(query, limit)

    # -- the text index (indexed project search) ----------------------------------------------------
    @property
    def text_index(self):
        """The trigram index of the project's text (``marie.index.text_index.TextIndex``)."""
        if self._text is None:
            from marie.index.text_index import TextIndex

            with self._lock:
                if self._text is None:
                    self._text = TextIndex(self)
        return self._text

    def text_index_if_ready(self):
        """The text index when it can answer searches, else None (search then walks with rg). Any thread."""
        text = self._text
        return text if text is not None and text.ready else None

    # -- project search ----------------------------------------------------------------------------
    def search(self, pattern: str, options=None, on_match: Callable | None = None,
               token: CancelToken | None = None):
        """Stream ``rg --json`` matches to ``on_match(FileMatches)``; returns a ``SearchSummary``.

        Blocking: call from a worker. Cancelling ``token`` kills rg at once.
        """
        from marie.index.search import run_search

        return run_search(self, pattern, options, on_match, token)

    # -- lifetime ----------------------------------------------------------------------------------
    def close(self) -> None:
        self._closed = True
        self._poll_stop.set()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._scan_task is not None:
            self._scan_task.cancel()
        if self._symbols is not None:
            self._symbols.close()
        if self._text is not None:
            self._text.close()
        if self.watcher is not None:
            self.watcher.close()
