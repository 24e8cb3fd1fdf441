"""The live, in-memory Merkle tree of the workspace that incremental checkpoints update.

``TreeState`` holds every checkpointed item (non-ignored files and symlinks) grouped by folder, and
each folder's tree hash. ``set(rel, item)`` changes one path and marks only the folders on its way
to the root as stale; ``root_hash(store)`` re-serialises just those folders (deepest first) and
stores their listings. Unchanged folders keep their hash, so a checkpoint after one edit in a
100k-file tree writes one file object and a handful of small folder listings.

The listings are byte-for-byte what ``capture.build_trees`` writes (sorted ``[name, kind, mode,
ref, size]``), so the same folder always has the same hash whichever way it was built. Each entry
is kept as its encoded JSON fragment (``store.entry_json``), made once when the entry changes, so
re-serialising a stale folder is a sort and a join.

``changed`` records, per path set since the last ``mark_clean()``, its item before the first change:
the service counts a checkpoint's changed files from it instead of diffing the two trees.

Not thread-safe: the service uses it under its mutex (worker thread or CLI).
"""

from __future__ import annotations

from typing import Iterable

from marie.checkpoints.store import Item, ObjectStore, encode_listing, entry_json


class TreeState:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.files: dict[str, dict[str, str]] = {"": {}}     # folder -> name -> entry_json fragment
        self.subdirs: dict[str, set[str]] = {"": set()}      # folder -> child folder paths
        self.hashes: dict[str, str] = {}                     # folder -> tree hash (when not stale)
        self.stale: set[str] = {""}
        self.ignored: list[str] = []                         # what the baseline walk skipped
        self.changed: dict[str, Item | None] = {}            # path -> item before, since mark_clean

    def mark_clean(self) -> None:
        """The current tree was checkpointed: start counting changes from here."""
        self.changed = {}

    def changes(self) -> int:
        """Paths whose item differs from what it was at the last ``mark_clean``."""
        items = self.items
        return sum(1 for rel, before in self.changed.items() if items.get(rel) != before)

    @classmethod
    def build(cls, items: dict[str, Item], ignored: Iterable[str] = ()) -> "TreeState":
        """The state of a whole tree at once (a first walk): what ``set`` per item would build,
        without its per-item bookkeeping (a third of a cold CLI checkpoint of 100k files)."""
        state = cls()
        files, subdirs = state.files, state.subdirs
        for rel, item in items.items():
            parent, _, name = rel.rpartition("/")
            listing = files.get(parent)
            if listing is None:
                listing = files[parent] = {}
            listing[name] = entry_json(name, item.kind, item.mode, item.ref, item.size)
        for folder in list(files):
            while folder:
                subdirs.setdefault(folder, set())
                parent = folder.rpartition("/")[0]
                if parent not in files:
                    files[parent] = {}
                siblings = subdirs.setdefault(parent, set())
                if folder in siblings:
                    break
                siblings.add(folder)
                folder = parent
        state.items = dict(items)
        state.stale = set(files)
        state.ignored = list(ignored)
        state.changed = {}   # a new tree: the service counts its changes by diffing trees
        return state

    # -- changing ---------------------------------------------------------------------------------
    def _mark(self, folder: str) -> None:
        stale = self.stale
        while folder not in stale:
            stale.add(folder)
            if not folder:
                return
            folder = folder.rpartition("/")[0]

    def _make_folder(self, folder: str) -> None:
        while folder not in self.files:
            self.files[folder] = {}
            self.subdirs[folder] = set()
            parent = folder.rpartition("/")[0]
            if parent not in self.files:
                self._make_folder(parent)
            self.subdirs[parent].add(folder)
            self._mark(folder)

    def _prune(self, folder: str) -> None:
        """Drop folders left empty (checkpoints list no empty folders, as ``build_trees``)."""
        while folder and not self.files.get(folder) and not self.subdirs.get(folder):
            if folder not in self.files:
                return
            del self.files[folder]
            del self.subdirs[folder]
            self.hashes.pop(folder, None)
            self.stale.discard(folder)
            parent = folder.rpartition("/")[0]
            self.subdirs[parent].discard(folder)
            self._mark(parent)
            folder = parent

    def set(self, rel: str, item: Item | None) -> bool:
        """Set (or with None remove) one file's item. Returns whether anything changed."""
        parent, _, name = rel.rpartition("/")
        old = self.items.get(rel)
        if item is None:
            if old is None:
                return False
            if rel not in self.changed:
                self.changed[rel] = old
            del self.items[rel]
            del self.files[parent][name]
            self._mark(parent)
            self._prune(parent)
            return True
        if old == item:
            return False
        if rel not in self.changed:
            self.changed[rel] = old
        self.items[rel] = item
        listing = self.files.get(parent)
        if listing is None:
            self._make_folder(parent)
            listing = self.files[parent]
        listing[name] = entry_json(name, item.kind, item.mode, item.ref, item.size)
        self._mark(parent)
        return True

    def remove_under(self, folder: str) -> list[str]:
        """Remove every item below ``folder`` (it was deleted or became ignored); returns them."""
        prefix = folder + "/"
        gone = [rel for rel in self.items if rel.startswith(prefix)] if folder in self.files else []
        for rel in gone:
            self.set(rel, None)
        return gone

    def is_folder(self, rel: str) -> bool:
        return rel in self.files

    # -- hashing ----------------------------------------------------------------------------------
    def root_hash(self, store: ObjectStore) -> str:
        """Store the listings of stale folders and return the root tree hash."""
        order = sorted(self.stale, key=lambda f: f.count("/") + (1 if f else 0), reverse=True)
        hashes = self.hashes
        for folder in order:
            listing = self.files[folder]
            subs = self.subdirs[folder]
            if subs:
                listing = dict(listing)
                for sub in subs:
                    name = sub.rpartition("/")[2]
                    listing[name] = entry_json(name, "d", 0, hashes[sub], 0)
            hashes[folder] = store.put_tree_data(encode_listing([listing[n] for n in sorted(listing)]))
        self.stale.clear()
        return self.hashes[""]
