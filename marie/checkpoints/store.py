"""The on-disk checkpoint store: content-addressed objects, directory trees and manifests.

Layout under ``<app.data_dir>/checkpoints`` (outside the user's repository; the user's ``.git``,
HEAD, index and stash are never read or written)::

    objects/ab/cdef...   small batches' objects, one file each, named by their BLAKE2b-160 hash
    packs/pack-*.pack    bigger batches' objects concatenated; ``.idx`` next to it: hash -> (offset, length)
    tmp/                 objects and packs being written (a crash leaves strays; ``gc`` removes them)
    manifests/<id>.json  one per checkpoint: label, note, time, root tree, counts (written atomically)
    statcache            path -> (size, mtime_ns, ino, hash) so unchanged files are never re-read
    lock                 ``fcntl.flock`` lock shared by every MarieIDE process on this workspace

A tree is a JSON list of ``[name, kind, mode, ref, size]`` sorted by name, with kind ``f`` (file,
ref = content hash), ``l`` (symlink, ref = link text), ``x`` (file over the size cap: ref = hash,
content NOT stored, not restorable) or ``d`` (folder, ref = tree hash). Unchanged folders keep the
same tree hash, so a checkpoint costs only what changed.

Durability: every object is durable before any manifest names it. A batch of up to
``PACK_ABOVE`` new objects (a checkpoint after a small edit) is written as loose files (fsync each
for one or two, else one ``syncfs(2)``), renamed into place, folders synced. A bigger batch (the
first checkpoint writes ~100k objects, one after editing 100 files ~500) goes into ONE pack file:
pack fsynced, its index fsynced, both renamed (index last; a pack without an index is a crashed
writer's and never read), folder fsynced. Why packs: on the build machine creating one file cost
0.1-0.3 ms and an fsync ~6 ms, so loose objects put a floor of ~0.5 s under a 100-file checkpoint.
``gc`` deletes dead packs and rewrites partly dead ones (new pack durable before the old goes).
Manifests are written with ``marie.core.atomic`` (temp + fsync + rename), so a crash never leaves
half a manifest. Any thread may call these functions; the service serialises writers with the lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import marshal
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from marie.core import atomic

HASH_HEX = 40
TREE_CACHE = 8192         # folder listings kept in memory (immutable, so never stale)
PACK_ABOVE = 16          # a batch of more new objects than this is written as one pack file
PACK_BUFFER = 8 << 20    # a pack's objects are gathered in memory and written in pieces this big


def hash_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=HASH_HEX // 2).hexdigest()


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]').search


def entry_json(name: str, kind: str, mode: int, ref: str, size: int) -> str:
    """One listing entry exactly as ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)``
    writes it. A plain f-string when nothing needs escaping (nearly always): json.dumps per folder
    was a fifth of an incremental checkpoint."""
    if _NEEDS_ESCAPE(name) is None and _NEEDS_ESCAPE(ref) is None:
        return f'["{name}","{kind}",{int(mode)},"{ref}",{int(size)}]'
    return json.dumps([name, kind, mode, ref, size], separators=(",", ":"), ensure_ascii=False)


def encode_listing(fragments: Iterable[str]) -> bytes:
    """A folder listing's stored bytes from its entries' ``entry_json`` fragments, sorted by name."""
    return ("[" + ",".join(fragments) + "]").encode("utf-8", "surrogateescape")


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
        self.packs = self.base / "packs"
        for folder in (self.objects, self.tmp, self.manifests, self.packs):
            folder.mkdir(parents=True, exist_ok=True)
        # Plain strings, not Path objects: ``put`` runs 100k times on a first checkpoint and pathlib
        # parsing was a third of its cost.
        self._objects_s = os.fspath(self.objects) + os.sep
        self._tmp_s = os.fspath(self.tmp) + os.sep
        self._fanout: set[str] = set()                   # objects/xx folders known to exist
        self._pending_digests: set[str] = set()          # put since the last flush
        self._small: list[tuple[str, bytes]] = []        # a batch's first objects, kept in memory
        self._pack_fd: int | None = None                 # the batch's pack being written (in tmp/)
        self._pack_tmp = ""
        self._pack_index: dict[str, tuple[int, int]] = {}
        self._pack_offset = 0
        self._pack_buf: list[bytes] = []                 # appended, not yet written (one write per PACK_BUFFER)
        self._pack_buffered = 0
        self._counter = 0
        self._packed: dict[str, tuple[str, int, int]] = {}   # digest -> (pack name, offset, length)
        self._pack_names: set[str] = set()
        self._read_fds: dict[str, int] = {}    # pack name -> open fd for ``os.pread`` (thread-safe reads)
        self._fd_lock = threading.Lock()
        self._load_packs()
        self._trees: dict[str, list] = {}
        self._tree_raw: dict[str, bytes] = {}   # listings written by this process, parsed only if read

    # -- objects --------------------------------------------------------------------------------
    def path(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest[2:]

    def _final(self, digest: str) -> str:
        return self._objects_s + digest[:2] + os.sep + digest[2:]

    def has(self, digest: str) -> bool:
        return digest in self._packed or os.path.exists(self._final(digest))

    # -- writing: small batches as loose files, bigger ones as one pack ---------------------------
    def put(self, data: bytes, digest: str | None = None, *, force: bool = False) -> str:
        """Store ``data`` (if new) and return its hash. Durable only after ``flush()``.

        The first ``PACK_ABOVE`` objects of a batch wait in memory; past that the batch streams
        into one pack file, because on the build machine creating a file costs ~0.1-0.3 ms and a
        checkpoint after editing 100 files writes ~500 objects (the files plus their folders).
        """
        digest = digest or hash_bytes(data)
        if digest in self._pending_digests:
            return digest
        if not force and (digest in self._packed or (
                # Once a batch streams into a pack, a copy of an object that exists loose costs
                # less than asking the disk (a stat in a big folder took ~0.3 ms under load).
                self._pack_fd is None and os.path.exists(self._final(digest)))):
            return digest
        self._pending_digests.add(digest)
        if self._pack_fd is None:
            if len(self._small) < PACK_ABOVE:
                self._small.append((digest, data))
                return digest
            self._open_pack()
        self._append(digest, data)
        return digest

    def _temp_name(self, kind: str) -> tuple[str, int]:
        while True:
            self._counter += 1
            name = f"{self._tmp_s}{kind}-{os.getpid()}-{self._counter}"
            try:
                return name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
            except FileExistsError:
                continue   # a stray of a crashed process that had our pid: take the next number

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def _open_pack(self) -> None:
        self._pack_tmp, self._pack_fd = self._temp_name("pack")
        self._pack_index = {}
        self._pack_offset = 0
        self._pack_buf, self._pack_buffered = [], 0
        small, self._small = self._small, []
        for digest, data in small:
            self._append(digest, data)

    def _append(self, digest: str, data: bytes) -> None:
        # Buffered: one write(2) per object was a third of a 100-file incremental checkpoint.
        self._pack_buf.append(data)
        self._pack_buffered += len(data)
        self._pack_index[digest] = (self._pack_offset, len(data))
        self._pack_offset += len(data)
        if self._pack_buffered >= PACK_BUFFER:
            self._drain_pack()

    def _drain_pack(self) -> None:
        if self._pack_buf:
            buf, self._pack_buf, self._pack_buffered = self._pack_buf, [], 0
            self._write_all(self._pack_fd, buf[0] if len(buf) == 1 else b"".join(buf))

    def flush(self) -> None:
        """Make every object from ``put`` durable and visible before the caller writes a manifest.

        A pack: its data and its index are fsynced, renamed into ``packs/`` (the index last: a
        pack without one is a crashed writer's and ignored), and the folder fsynced: three or four
        fsyncs for any number of objects. Loose objects (a batch of at most ``PACK_ABOVE``): one
        fsync each when there are one or two, else one ``syncfs``; then renamed, folders synced.
        """
        small, self._small = self._small, []
        self._pending_digests = set()
        if self._pack_fd is not None:
            self._flush_pack()
        if not small:
            return
        pending = []
        try:
            for digest, data in small:
                name, fd = self._temp_name("obj")
                pending.append((name, digest))
                try:
                    self._write_all(fd, data)
                    if len(small) <= 2:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            if len(small) > 2:
                _syncfs(self.tmp)
        except BaseException:
            for name, _ in pending:
                with contextlib.suppress(OSError):
                    os.unlink(name)
            raise
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
        if len(folders) > 2:
            _syncfs(self.objects)
        else:
            for folder in folders:
                atomic.fsync_dir(Path(folder))

    def _flush_pack(self) -> None:
        fd, tmp, index = self._pack_fd, self._pack_tmp, self._pack_index
        try:
            self._drain_pack()
        except BaseException:
            self.discard_pending()
            raise
        self._pack_fd = None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        idx_tmp, idx_fd = self._temp_name("idx")
        try:
            self._write_all(idx_fd, marshal.dumps(index))
            os.fsync(idx_fd)
        finally:
            os.close(idx_fd)
        name = f"pack-{time.time_ns()}-{os.getpid()}-{self._counter}"
        os.replace(tmp, self.packs / f"{name}.pack")
        os.replace(idx_tmp, self.packs / f"{name}.idx")
        atomic.fsync_dir(self.packs)
        for digest, (offset, length) in index.items():
            self._packed[digest] = (name, offset, length)
        self._pack_names.add(name)

    def discard_pending(self) -> None:
        self._small = []
        self._pending_digests = set()
        self._pack_buf, self._pack_buffered = [], 0
        if self._pack_fd is not None:
            fd, self._pack_fd = self._pack_fd, None
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(self._pack_tmp)

    # -- reading ----------------------------------------------------------------------------------
    def _load_packs(self, fresh: bool = False) -> None:
        """Read the indexes of packs not seen yet (``fresh``: forget all first, after a gc)."""
        if fresh:
            self._packed = {}
            self._pack_names = set()
            self.close_readers()
        for entry in os.scandir(self.packs):
            if not entry.name.endswith(".idx") or entry.name[:-4] in self._pack_names:
                continue
            try:
                with open(entry.path, "rb") as handle:
                    index = marshal.loads(handle.read())
            except (OSError, ValueError, EOFError, TypeError):
                continue   # unreadable index: its objects count as missing; verify says so
            name = entry.name[:-4]
            for digest, (offset, length) in index.items():
                self._packed[digest] = (name, offset, length)
            self._pack_names.add(name)

    def _reader(self, name: str) -> int:
        """An open descriptor of pack ``name``, kept: opening the pack per object was most of the
        cost of reading trees back (verify, restore planning). An fd stays valid when another
        process's gc replaces the pack (the old file lives on while open, and its bytes are what
        our index names)."""
        with self._fd_lock:
            fd = self._read_fds.get(name)
            if fd is None:
                fd = os.open(os.path.join(self.packs, f"{name}.pack"), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
                if len(self._read_fds) >= 32:
                    os.close(self._read_fds.pop(next(iter(self._read_fds))))
                self._read_fds[name] = fd
            return fd

    def close_readers(self, name: str | None = None) -> None:
        with self._fd_lock:
            names = [name] if name is not None else list(self._read_fds)
            for one in names:
                fd = self._read_fds.pop(one, None)
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)

    def _read_packed(self, digest: str) -> bytes:
        for attempt in range(3):
            where = self._packed.get(digest)
            if where is None:
                if attempt == 0:
                    self._load_packs()
                    continue
                break
            name, offset, length = where
            try:
                fd = self._reader(name)
                data = os.pread(fd, length, offset)
                while len(data) < length:
                    more = os.pread(fd, length - len(data), offset + len(data))
                    if not more:
                        break
                    data += more
            except FileNotFoundError:
                self._load_packs(fresh=True)   # another process's gc rewrote that pack
                continue
            if len(data) != length:
                raise DamagedObject(digest, "truncated in its pack")
            return data
        raise DamagedObject(digest, "missing")

    def get(self, digest: str, *, check: bool = True) -> bytes:
        """The stored bytes of ``digest``; raises ``DamagedObject`` if missing or corrupt."""
        if digest in self._packed:
            data = self._read_packed(digest)   # no failing open of a loose path first
        else:
            try:
                with open(self._final(digest), "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                data = self._read_packed(digest)
        if check and hash_bytes(data) != digest:
            raise DamagedObject(digest, "content does not match its hash")
        return data

    def check_many(self, digests: Iterable[str]) -> dict[str, str | None]:
        """Re-hash ``digests``: digest -> None when intact, else why not. Each pack is opened once
        and read front to back (its objects sorted by offset); loose objects are read one by one."""
        self._load_packs()
        by_pack: dict[str, list[tuple[int, int, str]]] = {}
        loose: list[str] = []
        for digest in digests:
            where = self._packed.get(digest)
            if where is None:
                loose.append(digest)
            else:
                by_pack.setdefault(where[0], []).append((where[1], where[2], digest))
        out: dict[str, str | None] = {}
        for name, objects in sorted(by_pack.items()):
            objects.sort()
            try:
                handle = open(self.packs / f"{name}.pack", "rb", buffering=1 << 20)
            except FileNotFoundError:
                loose.extend(d for _, _, d in objects)   # gc replaced it meanwhile: ``get`` finds them
                continue
            with handle:
                pos = 0
                for offset, length, digest in objects:
                    if offset != pos:
                        handle.seek(offset)
                    data = handle.read(length)
                    pos = offset + len(data)
                    if len(data) != length:
                        out[digest] = "truncated in its pack"
                    elif hash_bytes(data) != digest:
                        out[digest] = "content does not match its hash"
                    else:
                        out[digest] = None
        for digest in loose:
            try:
                self.get(digest)
                out[digest] = None
            except DamagedObject as exc:
                out[digest] = exc.why
        return out

    def close(self) -> None:
        self.close_readers()

    def locate(self, digest: str) -> tuple[Path, int, int]:
        """Where an object's bytes are: (file, offset, length). For tests and repair tools."""
        final = Path(self._final(digest))
        if final.exists():
            return final, 0, final.stat().st_size
        if digest not in self._packed:
            self._load_packs()
        name, offset, length = self._packed[digest]
        return self.packs / f"{name}.pack", offset, length

    def pack_bytes(self) -> int:
        return sum(e.stat().st_size for e in os.scandir(self.packs) if e.name.endswith((".pack", ".idx")))

    def collect_packs(self, live: set[str]) -> tuple[int, int]:
        """Drop dead objects from packs: a pack with none live is deleted, a partly dead one is
        rewritten with its live objects (new pack durable first, old one removed after). Caller
        holds the store lock. Returns (objects removed, bytes freed)."""
        removed = freed = 0
        entries = sorted(os.scandir(self.packs), key=lambda e: e.name)
        indexed = {e.name[:-4] for e in entries if e.name.endswith(".idx")}
        for entry in entries:
            if entry.name.endswith(".pack") and entry.name[:-5] not in indexed:
                with contextlib.suppress(OSError):
                    freed += entry.stat().st_size
                    os.unlink(entry.path)   # a crashed writer's pack that never got its index
        for name in sorted(indexed):
            idx_path, pack_path = self.packs / f"{name}.idx", self.packs / f"{name}.pack"
            try:
                index = marshal.loads(idx_path.read_bytes())
                size = pack_path.stat().st_size
            except (OSError, ValueError, EOFError, TypeError):
                continue
            keep = [d for d in index if d in live]
            if len(keep) == len(index):
                continue
            if keep:
                with open(pack_path, "rb") as handle:
                    for digest in keep:
                        offset, length = index[digest]
                        handle.seek(offset)
                        self.put(handle.read(length), digest, force=True)
                self.flush()
            idx_path.unlink()
            pack_path.unlink()
            self.close_readers(name)
            self._pack_names.discard(name)
            for digest in index:
                if self._packed.get(digest, ("",))[0] == name:
                    del self._packed[digest]
            removed += len(index) - len(keep)
            freed += size - sum(index[d][1] for d in keep)
        atomic.fsync_dir(self.packs)
        return removed, freed

    def all_objects(self) -> Iterable[tuple[str, Path]]:
        for sub in os.scandir(self.objects):
            if not sub.is_dir(follow_symlinks=False) or len(sub.name) != 2:
                continue
            for entry in os.scandir(sub.path):
                yield sub.name + entry.name, Path(entry.path)

    # -- trees ----------------------------------------------------------------------------------
    def put_tree(self, entries: list) -> str:
        """Store a folder listing given as ``[name, kind, mode, ref, size]`` entries (any order)."""
        entries = sorted(entries, key=lambda e: e[0])
        return self.put_tree_data(encode_listing([entry_json(*e) for e in entries]))

    def put_tree_data(self, data: bytes) -> str:
        """Store an encoded listing (``encode_listing``) and return its hash."""
        digest = self.put(data)
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
