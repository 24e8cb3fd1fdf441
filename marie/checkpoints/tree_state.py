"""The live, in-memory Merkle tree of the workspace that incremental checkpoints update.

``TreeState`` holds every checkpointed item (non-ignored files and symlinks) grouped by folder, and
each folder's tree hash. ``set(rel, item)`` changes one path and marks only the folders on its way
to the root as stale; ``root_hash(store)`` re-serialises just those folders (deepest first) and
stores their listings. Unchanged folders keep their hash, so a checkpoint after one edit in a
100k-file tree writes one file object and a handful of small folder listings.

The listings are byte-for-byte what ``capture.build_trees`` writes (sorted ``[name, kind, mode,
ref, size]``), so the same folder always has the same hash whichever way it was built.

Not thread-safe: the service uses it under its mutex (worker thread or CLI).
"""

from __future__ import annotations

from typing import Iterable

from marie.checkpoints.store import Item, ObjectStore


class TreeState:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.files: dict[str, dict[str, tuple]] = {"": {}}   # folder -> name -> listing entry
        self.subdirs: dict[str, set[str]] = {"": set()}      # folder -> child folder paths
        self.hashes: dict[str, str] = {}                     # folder -> tree hash (when not stale)
        self.stale: set[str] = {""}
        self.ignored: list[str] = []                         # what the baseline walk skipped

    @classmethod
    def build(cls, items: dict[str, Item], ignored: Iterable[str] = ()) -> "TreeState":
        state = cls()
        for rel, item in items.items():
            state.set(rel, item)
        state.ignored = list(ignored)
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
        if item is None:
            if self.items.pop(rel, None) is None:
                return False
            del self.files[parent][name]
            self._mark(parent)
            self._prune(parent)
            return True
        if self.items.get(rel) == item:
            return False
        self.items[rel] = item
        listing = self.files.get(parent)
        if listing is None:
            self._make_folder(parent)
            listing = self.files[parent]
        listing[name] = (name, item.kind, item.mode, item.ref, item.size)
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
        for folder in order:
            listing = list(self.files[folder].values())
            for sub in self.subdirs[folder]:
                listing.append((sub.rpartition("/")[2], "d", 0, self.hashes[sub], 0))
            self.hashes[folder] = store.put_tree(listing)
        self.stale.clear()
        return self.hashes[""]
