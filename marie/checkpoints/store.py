"""The on-disk checkpoint store: content-addressed objects, directory trees and manifests.

Layout under ``<app.data_dir>/checkpoints`` (outside the user's repository; the user's ``.git``,
HEAD, index and stash are never read or written)::

    objects/ab/cdef...   file contents and tree listings, named by their BLAKE2b-160 hash
    tmp/                 objects being written (a crash leaves strays here; ``gc`` removes them)
    manifests/<id>.json  one per checkpoint: label, note, time, root tree, counts (written atomically)
    statcache            path -> (size, mtime_ns, ino, hash) so unchanged files are never re-read
    lock                 ``fcntl.flock`` lock shared by every MarieIDE process on this workspace

A tree is a JSON list of ``[name, kind, mode, ref, size]`` sorted by name, with kind ``f`` (file,
ref = content hash), ``l`` (symlink, ref = link text), ``x`` (file over the size cap: ref = hash,
content NOT stored, not restorable) or ``d`` (folder, ref = tree hash). Unchanged folders keep the
same tree hash, so a checkpoint costs only what changed.

Durability: an object is written to ``tmp/`` (no fsync of its own), then the whole batch is made
durable before any manifest names it: a batch of one or two is fsynced file by file; a bigger one
(a first checkpoint writes ~100k objects) with one ``syncfs(2)`` on the store's file system, then
renamed into place, then a second ``syncfs`` for the renames (per-file fsync where there is no
syncfs). On the build machine one fsync took ~6 ms and one syncfs ~1 ms (quiet file system), so
~100k objects cost two syncfs calls instead of ~100k fsyncs. Loose objects were kept over pack files so ``gc``, ``verify``
and a crashed writer's leftovers stay one file per object. Manifests are written with
``marie.core.atomic`` (temp + fsync + rename), so a crash never leaves half a
manifest. Any thread may call these functions; the service serialises writers with the lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from marie.core import atomic

HASH_HEX = 40


def hash_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=HASH_HEX // 2).hexdigest()


@dataclass(frozen=True, slots=True)
class Item:
    """One file system entry in a checkpoint: kind f/l/x (file, symlink, too large)."""

    kind: str
    mode: int
    ref: str      # content hash (f, x) or link text (l)
    size: int

    @property
    def restorable(self) -> bool:
        return self.kind in ("f", "l")


_libc = None


def _syncfs(folder: Path) -> None:
    """Flush every pending write of the file system holding ``folder`` (one call for many files)."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name, use_errno=True) if name else False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _libc and hasattr(_libc, "syncfs") and _libc.syncfs(fd) == 0:
            return
        os.sync()
    finally:
        os.close(fd)


