"""Immutable snapshots of the project tree: what views, quick open and the composer read.

A ``Snapshot`` never changes after it is built; the watcher produces a new one with ``apply`` (which
copies the entry dict once and edits the copy), so a reader on any thread always sees a consistent
tree. Paths are workspace-relative POSIX strings; names that are not valid UTF-8 are kept with
``surrogateescape`` so they round-trip to the disk, and ``display_path`` shows them escaped.
"""

from __future__ import annotations

import bisect
import heapq
import os
import threading
from itertools import repeat
from operator import itemgetter
from collections import abc
from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping

Kind = Literal["file", "dir", "symlink"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing in the tree. ``size``/``mtime_ns``/``mode``/``ctime_ns`` come from ``lstat`` (a
    symlink's own). ``mode`` is the permission bits (``stat.S_IMODE``) so a bare ``chmod`` is a
    change; ``ctime_ns`` (the inode change time, which no user call can set back) makes an edit that
    keeps size and mtime (``os.utime`` restoring it) a change too. Both are 0 when unknown (the
    paths-first listing)."""

    path: str
    kind: str
    size: int = 0
    mtime_ns: int = 0
    mode: int = 0
    ctime_ns: int = 0

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


@dataclass(frozen=True, slots=True)
class Change:
    """One change between two snapshots: kind is "added" | "removed" | "modified".

    A rename seen by the watcher keeps one "removed" and one "added" per path (what every reader
    of ``index.changed`` handles) and links them: the removal's ``moved_to`` is the new path, the
    addition's ``moved_from`` the old one (for the renamed folder and for each path inside it)."""

    kind: str
    path: str
    moved_from: str | None = None
    moved_to: str | None = None


def renames(changes: Iterable[Change]) -> list[tuple[str, str]]:
    """The ``(old, new)`` renames among ``changes``, outermost first (a renamed folder comes
    before the paths inside it)."""
    return sorted(((c.moved_from, c.path) for c in changes if c.kind == "added" and c.moved_from),
                  key=lambda pair: (pair[1].count("/"), pair[1]))


def link_moves(changes: list[Change], moves: Iterable[tuple[str, str]]) -> list[Change]:
    """``changes`` with each removal/addition pair that a move explains linked (``moved_to`` /
    ``moved_from``). Only pairs present on both sides are linked; the rest stay plain."""
    moves = list(moves)
    if not moves:
        return changes
    added = {c.path for c in changes if c.kind == "added"}
    moved = dict(moves)
    target: dict[str, str] = {}
    for change in changes:
        if change.kind != "removed":
            continue
        # The innermost moved folder holding this path (the path itself when it was moved).
        head, tail = change.path, ""
        while head and head not in moved:
            head, _, name = head.rpartition("/")
            tail = "/" + name + tail
        if head:
            counterpart = moved[head] + tail
            if counterpart in added:
                target[change.path] = counterpart
    if not target:
        return changes
    source = {new: old for old, new in target.items()}
    out = []
    for change in changes:
        if change.kind == "removed" and change.path in target:
            change = Change("removed", change.path, moved_to=target[change.path])
        elif change.kind == "added" and change.path in source:
            change = Change("added", change.path, moved_from=source[change.path])
        out.append(change)
    return out


def display_path(path: str) -> str:
    """A path safe to show: undecodable bytes (kept as surrogates) appear as ``\\xNN``."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        raw = os.fsencode(path)
        return raw.decode("utf-8", errors="backslashreplace")


def to_disk(root: str | os.PathLike[str], path: str) -> str:
    """The absolute path on disk for a snapshot path (surrogates map back to the original bytes)."""
    return os.path.join(os.fspath(root), *path.split("/"))


_RUN = 8192
_CARRY_MAX = 2000        # more changes than this in one batch: the file list is re-sorted on demand


def sorted_in_runs(items: list[str]) -> tuple[str, ...]:
    """``tuple(sorted(items))`` without one long GIL hold.

    ``sorted`` is a single C call: 100k paths hold the GIL for 50+ ms, which freezes the GUI thread
    even though the sort runs on a worker. Sorting runs of 8k (a few ms each) and merging them in
    Python lets other threads in between.
    """
    if len(items) <= _RUN * 2:
        return tuple(sorted(items))
    runs = [sorted(items[i:i + _RUN]) for i in range(0, len(items), _RUN)]
    return tuple(heapq.merge(*runs))


def folders_of(files: Iterable[str]) -> set[str]:
    """Every folder above the given file paths (the root "" excluded).

    One pass over the distinct parents, not the files: 100k paths share about 11k folders, and
    the parents are found with C-level ``map``s, a slice at a time: one C call over 100k paths
    would hold the interpreter lock for ~20 ms (a GUI stall), a slice for ~1 ms."""
    files = files if isinstance(files, list) else list(files)
    parents: set[str] = set()
    for i in range(0, len(files), _RUN):
        parents.update(map(itemgetter(0), map(str.rpartition, files[i:i + _RUN], repeat("/"))))
    parents.discard("")
    folders: set[str] = set()
    for folder in parents:
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def kinds_of(files: Iterable[str]) -> dict[str, str]:
    """``{path: "file" | "dir"}`` for the listed files and the folders above them."""
    files = list(files)
    kinds: dict[str, str] = {}
    for i in range(0, len(files), _RUN):      # sliced for the same reason as folders_of
        kinds.update(dict.fromkeys(files[i:i + _RUN], "file"))
    kinds.update(dict.fromkeys(folders_of(files), "dir"))
    return kinds


class LazyEntries(abc.Mapping):
    """A read-only ``{path: Entry}`` over the paths-first listing (size and mtime unknown, 0).

    Built from rg's file list alone so it can be published the moment rg is done: 100k ``Entry``
    objects would take longer to build than ripgrep takes to walk the tree, so each is made when
    asked for, and the ``{path: kind}`` map with the folders the paths imply is derived once, on
    first need (the scan worker asks for it right after publishing). Any thread may read it.
    """

    __slots__ = ("_files", "_kinds", "_lock")

    def __init__(self, kinds: dict[str, str] | None = None, files: list[str] | None = None) -> None:
        self._kinds = kinds
        self._files = files if kinds is None else None
        self._lock = threading.Lock()

    @property
    def kinds(self) -> dict[str, str]:
        kinds = self._kinds
        if kinds is None:
            with self._lock:          # one thread derives it; any other asking waits for it
                if self._kinds is None:
                    self._kinds = kinds_of(self._files or ())
                kinds = self._kinds
        return kinds

    def file_paths(self) -> list[str]:
        """The listed files (no folders), without deriving the kind map."""
        if self._files is not None:
            return self._files
        return [p for p, k in self.kinds.items() if k != "dir"]

    def __getitem__(self, path: str) -> Entry:
        return Entry(path, self.kinds[path])

    def get(self, path, default=None):
        kind = self.kinds.get(path)
        return default if kind is None else Entry(path, kind)

    def __contains__(self, path: object) -> bool:
        return path in self.kinds

    def __iter__(self):
        return iter(self.kinds)

    def __len__(self) -> int:
        return len(self.kinds)


@dataclass(frozen=True)
class Snapshot:
    """An immutable view of the tree at one moment. Any thread may read it."""

    entries: Mapping[str, Entry] = field(default_factory=dict)
    generation: int = 0
    unreadable: tuple[str, ...] = ()
    complete: bool = True
    _files: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    _children: dict | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, entries: Iterable[Entry], generation: int = 0, unreadable: Iterable[str] = (),
              complete: bool = True) -> "Snapshot":
        return cls({e.path: e for e in entries}, generation, tuple(unreadable), complete)

    # -- reading ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, path: object) -> bool:
        return path in self.entries

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def files(self) -> tuple[str, ...]:
        """Sorted paths of regular files and symlinks (what quick open lists). Computed once."""
        if self._files is None:
            if isinstance(self.entries, LazyEntries):
                files = sorted_in_runs(list(self.entries.file_paths()))
            elif hasattr(self.entries, "paths_of_kind"):     # compact columns: no Entry per path
                files = sorted_in_runs(self.entries.paths_of_kind(False))
            else:
                files = sorted_in_runs([p for p, e in self.entries.items() if e.kind != "dir"])
            object.__setattr__(self, "_files", files)
        return self._files  # type: ignore[return-value]

    def dirs(self) -> list[str]:
        """Every folder's path (the root "" not included), in no particular order."""
        entries = self.entries
        if hasattr(entries, "paths_of_kind"):
            return entries.paths_of_kind(True)
        if isinstance(entries, LazyEntries):
            return [p for p, k in entries.kinds.items() if k == "dir"]
        return [p for p, e in entries.items() if e.kind == "dir"]

    def children(self, folder: str = "") -> tuple[Entry, ...]:
        """Entries directly inside ``folder`` ("" = root): folders first, then by name (case-folded)."""
        if self._children is None:
            index: dict[str, list[Entry]] = {}
            for entry in self.entries.values():
                index.setdefault(entry.parent, []).append(entry)
            for items in index.values():
                items.sort(key=lambda e: (e.kind != "dir", e.name.casefold(), e.name))
            object.__setattr__(self, "_children", {k: tuple(v) for k, v in index.items()})
        return self._children.get(folder, ())  # type: ignore[union-attr]

    def under(self, folder: str) -> list[str]:
        """Every path inside ``folder`` (not the folder itself)."""
        prefix = folder.rstrip("/") + "/"
        return [p for p in self.entries if p.startswith(prefix)]

    def total_size(self) -> int:
        if hasattr(self.entries, "counts"):
            return self.entries.counts()["bytes"]
        return sum(e.size for e in self.entries.values() if e.kind == "file")

    def stats(self) -> dict[str, int]:
        if hasattr(self.entries, "counts"):
            return {**self.entries.counts(), "unreadable": len(self.unreadable)}
        if isinstance(self.entries, LazyEntries):
            kinds = list(self.entries.kinds.values())
            return {"files": kinds.count("file"), "dirs": kinds.count("dir"), "symlinks": kinds.count("symlink"),
                    "bytes": 0, "unreadable": len(self.unreadable)}
        counts = {"files": 0, "dirs": 0, "symlinks": 0}
        for entry in self.entries.values():
            counts[{"file": "files", "dir": "dirs", "symlink": "symlinks"}[entry.kind]] += 1
        counts["bytes"] = self.total_size()
        counts["unreadable"] = len(self.unreadable)
        return counts

    # -- deriving a new snapshot -----------------------------------------------------------------
    def apply(self, upserts: Iterable[Entry], removals: Iterable[str]) -> tuple["Snapshot", list[Change]]:
        """A new snapshot with ``upserts`` set and ``removals`` (and everything below them) gone.

        Returns the changes actually made; when there are none the same snapshot comes back.
        """
        # Compact entries are edited as an overlay on their columns, never copied whole.
        edited = getattr(self.entries, "edited", None)
        entries: abc.MutableMapping[str, Entry] = edited() if edited is not None else dict(self.entries)
        changes: list[Change] = []
        for path in removals:
            if path in entries:
                removed = entries.pop(path)
                changes.append(Change("removed", path))
                if removed.kind == "dir":
                    prefix = path + "/"
                    for sub in [p for p in entries if p.startswith(prefix)]:
                        del entries[sub]
                        changes.append(Change("removed", sub))
        for entry in upserts:
            old = entries.get(entry.path)
            if old == entry:
                continue
            entries[entry.path] = entry
            changes.append(Change("added" if old is None else "modified", entry.path))
        if not changes:
            return self, []
        if edited is not None:
            entries = entries.compacted()   # type: ignore[attr-defined]  # an EditedEntries
        return Snapshot(entries, self.generation + 1, self.unreadable, self.complete,
                        self._carried_files(entries, changes)), changes

    def _carried_files(self, entries: Mapping[str, Entry], changes: list[Change]) -> tuple[str, ...] | None:
        """The sorted file list of the snapshot ``apply`` makes, edited from this one's when few
        paths changed: re-sorting a million paths after every saved file would cost a second."""
        files = self._files
        if files is None or len(changes) > _CARRY_MAX:
            return None
        out = list(files)
        for change in changes:
            path = change.path
            entry = entries.get(path)
            listed = entry is not None and entry.kind != "dir"
            at = bisect.bisect_left(out, path)
            present = at < len(out) and out[at] == path
            if listed and not present:
                out.insert(at, path)
            elif present and not listed:
                del out[at]
        return tuple(out)

    def diff(self, other: "Snapshot") -> list[Change]:
        """Changes that turn ``self`` into ``other``."""
        changes = [Change("removed", p) for p in self.entries if p not in other.entries]
        for path, entry in other.entries.items():
            old = self.entries.get(path)
            if old is None:
                changes.append(Change("added", path))
            elif old != entry:
                changes.append(Change("modified", path))
        return changes
