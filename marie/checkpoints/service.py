"""CheckpointService: create, list, diff, restore, verify, pin and collect checkpoints of a workspace.

``app.checkpoints`` is built on first use. Every method does blocking file I/O: call it from a worker
(``app.tasks.submit(..., worker="checkpoints")``) or the CLI, not from the GUI thread. Methods that
change the store hold the store lock (``StoreLock``), so two MarieIDE processes on one workspace
cannot corrupt it; threads of one process are serialised by the same lock.

Cheap to take: with a live index, ``marie.checkpoints.dirty.DirtyFeed`` collects the paths its
watcher reported (and those the write path wrote); a checkpoint re-stats only them and updates an
in-memory Merkle tree (``TreeState``), rewriting only the folder listings on their way to the root.
Without one (the CLI, or after a watcher overflow or an ignore-rule change) a full stat walk runs,
re-reading only files whose (size, mtime, inode) changed. What the dirty set can miss, and how that
is covered: a change whose event has not reached the watcher yet (milliseconds plus the debounce)
lands in the next checkpoint, except that the write path and restore always re-stat the paths they
touch; a rewrite that keeps a file's size and mtime is not reported by the index (it compares those),
so only a full walk (which also compares the inode) sees it.

Restore is exact and undoable: a safety checkpoint is taken first; only files that differ are
written (the rest keep their mtime); writes go through ``app.writes`` (atomic, all or nothing, writes
before deletes) which announces ``files.written`` so open editors reload; ignored files the
checkpoint did not cover and files that were ignored when it was taken are never deleted.
"""

from __future__ import annotations

import contextlib

import datetime as _dt
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from marie.checkpoints.capture import (Capture, Capturer, StatCache, ignored_prefixes,
                                       remove_empty_parents, was_ignored)
from marie.checkpoints.dirty import DirtyFeed
from marie.core.event_types import CheckpointsChanged
from marie.checkpoints.lock import StoreLock
from marie.checkpoints.tree_state import TreeState
from marie.checkpoints.store import (CheckpointDamaged, CheckpointError, DamagedObject, Item, ObjectStore,
                                     UnknownCheckpoint)

log = logging.getLogger(__name__)


__all__ = ["CheckpointService", "CheckpointInfo", "CheckpointDiff", "RestoreResult", "CheckpointError",
           "CheckpointDamaged", "UnknownCheckpoint"]


@dataclass(frozen=True)
class CheckpointInfo:
    id: str
    created: float            # seconds since the epoch
    label: str
    note: str
    auto: bool
    pinned: bool
    files_changed: int        # added + modified + deleted compared with the previous checkpoint
    files: int = 0
    restore_of: str | None = None   # set on the safety checkpoint a restore takes

    @property
    def when(self) -> str:
        return _dt.datetime.fromtimestamp(self.created).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class CheckpointDiff:
    """One file that differs. ``status``: "added" | "deleted" | "modified" | "mode" | "type".

    ``old`` is the content in the checkpoint, ``new`` in the other one (or on disk now); None when
    absent, a symlink's text as bytes for links, and None for a file over the size cap.
    """

    path: str
    status: str
    old: bytes | None
    new: bytes | None
    old_mode: int | None = None
    new_mode: int | None = None
    note: str = ""


@dataclass
class RestoreResult:
    safety_checkpoint_id: str | None
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # "path: why"


def _new_id(previous: str | None) -> str:
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now * 1e6) % 1_000_000:06d}"
    if previous and stamp <= previous:
        # Same microsecond or a clock step back: keep ids strictly increasing (they sort by time).
        head, _, micro = previous.rpartition("-")
        stamp = f"{head}-{int(micro) + 1:06d}"
    return stamp


def _id_time(cid: str) -> float:
    """The creation time encoded in an id (local time, to the second); 0 when it cannot be read."""
    try:
        return time.mktime(time.strptime(cid[:15], "%Y%m%d-%H%M%S"))
    except (ValueError, OverflowError):
        return 0.0


