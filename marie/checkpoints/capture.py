"""Reading the workspace into checkpoint items, cheaply.

``capture`` walks the workspace with ``os.scandir`` (honouring ``marie.index.ignore.IgnoreMatcher``,
the same rules as the index), and re-reads only files whose ``(size, mtime_ns, ino, ctime_ns)`` changed since
the last capture (the stat cache). A file modified within the last two seconds is hashed but not
cached, because a second write in the same timestamp tick would otherwise go unnoticed ("racy git").
Runs on whichever thread calls it (a worker, or the CLI's main thread).

A walk in a process that walked before (the GUI without a live index, a second CLI checkpoint in
one command) is cheaper still: the stat cache keeps, in memory, each file's full stat key ``(size,
mtime_ns, ino, ctime_ns, st_mode)`` with the ``Item`` made from it, and the stat data of every ignore
file seen. A file whose key is unchanged, in a folder whose ignore rules (its own and its parents'
ignore files, ``.git/info/exclude``, the ``files.exclude`` setting) are unchanged, costs one tuple
comparison: no ignore-rule matching, no new object.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from marie.core import atomic
from marie.core.atomic import TEMP_PREFIX
from marie.checkpoints.store import HASH_HEX, Item, ObjectStore, hash_bytes
from marie.index.ignore import IGNORE_FILES

RACY_NS = 2_000_000_000
CHUNK = 1 << 20


class StatCache:
    """rel path -> (size, mtime_ns, ino, hash, ctime_ns), persisted with ``marshal`` next to the store.

    Entries written before ``ctime_ns`` was kept have four fields; they serve the stat walk (which
    compares size, mtime and inode) but not ``capture_snapshot`` (which needs the ctime)."""

    VERSION = 1

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, tuple] = {}
        self.dirty = False
        # In memory only (see the module docstring): rel -> (stat key, Item) of files the last walks
        # found not ignored and cached; the ignore files' stat keys at the last whole walk, and the
        # settings' excludes then (None: no whole walk yet, decide everything).
        self.memo: dict[str, tuple] = {}
        self.memo_cap: int | None = None
        self.rules: dict[str, tuple | None] | None = None
        self.rules_excludes: tuple | None = None
        try:
            version, entries = marshal.loads(self.path.read_bytes())
            if version == self.VERSION and isinstance(entries, dict):
                self.entries = entries
        except (OSError, ValueError, EOFError, TypeError):
            self.entries = {}   # missing or damaged: start cold, it is only a cache

    def save(self) -> None:
        if self.dirty:
            atomic.write_bytes(self.path, marshal.dumps((self.VERSION, self.entries)))
            self.dirty = False

    def keep_only(self, digests: set[str]) -> None:
        """Forget entries whose object was garbage-collected (so they are re-read and stored again)."""
        before = len(self.entries)
        self.entries = {k: v for k, v in self.entries.items() if v[3] in digests}
        self.memo.clear()
        self.dirty = self.dirty or len(self.entries) != before


@dataclass
class Capture:
    items: dict[str, Item] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)          # pruned folders and ignored files
    ignored_covered: list[str] = field(default_factory=list)  # ignored files included via ``paths``
    absent: list[str] = field(default_factory=list)           # ``paths`` that did not exist
    unreadable: list[str] = field(default_factory=list)       # "path: reason"
    hashed: int = 0                                           # files actually read
    dirs: list[str] = field(default_factory=list)             # ``capture_paths``: paths that are folders


_EXCLUDE = ".git/info/exclude"
_MISSING = ("missing",)


def _rule_key(path: str) -> tuple | None:
    """What tells an ignore file's content changed without reading it (None: there is none).
    Followed through a symlink, as the matcher reads it."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_mtime_ns > time.time_ns() - RACY_NS:   # the stat cache's rule for files, too
        # Changed a moment ago: a second write in the same timestamp tick would keep this key,
        # so a key that matches nothing (the next walk decides this folder's files again).
        return ("racy", time.monotonic_ns(), id(st))
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, st.st_mode)


