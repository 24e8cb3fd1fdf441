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

Durability: an object is written to ``tmp/``, fsynced, renamed into place, and its folder fsynced
(or, for big batches, one ``syncfs`` for the whole batch) before any manifest names it; manifests
are written with ``marie.core.atomic`` (temp + fsync + rename), so a crash never leaves half a
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
        self._pending: list[tuple[Path, str]] = []   # objects written but not yet made durable

    # -- objects --------------------------------------------------------------------------------
    def path(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return os.path.exists(self.objects / digest[:2] / digest[2:])

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store ``data`` (if new) and return its hash. Durable only after ``flush()``."""
        digest = digest or hash_bytes(data)
        final = self.path(digest)
        if os.path.exists(final):
            return digest
        fd, tmp_name = tempfile.mkstemp(prefix="obj-", dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        self._pending.append((Path(tmp_name), digest))
        return digest

    def flush(self) -> None:
        """Make every object from ``put`` durable and visible: data synced, renamed, folders synced.

        Small batches fsync each file; big ones (the first checkpoint of a large tree) use one
        ``syncfs`` so 100k files do not cost 100k fsyncs.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        if len(pending) > 64:
            _syncfs(self.tmp)
        else:
            for tmp, _ in pending:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        folders: set[Path] = set()
        for tmp, digest in pending:
            final = self.path(digest)
            if not final.parent.is_dir():
                final.parent.mkdir(parents=True, exist_ok=True)
                folders.add(self.objects)
            os.replace(tmp, final)
            folders.add(final.parent)
        if len(folders) > 64:
            _syncfs(self.objects)
        else:
            for folder in folders:
                atomic.fsync_dir(folder)

    def discard_pending(self) -> None:
        pending, self._pending = self._pending, []
        for tmp, _ in pending:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def get(self, digest: str, *, check: bool = True) -> bytes:
        """The stored bytes of ``digest``; raises ``DamagedObject`` if missing or corrupt."""
        try:
            data = self.path(digest).read_bytes()
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
        data = self.get(digest)
        try:
            return json.loads(data.decode("utf-8", "surrogateescape"))
        except ValueError:
            raise DamagedObject(digest, "tree listing is not valid") from None

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