def _matches(rel: str, selection: list[str]) -> bool:
    return any(rel == s or rel.startswith(s.rstrip("/") + "/") for s in selection)


class CheckpointService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.root = Path(app.root)
        self.base = Path(app.data_dir) / "checkpoints"
        self.base.mkdir(parents=True, exist_ok=True)
        # Encryption at rest when the policy or the user asks (issue 16); no key raises, never plaintext.
        gov = getattr(app, "governance", None)
        self.store = ObjectStore(self.base, compress=bool(self._setting("compress", True)),
                                 cipher=gov.cipher() if gov is not None else None)
        self.lock = StoreLock(self.base / "lock")
        self._cache: StatCache | None = None
        self._flat: dict[str, dict[str, Item]] = {}     # root tree hash -> items (small LRU)
        self._created_since_gc = 0
        self._mutex = threading.RLock()
        self._gc_seen = self._gc_generation()
        # Incremental state: the Merkle tree of the last checkpoint this process took, and whether
        # a live watcher fed the dirty set since the full walk that built it.
        self._state: TreeState | None = None
        self._state_matcher = None
        self._fed = False
        self._feed = DirtyFeed(app, self.root)
        self._cache_saved = time.monotonic()
        self._state_id = ""
        self.last_mode = ""            # "full" | "incremental": how the last checkpoint was taken

    # -- settings -------------------------------------------------------------------------------
    def _setting(self, key: str, default: Any) -> Any:
        try:
            return self.app.settings.get(f"checkpoints.{key}")
        except KeyError:
            return default

    def _matcher(self):
        from marie.index.ignore import matcher_for

        return matcher_for(self.root, self.app.settings)

    def _capturer(self) -> Capturer:
        if self._cache is None:
            self._cache = StatCache(self.base / "statcache")
        return Capturer(self.root, self._matcher(), self._cache, int(self._setting("max_file_bytes", 20 << 20)))

    def _items(self, root: str) -> dict[str, Item]:
        items = self._flat.get(root)
        if items is None:
            items = self.store.flatten(root)
            self._remember(root, items)
        return items

    def _remember(self, root: str, items: dict[str, Item]) -> None:
        self._flat[root] = items
        while len(self._flat) > 3:
            self._flat.pop(next(iter(self._flat)))

    def _background_paused(self):
        """Hold the index's background symbol parsing while a checkpoint runs: each parse holds the
        GIL for a whole file, and a checkpoint's many stat/read calls would wait behind it."""
        index = self._feed.index()
        return index.background_paused() if index is not None else contextlib.nullcontext()

    # -- create ---------------------------------------------------------------------------------
    def create(self, label: str = "", paths: Iterable[str] | None = None, auto: bool = False, note: str = "",
               *, token: Any = None, _extra: dict | None = None) -> str:
        """Checkpoint the whole workspace (plus the ignored files in ``paths``); returns its id.

        Worker thread. With a live index (its watcher feeds the dirty set) only the dirty paths
        and ``paths`` are re-stat'ed and only the folder listings on their way to the root are
        rewritten; otherwise a full stat walk (the CLI, or after a watcher overflow). Only files
        whose stat data changed are read again. ``paths`` are the files an operation is about to
        touch: always re-stat'ed, included even when ignored, and a path that does not exist is
        recorded as absent (so a restore removes a file the operation created).
        """
        with self._mutex, self.lock.held(), self._background_paused():
            self._check_gc_generation()
            self.store.compress = bool(self._setting("compress", True))   # may change while running
            ids = self.store.manifest_ids()
            extras = list(dict.fromkeys(paths or ()))
            try:
                info = None
                if self._state is not None and self._fed and self._feed.live():
                    self._feed.sync()
                    dirty, broken = self._feed.take()
                    if not broken:
                        info = self._capture_incremental(dirty, extras)
                if info is None:
                    info = self._capture_full(extras, token)
                self.store.flush()   # objects durable before the manifest that names them
            except BaseException:
                self.store.discard_pending()
                self._state = None   # the dirty paths taken are lost: walk next time
                raise
            root = info.pop("root")
            previous = None
            if ids:
                try:
                    previous = self.store.read_manifest(ids[-1])
                except CheckpointError:
                    previous = None   # counted against nothing; verify reports the damage
            changed = self._count_changes(previous, root, info["files"], info.pop("counted", None))
            cid = _new_id(ids[-1] if ids else None)
            record = {
                "id": cid, "created": time.time(), "label": label, "note": note, "auto": bool(auto),
                "pinned": False, "root": root, "files": info["files"], "files_changed": changed,
                "parent": previous["id"] if previous else None, "ignored": info["ignored"],
                "ignored_covered": info["ignored_covered"], "absent": info["absent"],
                "unreadable": info["unreadable"],
            }
            if _extra:
                record.update(_extra)
            self.store.write_manifest(record)
            self._state_id = cid
            if self._state is not None:
                self._state.mark_clean()
            self._save_cache(force=self.last_mode == "full")
            self._created_since_gc += 1
            self._apply_retention(ids + [cid])
            gc_every = int(self._setting("gc_every", 50))
            if gc_every and self._created_since_gc >= gc_every:
                self.gc()
            self._changed()
            return cid

    def _save_cache(self, force: bool = False) -> None:
        """The stat cache only speeds up full walks: write it after one, else at most every 30 s."""
        if self._cache is not None and (force or time.monotonic() - self._cache_saved > 30):
            self._cache.save()
            self._cache_saved = time.monotonic()

    def _capture_full(self, extras: list[str], token: Any) -> dict:
        """Walk the whole workspace and rebuild the incremental state from it."""
        self.last_mode = "full"
        # Decide before walking whether the feed is live: changes made during the walk then are in
        # the dirty set (harmlessly re-checked); a watcher started later would miss earlier ones.
        live = self._feed.live()
        if live:
            self._feed.sync()
        self._feed.reset()
        capturer = self._capturer()
        snap = self._feed.index().snapshot() if live else None
        if snap is not None and snap.complete and isinstance(snap.entries, Mapping):   # dict or compact columns
            # The index has just stat'ed everything: trust its entries, stat only what changed.
            cap = capturer.capture_snapshot(self.store, snap, extras, token=token)
        else:
            cap = capturer.capture(self.store, extras, token=token)
        covered = set(cap.ignored_covered)
        items = {k: v for k, v in cap.items.items() if k not in covered} if covered else cap.items
        state = self._state
        if state is None:
            state = TreeState.build(items, cap.ignored)
        else:
            # Same process, walked again: update the tree we have (a dict comparison) instead of
            # rebuilding and re-serialising every folder listing.
            current = state.items
            get = current.get
            for rel, item in items.items():
                old = get(rel)
                if old is not item and old != item:   # the walk hands back the same Item when unchanged
                    state.set(rel, item)
            if len(current) != len(items):
                # The state now holds every walked path, so only a size difference means some are gone.
                for rel in [r for r in current if r not in items]:
                    state.set(rel, None)
            state.ignored = list(cap.ignored)
        root = self._root_with(state, {rel: cap.items[rel] for rel in covered})
        self._remember(root, cap.items)
        self._state, self._state_matcher, self._fed = state, capturer.matcher, live
        return {"root": root, "files": len(cap.items), "ignored": cap.ignored,
                "ignored_covered": cap.ignored_covered, "absent": cap.absent, "unreadable": cap.unreadable}

    def _root_with(self, state: TreeState, overlay: dict[str, Item]) -> str:
        """The root hash of ``state`` with ``overlay`` (ignored files an operation touches) added
        for this checkpoint only; the state itself keeps only non-ignored files."""
        for rel, item in overlay.items():
            state.set(rel, item)
        root = state.root_hash(self.store)
        for rel in overlay:
            state.set(rel, None)
        return root

    def _capture_incremental(self, dirty: set[str], extras: list[str]) -> dict:
        """Re-stat only ``dirty`` and ``extras``; update the Merkle state; store what changed."""
        self.last_mode = "incremental"
        state, matcher = self._state, self._state_matcher
        assert state is not None and matcher is not None
        if self._cache is None:
            self._cache = StatCache(self.base / "statcache")
        capturer = Capturer(self.root, matcher, self._cache, int(self._setting("max_file_bytes", 20 << 20)))
        extra_set = set(extras)
        cap = capturer.capture_paths(sorted(dirty | extra_set), self.store)
        overlay: dict[str, Item] = {}
        covered: list[str] = []
        for rel, item in cap.items.items():
            if state.is_folder(rel):
                state.remove_under(rel)   # a folder replaced by a file
            if matcher.is_ignored(rel):
                state.set(rel, None)
                if rel in extra_set:
                    overlay[rel] = item
                    covered.append(rel)
            else:
                state.set(rel, item)
        for rel in cap.absent:
            state.set(rel, None)
            state.remove_under(rel)
        for rel in cap.dirs:
            state.set(rel, None)          # a file replaced by a folder
            if matcher.is_ignored(rel, True):
                state.remove_under(rel)
            elif not state.is_folder(rel):
                # A folder we never saw (moved in, or its events were coalesced): walk just it.
                sub = capturer.capture(self.store, starts=[rel])
                for sub_rel, item in sub.items.items():
                    state.set(sub_rel, item)
                cap.unreadable.extend(sub.unreadable)
        for entry in cap.unreadable:
            state.set(entry.rpartition(": ")[0], None)
        counted = state.changes() if not overlay else None
        root = self._root_with(state, overlay)
        gone = set(cap.absent)
        absent = [rel for rel in extras if rel in gone]
        return {"root": root, "files": len(state.items) + len(overlay), "ignored": state.ignored,
                "ignored_covered": covered, "absent": absent, "unreadable": cap.unreadable,
                "counted": counted}

    def _gc_generation(self) -> str:
        try:
            return (self.base / "gc-generation").read_text()
        except OSError:
            return ""

    def _check_gc_generation(self) -> None:
        """Another process may have collected objects our in-memory caches still name: forget them."""
        generation = self._gc_generation()
        if generation != self._gc_seen:
            self._gc_seen = generation
            self._flat.clear()
            self._cache = None
            self._drop_state_if_collected()

    def _drop_state_if_collected(self) -> None:
        """The state's folder hashes are all named by the checkpoint it last produced; once that
        checkpoint is gone, gc may have removed them, so the state must be rebuilt by a walk."""
        if self._state is not None and not self.store.manifest_path(getattr(self, "_state_id", "")).exists():
            self._state = None

    def _count_changes(self, previous: dict | None, root: str, files: int, counted: int | None = None) -> int:
        """Files added, modified or deleted since ``previous``: ``counted`` (the Merkle state's own
        count) when ``previous`` is the checkpoint that state last produced, else a Merkle diff
        (only folders whose hash differs are read)."""
        if previous is None:
            return files
        if counted is not None and previous.get("id") == self._state_id and not previous.get("ignored_covered"):
            return counted
        try:
            return len(self.store.diff_trees(previous["root"], root))
        except CheckpointError:
            return files

    # -- reading --------------------------------------------------------------------------------
    def _info(self, record: dict) -> CheckpointInfo:
        return CheckpointInfo(record["id"], record.get("created", 0.0), record.get("label", ""),
                              record.get("note", ""), bool(record.get("auto")), bool(record.get("pinned")),
                              int(record.get("files_changed", 0)), int(record.get("files", 0)),
                              record.get("restore_of"))

    def list(self) -> list[CheckpointInfo]:
        """Every checkpoint, newest first. Any thread (reads small JSON files)."""
        out = []
        for cid in reversed(self.store.manifest_ids()):
            try:
                out.append(self._info(self.store.read_manifest(cid)))
            except CheckpointError as exc:
                out.append(CheckpointInfo(cid, 0.0, f"(damaged: {exc})", "", False, False, 0))
        return out

    def resolve(self, ref: str) -> str:
        """A full id from an id, a unique prefix or suffix of one, or "latest"."""
        ids = self.store.manifest_ids()
        if ref in ids:
            return ref
        if ref in ("latest", "last", "HEAD") and ids:
            return ids[-1]
        hits = [i for i in ids if i.startswith(ref) or i.endswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise UnknownCheckpoint(f"no checkpoint {ref!r} (see `marie checkpoint list`)")
        raise UnknownCheckpoint(f"{ref!r} matches {len(hits)} checkpoints; give more of the id")

    def info(self, cid: str) -> CheckpointInfo:
        return self._info(self.store.read_manifest(self.resolve(cid)))

    def items(self, cid: str) -> dict[str, Item]:
        """The files of a checkpoint; raises ``CheckpointDamaged`` when its trees are damaged."""
        record = self.store.read_manifest(self.resolve(cid))
        try:
            return self._items(record["root"])
        except DamagedObject as exc:
            raise CheckpointDamaged(f"checkpoint {record['id']} is damaged ({exc}); run `marie checkpoint verify`") from None

    # -- diff -----------------------------------------------------------------------------------
    def _now(self, extra: Iterable[str] = ()) -> Capture:
        with self._mutex:
            return self._capturer().capture(None, list(extra))

    def _content(self, item: Item | None, rel: str, on_disk: bool) -> bytes | None:
        if item is None or item.kind == "x":
            return None
        if item.kind == "l":
            return os.fsencode(item.ref)
        if on_disk:
            try:
                return (self.root / rel).read_bytes()
            except OSError:
                return None
        try:
            return self.store.get(item.ref)
        except DamagedObject:
            return None

    def diff(self, cid: str, other: str | None = None) -> list[CheckpointDiff]:
        """Files that differ between checkpoint ``cid`` and ``other`` (default: the disk now). Worker."""
        record = self.store.read_manifest(self.resolve(cid))
        old = self.items(record["id"])
        if other is None:
            now = self._now(record.get("ignored_covered", []))
            new, on_disk = now.items, True
            folders, files = ignored_prefixes(record.get("ignored", []))
        else:
            new, on_disk = self.items(other), False
            folders, files = [], set()
        out: list[CheckpointDiff] = []
        for rel in sorted(set(old) | set(new)):
            a, b = old.get(rel), new.get(rel)
            if a == b or (a is not None and b is not None and a.kind == b.kind and a.ref == b.ref and a.mode == b.mode):
                continue
            if a is None and was_ignored(rel, folders, files):
                continue   # ignored when the checkpoint was taken: not part of what it covers
            if a is None:
                status = "added"
            elif b is None:
                status = "deleted"
            elif a.kind != b.kind and "x" not in (a.kind, b.kind):
                status = "type"
            elif a.ref == b.ref:
                status = "mode"
            else:
                status = "modified"
            note = "larger than the size cap: content not stored" if "x" in (a and a.kind, b and b.kind) else ""
            out.append(CheckpointDiff(rel, status, self._content(a, rel, False), self._content(b, rel, on_disk),
                                a.mode if a else None, b.mode if b else None, note))
        return out

    # -- restore --------------------------------------------------------------------------------
    def restore(self, cid: str, paths: Iterable[str] | None = None) -> RestoreResult:
        """Put the workspace (or only ``paths``: files or folders) back as checkpoint ``cid`` had it.

        Worker thread. Takes a safety checkpoint first (its id is in the result, so the restore can
        be undone); with a live index that is incremental, so it costs what changed, not the tree.
        The differing files come from a Merkle diff of the two checkpoints (equal folders are not
        read) and only they are written, through ``app.writes``. Raises ``CheckpointDamaged``
        (nothing written) when stored content is damaged, ``WriteError`` (nothing changed) when a
        file cannot be written.
        """
        with self._mutex, self.lock.held():
            record = self.store.read_manifest(self.resolve(cid))
            cid = record["id"]
            selection = [p.strip("/") for p in paths] if paths else None
            covered = list(record.get("ignored_covered", [])) + list(record.get("absent", []))
            # Let the watcher apply what the kernel already reported, so the safety checkpoint and
            # the comparison see the disk as it is now.
            self._feed.settle(1.0)
            label = f"before: restore {cid}"
            safety_id = self.create(label=label, paths=covered, auto=True, _extra={"restore_of": cid})
            changes, skipped = self._plan(record, safety_id, selection)
            touched = sorted({rel for c in changes for rel in c.touched()})
            if touched and self._changed_since(safety_id, touched):
                # A change the watcher has not delivered yet: checkpoint those paths for real (they
                # are re-stat'ed) so the safety checkpoint holds what is on disk, then plan again.
                self.store.remove_manifest(safety_id)
                safety_id = self.create(label=label, paths=covered + touched, auto=True,
                                        _extra={"restore_of": cid})
                changes, skipped = self._plan(record, safety_id, selection)
            result = RestoreResult(safety_id, skipped=skipped)
            if changes:
                applied = self.app.writes.apply(changes, f"restore checkpoint {cid}", checkpoint=False,
                                                allow_protected=True, source="checkpoint")
                result.written = list(applied.written)
                result.deleted = list(applied.deleted)
                self._feed.add(result.written + result.deleted)   # now, not when the event arrives
                keep = {rel.rpartition("/")[0] for c in changes if c.content is not None or c.link is not None
                        for rel in [c.path]}
                for rel in result.deleted:
                    remove_empty_parents(self.root, rel, keep)
            return result

    def _changed_since(self, safety_id: str, rels: list[str]) -> bool:
        """Whether any of ``rels`` differs on disk from the checkpoint ``safety_id`` (re-stat'ed)."""
        record = self.store.read_manifest(safety_id)
        if self._cache is None:
            self._cache = StatCache(self.base / "statcache")
        capturer = Capturer(self.root, self._state_matcher or self._matcher(), self._cache,
                            int(self._setting("max_file_bytes", 20 << 20)))
        now = capturer.capture_paths(rels, None)
        have = self._lookup(record["root"], rels)
        for rel in rels:
            if now.items.get(rel) != have.get(rel):
                if self._state is not None:
                    self._feed.add(rels)
                return True
        return False

    def _lookup(self, root: str, rels: list[str]) -> dict[str, Item]:
        """The items of ``rels`` in the tree ``root``, reading only the folders on their paths."""
        out: dict[str, Item] = {}
        listings: dict[str, dict[str, list] | None] = {"": {e[0]: e for e in self.store.get_tree(root)}}
        for rel in rels:
            parts = rel.split("/")
            folder = ""
            listing = listings[""]
            for name in parts[:-1]:
                sub = folder + "/" + name if folder else name
                if sub not in listings:
                    entry = listing.get(name) if listing is not None else None
                    listings[sub] = ({e[0]: e for e in self.store.get_tree(entry[3])}
                                     if entry is not None and entry[1] == "d" else None)
                folder, listing = sub, listings[sub]
            entry = listing.get(parts[-1]) if listing is not None else None
            if entry is not None and entry[1] != "d":
                out[rel] = Item(entry[1], entry[2], entry[3], entry[4])
        return out

    def _plan(self, record: dict, safety_id: str, selection: list[str] | None):
        """The file changes that turn the safety checkpoint's state into ``record``'s."""
        from marie.workspace.writes import FileChange

        cid = record["id"]
        safety = self.store.read_manifest(safety_id)
        try:
            diffs = self.store.diff_trees(safety["root"], record["root"])
        except DamagedObject as exc:
            raise CheckpointDamaged(f"checkpoint {cid} is damaged ({exc}); nothing was restored. "
                                    "Run `marie checkpoint verify`.") from None
        ignored_now = set(safety.get("ignored_covered", []))
        absent = set(record.get("absent", []))
        folders, files = ignored_prefixes(record.get("ignored", []))
        writes: list[FileChange] = []
        deletes: list[FileChange] = []
        skipped: list[str] = []
        for rel, (have, want) in sorted(diffs.items()):
            if selection is not None and not _matches(rel, selection):
                continue
            if want is None:
                if rel in absent:
                    deletes.append(FileChange.remove(rel))
                elif rel in ignored_now or was_ignored(rel, folders, files):
                    continue   # ignored then or now: the checkpoint never covered it, never delete
                else:
                    deletes.append(FileChange.remove(rel))
                continue
            if want.kind == "x":
                if have is None or have.ref != want.ref or have.mode != want.mode:
                    skipped.append(f"{rel}: was larger than the size cap ({want.size} bytes), so its "
                                   "content was not stored and cannot be restored")
                continue
            if want.kind == "l":
                writes.append(FileChange.symlink(rel, want.ref))
            elif have is not None and have.kind == "f" and have.ref == want.ref:
                writes.append(FileChange.chmod(rel, want.mode))
            else:
                try:
                    data = self.store.get(want.ref)
                except DamagedObject as exc:
                    raise CheckpointDamaged(f"checkpoint {cid} is damaged: the stored content of {rel} "
                                            f"{exc.why}; nothing was restored. Run `marie checkpoint verify`.") from None
                writes.append(FileChange(rel, data, None, want.mode, exact=True))
        return writes + deletes, skipped   # deletes only after every write succeeded

    def last_restore(self) -> CheckpointInfo | None:
        """The safety checkpoint of the most recent restore (what "Undo last restore" goes back to)."""
        for info in self.list():
            if info.restore_of:
                return info
        return None

    def undo_last_restore(self) -> RestoreResult:
        """Restore the safety checkpoint taken by the last restore. Worker thread."""
        info = self.last_restore()
        if info is None:
            raise CheckpointError("there is no restore to undo")
        return self.restore(info.id)

    # -- pin, verify, retention, gc -------------------------------------------------------------
    def pin(self, cid: str, pinned: bool = True) -> None:
        """Pinned checkpoints are never removed by retention or gc."""
        with self._mutex, self.lock.held():
            record = self.store.read_manifest(self.resolve(cid))
            record["pinned"] = bool(pinned)
            self.store.write_manifest(record)
        self._changed()

    def verify(self, cid: str | None = None) -> list[str]:
        """Re-hash every object the checkpoint(s) use; returns one message per problem (empty = ok)."""
        problems: list[str] = []
        ids = [self.resolve(cid)] if cid else self.store.manifest_ids()
        used: list[tuple[str, dict, set[str]]] = []
        everything: set[str] = set()
        for one in ids:
            try:
                record = self.store.read_manifest(one)
            except CheckpointError as exc:
                problems.append(str(exc))
                continue
            seen: set[str] = set()
            self.store.reachable(record["root"], seen)
            used.append((one, record, seen))
            everything |= seen
        # Every object once, each pack read front to back (not opened per object).
        checked = self.store.check_many(everything)
        for one, record, seen in used:
            bad = [f"{digest[:12]} {checked[digest]}" for digest in sorted(seen) if checked.get(digest)]
            if bad:
                problems.append(f"checkpoint {one} ({record.get('label', '')}) is damaged: " + "; ".join(bad[:5])
                                + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""))
        return problems

    def _apply_retention(self, ids: list[str]) -> list[str]:
        """Drop unpinned checkpoints beyond ``keep_last`` or older than ``max_age_days``.
        The newest checkpoint is always kept. Caller holds the lock."""
        keep_last = int(self._setting("keep_last", 200))
        max_age = float(self._setting("max_age_days", 30)) * 86400
        now = time.time()
        if (keep_last <= 0 or len(ids) < keep_last) and (max_age <= 0 or (ids and now - _id_time(ids[0]) < max_age - 86400)):
            return []   # too few and too young to drop any: do not read every record (ids carry the time)
        dropped = []
        unpinned = []
        for cid in ids[:-1]:
            try:
                record = self.store.read_manifest(cid)
            except CheckpointError:
                continue
            if not record.get("pinned"):
                unpinned.append(record)
        excess = max(0, len(unpinned) + 1 - keep_last) if keep_last > 0 else 0
        for n, record in enumerate(unpinned):
            if n < excess or (max_age > 0 and now - record.get("created", now) > max_age):
                self.store.remove_manifest(record["id"])
                dropped.append(record["id"])
        return dropped

    def gc(self) -> dict:
        """Remove objects no checkpoint names and stray temp files; enforce ``max_store_bytes``.

        Worker thread / CLI. Returns counts: removed objects, freed bytes, store size, dropped ids.
        """
        with self._mutex, self.lock.held():
            self._created_since_gc = 0
            ids = self.store.manifest_ids()
            dropped = self._apply_retention(ids) if ids else []
            stray = 0
            for entry in os.scandir(self.store.tmp):
                try:
                    os.unlink(entry.path)
                    stray += 1
                except OSError:
                    pass
            for entry in os.scandir(self.store.manifests):
                if entry.name.startswith("."):   # atomic.write_bytes temp of a crashed writer
                    try:
                        os.unlink(entry.path)
                        stray += 1
                    except OSError:
                        pass
            removed = freed = 0
            while True:
                live: set[str] = set()
                records = []
                for cid in self.store.manifest_ids():
                    try:
                        record = self.store.read_manifest(cid)
                    except CheckpointError:
                        continue
                    records.append(record)
                    self.store.reachable(record["root"], live)
                size = 0
                for digest, path in list(self.store.all_objects()):
                    try:
                        length = path.stat().st_size
                    except OSError:
                        continue
                    if digest in live:
                        size += length
                    else:
                        try:
                            path.unlink()
                            removed += 1
                            freed += length
                        except OSError:
                            pass
                packed_removed, packed_freed = self.store.collect_packs(live)
                removed += packed_removed
                freed += packed_freed
                size += self.store.pack_bytes()
                limit = int(self._setting("max_store_bytes", 0))
                victims = [r for r in records[:-1] if not r.get("pinned")]
                if not limit or size <= limit or not victims:
                    break
                self.store.remove_manifest(victims[0]["id"])   # oldest first, then collect again
                dropped.append(victims[0]["id"])
            if self._cache is None:
                self._cache = StatCache(self.base / "statcache")
            self._cache.keep_only(live)
            self._cache.save()
            self._flat.clear()
            self.store.forget_trees()
            self._drop_state_if_collected()
            self._changed()
            if removed:
                from marie.core import atomic

                self._gc_seen = f"{time.time_ns()}-{os.getpid()}"
                atomic.write_text(self.base / "gc-generation", self._gc_seen)
            return {"removed_objects": removed, "freed_bytes": freed, "store_bytes": size,
                    "dropped_checkpoints": dropped, "stray_temp_files": stray}

    def _changed(self) -> None:
        events = getattr(self.app, "events", None)
        if events is not None:
            events.publish(CheckpointsChanged())

    def store_size(self) -> int:
        return sum(p.stat().st_size for _, p in self.store.all_objects()) + self.store.pack_bytes()

    def close(self) -> None:
        self._feed.close()
        self.store.close()
        if self._cache is not None:
            try:
                with self.lock.held(timeout=5):
                    self._cache.save()
            except Exception:
                log.exception("could not save the checkpoint stat cache")