def _hash_large(path: str) -> str:
    digest = hashlib.blake2b(digest_size=HASH_HEX // 2)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Capturer:
    def __init__(self, root: Path, matcher, cache: StatCache, max_file_bytes: int) -> None:
        self.root = str(root)
        self.matcher = matcher
        self.cache = cache
        self.max_file_bytes = max_file_bytes
        if cache.memo_cap != max_file_bytes:   # the cap decides an item's kind (f or x)
            cache.memo.clear()
            cache.memo_cap = max_file_bytes

    def _chain_for(self, folder: str) -> tuple:
        """The ignore-rule chain of ``folder``'s parent (what the walk hands a folder it enters)."""
        chain: tuple = ()
        if folder:
            parts = folder.split("/")
            for depth in range(len(parts)):
                chain = self.matcher.chain("/".join(parts[:depth]), chain)
        return chain

    def capture(self, store: ObjectStore | None, paths: Iterable[str] = (), token=None,
                starts: Iterable[str] | None = None) -> Capture:
        """Walk the workspace (or only the folders ``starts``). With ``store`` the contents are
        stored (not yet flushed); without it only hashed (used for "diff against now").

        Ignore decisions are made once per folder (its rule chain is built from its parent's, as
        the index's walker does), not by re-deriving every parent's rules for every file.
        """
        out = Capture()
        self._racy_limit = time.time_ns() - RACY_NS
        matcher = self.matcher
        decide = matcher.decide
        cache = self.cache
        memo = cache.memo
        memo_get = memo.get
        cache_get = cache.entries.get
        items = out.items
        ignored = out.ignored
        cap = self.max_file_bytes
        whole = starts is None
        # Ignore decisions of the last whole walk still hold in a folder whose rule files (and its
        # parents') have the same stat data as then. A partial walk (a folder moved in) decides
        # everything and does not add to the memo (its rules were not checked from the root).
        excludes = tuple(getattr(matcher, "extra_excludes", ()) or ())
        exclude_key = _rule_key(os.path.join(self.root, ".git", "info", "exclude"))
        known = cache.rules if whole else None
        if known is not None and (cache.rules_excludes != excludes or known.get(_EXCLUDE) != exclude_key):
            known = None
        seen_rules: dict[str, tuple | None] = {_EXCLUDE: exclude_key}
        stack = [(s, self._chain_for(s), known is not None) for s in (starts if starts is not None else [""])]
        while stack:
            folder, parent_chain, trusted = stack.pop()
            if token is not None:
                token.check()
            disk = os.path.join(self.root, folder) if folder else self.root
            prefix = folder + "/" if folder else ""
            try:
                with os.scandir(disk) as listing:
                    entries = list(listing)
            except OSError as exc:
                out.unreadable.append(f"{folder or '.'}: {exc.strerror}")
                continue
            rule_entries = [entry for entry in entries if entry.name in IGNORE_FILES]
            if rule_entries or trusted:
                present = set()
                for entry in rule_entries:
                    rel = prefix + entry.name
                    key = seen_rules[rel] = _rule_key(entry.path)
                    present.add(rel)
                    if trusted and known.get(rel, _MISSING) != key:
                        trusted = False   # a rule file of this folder is new or changed
                if trusted:
                    for name in IGNORE_FILES:
                        if prefix + name in known and prefix + name not in present:
                            trusted = False   # a rule file of this folder was removed
            chain = matcher.chain(folder, parent_chain, bool(rule_entries))
            for entry in entries:
                name = entry.name
                if name.startswith(TEMP_PREFIX):
                    continue   # a half-written temp file of an interrupted atomic write, never content
                rel = prefix + name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if decide(rel, name, True, chain):
                            ignored.append(rel + "/")
                        else:
                            stack.append((rel, chain, trusted))
                        continue
                    st = entry.stat(follow_symlinks=False)
                    key = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, st.st_mode)
                    if trusted:
                        hit = memo_get(rel)
                        if hit is not None and hit[0] == key:
                            items[rel] = hit[1]   # unchanged file, unchanged rules: nothing to decide
                            continue
                    if decide(rel, name, False, chain):
                        ignored.append(rel)
                        memo.pop(rel, None)
                        continue
                    hit = memo_get(rel)
                    if hit is not None and hit[0] == key:
                        items[rel] = hit[1]
                        continue
                    # ``_add``'s stat-cache hit, inline (it is most files of a first walk in a process).
                    cached = cache_get(rel)
                    size, mode = key[0], key[4]
                    if (cached is not None and len(cached) > 4 and cached[0] == size and cached[1] == key[1]
                            and cached[2] == key[2] and cached[4] == key[3] and mode & 0o170000 == 0o100000):
                        item = items[rel] = Item("f" if size <= cap else "x", mode & 0o7777, cached[3], size)
                        if whole:
                            memo[rel] = (key, item)
                        continue
                    self._add(out, rel, entry.path, st, store)
                    if whole:   # read just now: remembered too once the stat cache holds it (not racy)
                        cached = cache_get(rel)
                        if (cached is not None and len(cached) > 4 and cached[0] == size and cached[1] == key[1]
                                and cached[2] == key[2] and cached[4] == key[3] and rel in items):
                            memo[rel] = (key, items[rel])
                except OSError as exc:
                    out.unreadable.append(f"{rel}: {exc.strerror or exc}")
        if whole:
            cache.rules, cache.rules_excludes = seen_rules, excludes
        self._add_paths(out, paths, store)
        return out

    def capture_snapshot(self, store: ObjectStore | None, snapshot, paths: Iterable[str] = (), token=None) -> Capture:
        """The same result as ``capture`` for a workspace the index has just scanned, without
        stat'ing every file: a file whose snapshot entry (size, mtime, ctime, mode) matches the
        stat cache takes its hash from the cache; only the others are ``lstat``'ed (and read if
        changed). Folders are still listed (no stat) for what is ignored: a name on disk that the
        snapshot does not hold is recorded as ignored, which at worst keeps a restore from deleting
        a file created a moment ago. ``ctime_ns`` (which no user call can set back) stands in for
        the inode the walk compares. Worker thread, under the service's mutex.
        """
        out = Capture()
        self._racy_limit = racy = time.time_ns() - RACY_NS
        entries = snapshot.entries
        cached_get = self.cache.entries.get
        cap = self.max_file_bytes
        items = out.items
        root = self.root
        folders = [""]
        for rel, entry in entries.items():
            kind = entry.kind
            if kind == "dir":
                folders.append(rel)
                continue
            name = rel.rpartition("/")[2]
            if name.startswith(TEMP_PREFIX):
                continue
            if kind == "file":
                cached = cached_get(rel)
                ctime = getattr(entry, "ctime_ns", 0)   # 0: unknown (an index without it, or a listing)
                if (cached is not None and len(cached) > 4 and ctime and cached[4] == ctime
                        and cached[0] == entry.size and cached[1] == entry.mtime_ns and ctime < racy):
                    size = entry.size
                    items[rel] = Item("f" if size <= cap else "x", entry.mode, cached[3], size)
                    continue
            full = os.path.join(root, *rel.split("/"))
            try:
                st = os.lstat(full)
            except (FileNotFoundError, NotADirectoryError):
                continue   # gone since the snapshot: the dirty set has it for the next checkpoint
            except OSError as exc:
                out.unreadable.append(f"{rel}: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(st.st_mode):
                continue
            try:
                self._add(out, rel, full, st, store)
            except FileNotFoundError:
                continue
            except OSError as exc:
                out.unreadable.append(f"{rel}: {exc.strerror or exc}")
        out.unreadable.extend(str(u) for u in getattr(snapshot, "unreadable", ()))
        ignored = out.ignored
        for n, folder in enumerate(folders):
            if token is not None and not n % 256:
                token.check()
            disk = os.path.join(root, folder) if folder else root
            prefix = folder + "/" if folder else ""
            try:
                with os.scandir(disk) as listing:
                    for entry in listing:
                        rel = prefix + entry.name
                        if rel not in entries and not entry.name.startswith(TEMP_PREFIX):
                            try:
                                is_dir = entry.is_dir(follow_symlinks=False)
                            except OSError:
                                is_dir = False
                            ignored.append(rel + "/" if is_dir else rel)
            except OSError:
                continue   # gone or unreadable since the snapshot (which reports the latter)
        self._add_paths(out, paths, store)
        return out

    def _add_paths(self, out: Capture, paths: Iterable[str], store: ObjectStore | None) -> None:
        """The files an operation is about to touch: always re-stat'ed, included even if ignored."""
        for rel in paths:
            if rel in out.items:
                continue
            full = os.path.join(self.root, *rel.split("/"))
            try:
                st = os.lstat(full)
            except (FileNotFoundError, NotADirectoryError):
                out.absent.append(rel)
                continue
            if stat.S_ISDIR(st.st_mode):
                continue
            try:
                if self._add(out, rel, full, st, store):
                    out.ignored_covered.append(rel)
            except OSError as exc:
                out.unreadable.append(f"{rel}: {exc.strerror or exc}")

    def capture_paths(self, rels: Iterable[str], store: ObjectStore | None) -> Capture:
        """Re-stat (and hash if changed) just ``rels``: the dirty-set path. Folders land in
        ``dirs``, missing paths in ``absent``; ignore rules are the caller's business."""
        out = Capture()
        self._racy_limit = time.time_ns() - RACY_NS
        for rel in rels:
            full = os.path.join(self.root, *rel.split("/"))
            try:
                st = os.lstat(full)
            except (FileNotFoundError, NotADirectoryError):
                out.absent.append(rel)
                continue
            except OSError as exc:
                out.unreadable.append(f"{rel}: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(st.st_mode):
                out.dirs.append(rel)
                continue
            try:
                self._add(out, rel, full, st, store)
            except FileNotFoundError:
                out.absent.append(rel)
            except OSError as exc:
                out.unreadable.append(f"{rel}: {exc.strerror or exc}")
        return out

    def _add(self, out: Capture, rel: str, full: str, st: os.stat_result, store: ObjectStore | None) -> bool:
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            out.items[rel] = Item("l", 0o777, os.readlink(full), 0)
            return True
        if not stat.S_ISREG(mode):
            return False   # fifos, sockets, devices: nothing to keep
        perm = stat.S_IMODE(mode)
        size = st.st_size
        cached = self.cache.entries.get(rel)
        if (cached is not None and cached[0] == size and cached[1] == st.st_mtime_ns and cached[2] == st.st_ino
                and (len(cached) < 5 or cached[4] == st.st_ctime_ns)):   # ctime: a rewrite that kept the mtime
            out.items[rel] = Item("f" if size <= self.max_file_bytes else "x", perm, cached[3], size)
            return True
        if size > self.max_file_bytes:
            digest = _hash_large(full)
            out.items[rel] = Item("x", perm, digest, size)
        else:
            with open(full, "rb") as handle:
                data = handle.read()
            size = len(data)
            digest = hash_bytes(data)
            if store is not None:
                store.put(data, digest)
            out.items[rel] = Item("f", perm, digest, size)
        out.hashed += 1
        # Only cache what is stored (a diff-only capture stores nothing) and not racy.
        if (store is not None or size > self.max_file_bytes) and st.st_mtime_ns < self._racy_limit and size == st.st_size:
            self.cache.entries[rel] = (size, st.st_mtime_ns, st.st_ino, digest, st.st_ctime_ns)
            self.cache.dirty = True
        elif rel in self.cache.entries:
            del self.cache.entries[rel]
            self.cache.dirty = True
            self.cache.memo.pop(rel, None)
        return True


def build_trees(store: ObjectStore, items: dict[str, Item], memo: dict[tuple, str] | None = None) -> str:
    """Store the folder trees of ``items`` and return the root tree hash.

    ``memo`` maps a folder's listing (as a tuple) to its tree hash, so unchanged folders are not
    serialised or written again within one process.
    """
    children: dict[str, list] = {"": []}
    for rel, item in items.items():
        parent, _, name = rel.rpartition("/")
        bucket = children.get(parent)
        if bucket is None:
            bucket = children[parent] = []
            # Make sure every ancestor folder is known so it gets a tree entry.
            p = parent
            while p:
                up = p.rpartition("/")[0]
                if up in children:
                    break
                children[up] = []
                p = up
        bucket.append((name, item.kind, item.mode, item.ref, item.size))
    # Add sub-folder names to their parents.
    subdirs: dict[str, list[str]] = {}
    for folder in children:
        if folder:
            subdirs.setdefault(folder.rpartition("/")[0], []).append(folder)
    hashes: dict[str, str] = {}
    # Deepest folders first, so each parent can name its children's tree hashes.
    order = sorted((f for f in children if f), key=lambda f: f.count("/"), reverse=True)
    order.append("")
    memo = memo if memo is not None else {}
    if len(memo) > 200_000:
        memo.clear()   # bound the memory of a long session
    for folder in order:
        listing = children[folder]
        for sub in subdirs.get(folder, ()):
            listing.append((sub.rpartition("/")[2], "d", 0, hashes[sub], 0))
        listing.sort()
        key = tuple(listing)
        digest = memo.get(key)
        if digest is None:
            digest = store.put_tree([list(e) for e in listing])
            memo[key] = digest
        hashes[folder] = digest
    return hashes[""]


def ignored_prefixes(ignored: Iterable[str]) -> tuple[list[str], set[str]]:
    """Split recorded ignored paths into folder prefixes (ending in "/") and single files."""
    folders = [p for p in ignored if p.endswith("/")]
    files = {p for p in ignored if not p.endswith("/")}
    return folders, files


def was_ignored(rel: str, folders: list[str], files: set[str]) -> bool:
    return rel in files or any(rel.startswith(f) for f in folders)


def remove_empty_parents(root: Path, rel: str, keep: set[str]) -> None:
    """After a delete, remove folders left empty (never the root, never one in ``keep``)."""
    parts = rel.split("/")[:-1]
    while parts:
        folder = "/".join(parts)
        if folder in keep:
            return
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(root, *parts))
            parts.pop()
            continue
        return
