"""The snapshot's entries held compactly: paths in one list, kinds and ``lstat`` fields in arrays.

``CompactEntries`` is a read-only ``{path: Entry}`` whose ``Entry`` objects are made when asked for:
a million frozen dataclass objects cost ~120 bytes each and seconds to build, a row of five machine
integers 33 bytes and a few appends. ``EditedEntries`` is what ``Snapshot.apply`` derives from it: the
same columns (shared, never copied) under a small dict of the paths that changed since, so a saved
file costs a dict copy of the changes, not a copy of the tree. Once the edits outgrow a fraction of
the tree they are folded into new columns (``compacted``).

Any thread may read both; an ``EditedEntries`` is only written by ``Snapshot.apply`` before the new
snapshot is published.
"""

from __future__ import annotations

import threading
from array import array
from collections import abc
from itertools import compress
from typing import Iterable, Iterator

from marie.index.snapshot import Entry

KIND_CODES = {"file": 0, "dir": 1, "symlink": 2}
KIND_NAMES = ("file", "dir", "symlink")
_SLICE = 8192            # the path index is built a slice at a time: one C call over 1M holds the GIL
_REMOVED = None


class Columns:
    """Growing columns for ``CompactEntries`` (what the reopen walk appends to)."""

    __slots__ = ("paths", "kinds", "size", "mtime", "mode", "ctime")

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.kinds = bytearray()
        self.size, self.mtime, self.mode, self.ctime = array("q"), array("q"), array("q"), array("q")

    def add(self, entry: Entry) -> None:
        self.paths.append(entry.path)
        self.kinds.append(KIND_CODES[entry.kind])
        self.size.append(entry.size)
        self.mtime.append(entry.mtime_ns)
        self.mode.append(entry.mode)
        self.ctime.append(entry.ctime_ns)

    def truncate(self, length: int) -> None:
        """Drop the rows from ``length`` on (a folder whose stored listing turned out stale)."""
        for column in (self.paths, self.kinds, self.size, self.mtime, self.mode, self.ctime):
            del column[length:]

    def freeze(self) -> "CompactEntries":
        return CompactEntries(self.paths, bytes(self.kinds), self.size, self.mtime, self.mode, self.ctime)


class CompactEntries(abc.Mapping):
    """``{path: Entry}`` over columns; the path -> row index is derived on first lookup."""

    __slots__ = ("paths", "kinds", "size", "mtime", "mode", "ctime", "_index", "_lock")

    def __init__(self, paths: list[str], kinds: bytes, size: array, mtime: array, mode: array,
                 ctime: array) -> None:
        self.paths, self.kinds = paths, kinds
        self.size, self.mtime, self.mode, self.ctime = size, mtime, mode, ctime
        self._index: dict[str, int] | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> "CompactEntries":
        columns = Columns()
        for entry in entries:
            columns.add(entry)
        return columns.freeze()

    @property
    def index(self) -> dict[str, int]:
        index = self._index
        if index is None:
            with self._lock:            # one thread derives it; any other asking waits for it
                if self._index is None:
                    built: dict[str, int] = {}
                    paths = self.paths
                    for start in range(0, len(paths), _SLICE):
                        built.update(zip(paths[start:start + _SLICE], range(start, start + _SLICE)))
                    self._index = built
                index = self._index
        return index

    def row(self, at: int) -> Entry:
        return Entry(self.paths[at], KIND_NAMES[self.kinds[at]], self.size[at], self.mtime[at], self.mode[at],
                     self.ctime[at])

    def __getitem__(self, path: str) -> Entry:
        return self.row(self.index[path])

    def get(self, path, default=None):
        at = self.index.get(path)
        return default if at is None else self.row(at)

    def __contains__(self, path: object) -> bool:
        return path in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def values(self):
        return map(Entry, self.paths, map(KIND_NAMES.__getitem__, self.kinds), self.size, self.mtime, self.mode,
                   self.ctime)

    def items(self):
        return zip(self.paths, self.values())

    # -- the passes a snapshot makes over every entry, without making an Entry per path ---------------
    def paths_of_kind(self, dirs: bool) -> list[str]:
        """The folders (``dirs``) or everything else."""
        mask = self.kinds.translate(DIR_MASK if dirs else NON_DIR_MASK)
        return list(compress(self.paths, mask))

    def counts(self) -> dict[str, int]:
        kinds = self.kinds
        files = kinds.count(0)
        return {"files": files, "dirs": kinds.count(1), "symlinks": kinds.count(2),
                "bytes": sum(compress(self.size, kinds.translate(_FILE_MASK)))}

    def edited(self) -> "EditedEntries":
        return EditedEntries(self, {}, len(self))


DIR_MASK = bytes([0, 1, 0] + [0] * 253)
NON_DIR_MASK = bytes([1, 0, 1] + [0] * 253)
_FILE_MASK = bytes([1, 0, 0] + [0] * 253)


class EditedEntries(abc.MutableMapping):
    """``CompactEntries`` plus the paths changed since (``None``: removed). Written only while
    ``Snapshot.apply`` builds the next snapshot; read-only once published."""

    __slots__ = ("base", "changes", "_len")

    FOLD_MIN = 20000             # fold the edits into new columns past this many (and 1/8 of the tree)

    def __init__(self, base: CompactEntries, changes: dict[str, Entry | None], length: int) -> None:
        self.base, self.changes, self._len = base, changes, length

    def edited(self) -> "EditedEntries":
        return EditedEntries(self.base, dict(self.changes), self._len)

    def compacted(self) -> "CompactEntries | EditedEntries":
        """These entries as plain columns when the edits have grown large, else themselves."""
        if len(self.changes) <= max(self.FOLD_MIN, len(self.base) // 8):
            return self
        return CompactEntries.of(self.values())

    def __getitem__(self, path: str) -> Entry:
        changes = self.changes
        if path in changes:
            entry = changes[path]
            if entry is None:
                raise KeyError(path)
            return entry
        return self.base[path]

    def get(self, path, default=None):
        changes = self.changes
        if path in changes:
            entry = changes[path]
            return default if entry is None else entry
        return self.base.get(path, default)

    def __contains__(self, path: object) -> bool:
        changes = self.changes
        if path in changes:
            return changes[path] is not None        # type: ignore[index]
        return path in self.base

    def __iter__(self) -> Iterator[str]:
        changes = self.changes
        if not changes:
            yield from self.base.paths
            return
        for path in self.base.paths:
            if path not in changes or changes[path] is not None:
                yield path
        index = self.base.index
        for path, entry in changes.items():
            if entry is not None and path not in index:
                yield path

    def __len__(self) -> int:
        return self._len

    def __setitem__(self, path: str, entry: Entry) -> None:
        if path not in self:
            self._len += 1
        self.changes[path] = entry

    def __delitem__(self, path: str) -> None:
        if path not in self:
            raise KeyError(path)
        self._len -= 1
        if path in self.base.index:
            self.changes[path] = _REMOVED
        else:
            del self.changes[path]

    def paths_of_kind(self, dirs: bool) -> list[str]:
        if not self.changes:
            return self.base.paths_of_kind(dirs)
        return [p for p, e in self.items() if (e.kind == "dir") == dirs]