class ObjectStore:
    def __init__(self, base: Path) -> None:
        self.base = Path(base)
        self.objects = self.base / "objects"
        self.tmp = self.base / "tmp"
        self.manifests = self.base / "manifests"
        for folder in (self.objects, self.tmp, self.manifests):
            folder.mkdir(parents=True, exist_ok=True)
        # Plain strings, not Path objects: ``put`` runs 100k times on a first checkpoint and pathlib
        # parsing was a third of its cost.
        self._objects_s = os.fspath(self.objects) + os.sep
        self._tmp_s = os.fspath(self.tmp) + os.sep
        self._fanout: set[str] = set()                   # objects/xx folders known to exist
        self._pending: list[tuple[str, str]] = []        # (tmp path, digest) written, not yet durable
        self._pending_digests: set[str] = set()
        self._counter = 0
        self._trees: dict[str, list] = {}

    # -- objects --------------------------------------------------------------------------------
    def path(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest[2:]

    def _final(self, digest: str) -> str:
        return self._objects_s + digest[:2] + os.sep + digest[2:]

    def has(self, digest: str) -> bool:
        return os.path.exists(self._final(digest))

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store ``data`` (if new) and return its hash. Durable only after ``flush()``.

        The temp name is pid + counter (``O_EXCL``), not ``mkstemp``'s random probing, which cost
        more than the write itself on a 100k-file first checkpoint.
        """
        digest = digest or hash_bytes(data)
        if digest in self._pending_digests or os.path.exists(self._final(digest)):
            return digest
        while True:
            self._counter += 1
            tmp_name = f"{self._tmp_s}obj-{os.getpid()}-{self._counter}"
            try:
                fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
                break
            except FileExistsError:
                continue   # a stray of a crashed process that had our pid: take the next number
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        os.close(fd)
        self._pending.append((tmp_name, digest))
        self._pending_digests.add(digest)
        return digest

    def flush(self) -> None:
        """Make every object from ``put`` durable and visible: data synced, renamed, folders synced.

        Small batches fsync each file; big ones (the first checkpoint of a large tree) use one
        ``syncfs`` for the data and one for the renames, so 100k files do not cost 100k fsyncs.
        Either way every object is durable before the caller writes the manifest that names it.
        """
        pending, self._pending = self._pending, []
        self._pending_digests = set()
        if not pending:
            return
        # One syncfs costs about one fsync (and far less than k of them) unless the file system
        # holds much unrelated unwritten data; a lone object keeps its own fsync.
        big = len(pending) > 2
        if big:
            _syncfs(self.tmp)
        else:
            for tmp, _ in pending:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        folders: set[str] = set()
        fanout = self._fanout
        for tmp, digest in pending:
            sub = digest[:2]
            if sub not in fanout:
                folder = self._objects_s + sub
                if not os.path.isdir(folder):
                    os.makedirs(folder, exist_ok=True)
                    folders.add(os.fspath(self.objects))
                fanout.add(sub)
            os.replace(tmp, self._final(digest))
            folders.add(self._objects_s + sub)
        if big or len(folders) > 2:
            _syncfs(self.objects)
        else:
            for folder in folders:
                atomic.fsync_dir(Path(folder))

    def discard_pending(self) -> None:
        pending, self._pending = self._pending, []
        self._pending_digests = set()
        for tmp, _ in pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def get(self, digest: str, *, check: bool = True) -> bytes:
        """The stored bytes of ``digest``; raises ``DamagedObject`` if missing or corrupt."""
        try:
            with open(self._final(digest), "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise DamagedObject(digest, "missing") from None
        if check and hash_bytes(data) != digest:
            raise DamagedObject(digest, "content does not match its hash")
        return data

    def all_objects(self) -> Iterable[tuple[str, Path]]:
        for sub in os.scandir(self.objects):
            if not sub.is_dir(follow_symlinks=False) or len(sub.name) != 2:
                continue
            for entry in os.scandir(sub.path):
                yield sub.name + entry.name, Path(entry.path)

    # -- trees ----------------------------------------------------------------------------------
    def put_tree(self, entries: list[list]) -> str:
        entries.sort(key=lambda e: e[0])
        return self.put(json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogateescape"))

    def get_tree(self, digest: str) -> list[list]:
        """A folder listing (checked against its hash). Listings are immutable, so the last few
        thousand read are kept: a restore diffs, counts and looks up the same folders."""
        cached = self._trees.get(digest)
        if cached is not None:
            return cached
        data = self.get(digest)
        try:
            listing = json.loads(data.decode("utf-8", "surrogateescape"))
        except ValueError:
            raise DamagedObject(digest, "tree listing is not valid") from None
        if len(self._trees) >= 4096:
            self._trees.clear()
        self._trees[digest] = listing
        return listing

    def forget_trees(self) -> None:
        """Drop cached listings (gc may have removed their objects; verify must re-read)."""
        self._trees.clear()

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

    # -- manifests ------------------------------------------------------------------------------
    def manifest_path(self, cid: str) -> Path:
        return self.manifests / f"{cid}.json"

    def write_manifest(self, record: dict) -> None:
        atomic.write_bytes(self.manifest_path(record["id"]), json.dumps(record, indent=1, ensure_ascii=False).encode("utf-8", "surrogateescape"))

    def read_manifest(self, cid: str) -> dict:
        try:
            data = self.manifest_path(cid).read_bytes()
        except FileNotFoundError:
            raise UnknownCheckpoint(f"no checkpoint {cid!r}") from None
        try:
            return json.loads(data.decode("utf-8", "surrogateescape"))
        except ValueError:
            raise CheckpointDamaged(f"checkpoint {cid}: its record is damaged (not valid JSON)") from None

    def manifest_ids(self) -> list[str]:
        """All checkpoint ids, oldest first (ids sort by creation time)."""
        return sorted(p.name[:-5] for p in os.scandir(self.manifests)
                      if p.name.endswith(".json") and not p.name.startswith("."))

    def remove_manifest(self, cid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            atomic.delete(self.manifest_path(cid))


class CheckpointError(RuntimeError):
    """A checkpoint operation failed; the message is meant for the user."""


class UnknownCheckpoint(CheckpointError):
    pass


class CheckpointDamaged(CheckpointError):
    pass


class DamagedObject(CheckpointError):
    def __init__(self, digest: str, why: str) -> None:
        super().__init__(f"object {digest[:12]} is {why}")
        self.digest = digest
        self.why = why
