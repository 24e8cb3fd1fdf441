"""Folder listings (trees) of the checkpoint store: writing, reading (cached), flattening, Merkle
diff and reachability. A mixin of ``store.ObjectStore``, which provides ``put``/``get``; any thread.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from marie.checkpoints.codec import TREE_CACHE, Item, encode_listing, entry_json
from marie.checkpoints.errors import DamagedObject


class TreeLayer:
    """Listings as JSON lists of ``[name, kind, mode, ref, size]`` objects (see ``store``)."""

    # Provided by ObjectStore (declared for the type checker).
    _trees: dict[str, list]
    _tree_raw: dict[str, bytes]
    _fd_lock: threading.Lock
    _blocks: dict
    _blocks_bytes: int
    if TYPE_CHECKING:
        def put(self, data: bytes, digest: str | None = None, *, force: bool = False, tree: bool = False) -> str: ...

        def get(self, digest: str, *, check: bool = True) -> bytes: ...

        def close_readers(self, name: str | None = None) -> None: ...

    def put_tree(self, entries: list) -> str:
        """Store a folder listing given as ``[name, kind, mode, ref, size]`` entries (any order)."""
        entries = sorted(entries, key=lambda e: e[0])
        return self.put_tree_data(encode_listing([entry_json(*e) for e in entries]))

    def put_tree_data(self, data: bytes) -> str:
        """Store an encoded listing (``encode_listing``) and return its hash."""
        digest = self.put(data, tree=True)
        # Keep the bytes: a restore plans by diffing these same folders, and reading them back
        # from a pack costs an open each. Parsed only when read (most never are).
        if digest not in self._trees:
            raw = self._tree_raw
            if len(raw) >= TREE_CACHE:
                del raw[next(iter(raw))]   # oldest out: the newest listings are reused
            raw[digest] = data
        return digest

    def get_tree(self, digest: str) -> list[list]:
        """A folder listing (checked against its hash). Listings are immutable, so the last few
        thousand read are kept: a restore diffs, counts and looks up the same folders."""
        cached = self._trees.get(digest)
        if cached is not None:
            return cached
        data = self._tree_raw.pop(digest, None)
        if data is None:
            data = self.get(digest)
        try:
            listing = json.loads(data.decode("utf-8", "surrogateescape"))
        except ValueError:
            raise DamagedObject(digest, "tree listing is not valid") from None
        if len(self._trees) >= TREE_CACHE:
            del self._trees[next(iter(self._trees))]   # oldest out: the newest listings are reused
        self._trees[digest] = listing
        return listing

    def forget_trees(self) -> None:
        """Drop cached listings (gc may have removed their objects; verify must re-read)."""
        self._trees.clear()
        self._tree_raw.clear()
        with self._fd_lock:
            self._blocks.clear()
            self._blocks_bytes = 0
        self.close_readers()   # and re-open packs: what is read next comes from the disk as it is now

    def flatten(self, root: str) -> dict[str, Item]:
        """Every file, symlink and too-large file of the tree ``root``, by relative path."""
        out: dict[str, Item] = {}
        stack = [("", root)]
        while stack:
            prefix, digest = stack.pop()
            for name, kind, mode, ref, size in self.get_tree(digest):
                rel = prefix + name
                if kind == "d":
                    stack.append((rel + "/", ref))
                else:
                    out[rel] = Item(kind, mode, ref, size)
        return out

    def diff_trees(self, old_root: str | None, new_root: str | None) -> dict[str, tuple[Item | None, Item | None]]:
        """Paths whose item differs between two stored trees: rel -> (old item, new item).

        Merkle walk: a folder with the same tree hash on both sides is skipped without being read,
        so comparing two checkpoints of a 100k-file tree that differ in 3 files reads only the
        folders on those 3 files' paths. Either root may be None (an empty tree).
        """
        out: dict[str, tuple[Item | None, Item | None]] = {}
        stack = [("", old_root, new_root)]
        while stack:
            prefix, a, b = stack.pop()
            if a == b:
                continue
            left = {e[0]: e for e in self.get_tree(a)} if a else {}
            right = {e[0]: e for e in self.get_tree(b)} if b else {}
            for name in left.keys() | right.keys():
                x, y = left.get(name), right.get(name)
                if x == y:
                    continue
                rel = prefix + name
                xd = x is not None and x[1] == "d"
                yd = y is not None and y[1] == "d"
                if xd or yd:
                    stack.append((rel + "/", x[3] if xd else None, y[3] if yd else None))
                xi = Item(x[1], x[2], x[3], x[4]) if x is not None and not xd else None
                yi = Item(y[1], y[2], y[3], y[4]) if y is not None and not yd else None
                if xi != yi:
                    out[rel] = (xi, yi)
        return out

    def reachable(self, root: str, seen: set[str]) -> None:
        """Add ``root`` and every object it names (trees and stored contents) to ``seen``."""
        stack = [root]
        while stack:
            digest = stack.pop()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                listing = self.get_tree(digest)
            except DamagedObject:
                continue
            for _name, kind, _mode, ref, _size in listing:
                if kind == "d":
                    stack.append(ref)
                elif kind == "f":
                    seen.add(ref)
