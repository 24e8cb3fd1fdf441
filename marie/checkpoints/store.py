"""The on-disk checkpoint store: content-addressed objects, directory trees and manifests.

Layout under ``<app.data_dir>/checkpoints`` (outside the user's repository; the user's ``.git``,
HEAD, index and stash are never read or written)::

    objects/ab/cdef...   small batches' objects, one file each, named by their BLAKE2b-160 hash
                         (``cdef....z``: the same, stored zlib-compressed)
    packs/pack-*.pack    bigger batches' objects concatenated; ``.idx`` next to it: hash -> (offset,
                         length) for a raw entry, (offset, length, 1) for a zlib-compressed one
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

Compression: an object is stored zlib-compressed (raw deflate, level 1: the fastest) only when that
pays, i.e. the compressed form is under ``COMPRESS_RATIO`` of the raw size; tiny objects and
already-compressed or random data are stored as they are (a big object is judged on a trial of its
first ``COMPRESS_SAMPLE`` bytes, so a large archive costs no full compression pass). The flag is per
object (the ``.z`` name of a loose object, the third field of a pack index entry), so a store written
before compression existed (no ``.z`` files, two-field entries) reads and verifies unchanged, and
both kinds mix freely. Hashes always name the raw bytes: reading and ``verify`` decompress first.
In a pack, objects up to ``BLOCK_ITEM_MAX`` (most source files and folder listings) are compressed
together in blocks of ~``BLOCK_BYTES`` (one zlib call per block: per object, zlib's set-up cost more
than the compression of a typical 600-byte file, and neighbours share words); a block that does not
pay is stored raw, and data that starts like a compressed format (gzip, zip, PNG, JPEG...) never
goes in a block. Reading an object from a block decompresses the block (the last few are kept).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import marshal
import os
import threading
import time
import zlib
from pathlib import Path
from typing import Iterable

from marie.checkpoints.codec import (BLOCK, BLOCK_AAD, BLOCK_BYTES, BLOCK_CACHE, BLOCK_ITEM_MAX, COMPRESS_LEVEL,
                                     COMPRESS_RATIO, COMPRESS_SAMPLE, HASH_HEX, PACK_ABOVE, PACK_BUFFER,
                                     RAW, TREE_CACHE, ZLIB, _COMPRESSED_MAGIC, _WBITS, Item, _entries, _entry,
                                     decode_object, encode_listing, encode_object, entry_json, hash_bytes, open_stored,
                                     seal_stored)
from marie.checkpoints.errors import CheckpointDamaged, CheckpointError, DamagedObject, UnknownCheckpoint
from marie.checkpoints.manifests import ManifestLayer
from marie.checkpoints.trees import TreeLayer
from marie.core import atomic

__all__ = ["ObjectStore", "Item", "hash_bytes", "encode_object", "decode_object", "entry_json", "encode_listing",
           "CheckpointError", "UnknownCheckpoint", "CheckpointDamaged", "DamagedObject", "HASH_HEX", "PACK_ABOVE",
           "COMPRESS_SAMPLE", "TREE_CACHE", "BLOCK_ITEM_MAX", "RAW", "ZLIB", "BLOCK"]


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


class ObjectStore(TreeLayer, ManifestLayer):
    def __init__(self, base: Path, compress: bool = True, cipher=None) -> None:
        self.base = Path(base)
        # Encryption at rest (a marie.governance.crypto.Cipher, or None): every stored form is sealed.
        self.cipher = cipher
        self.compress = compress   # store new objects compressed when that pays (setting checkpoints.compress)
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
        self._small: list[tuple[str, bytes, int | None]] = []   # a batch's first objects (flag None: raw content, -1: raw listing; encoded later)
        # Small objects waiting for the pack's current block, file contents and folder listings
        # apart (damage to a block of contents leaves the listings readable, and the reverse).
        self._block: dict[bool, list[tuple[str, bytes]]] = {False: [], True: []}
        self._block_raw = {False: 0, True: 0}
        self._blocks: dict[tuple[str, int], bytes] = {}  # (pack, offset) -> a block read back, decompressed
        self._blocks_bytes = 0
        self._pack_fd: int | None = None                 # the batch's pack being written (in tmp/)
        self._pack_tmp = ""
        self._pack_index: dict[str, tuple] = {}          # digest -> (offset, length[, ZLIB])
        self._pack_offset = 0
        self._pack_buf: list[bytes] = []                 # appended, not yet written (one write per PACK_BUFFER)
        self._pack_buffered = 0
        self._counter = 0
        self._packed: dict[str, tuple] = {}   # digest -> _entry(): (pack, offset, length, flag, in-block offset, length)
        self._pack_names: set[str] = set()
        self._read_fds: dict[str, int] = {}    # pack name -> open fd for ``os.pread`` (thread-safe reads)
        self._fd_lock = threading.Lock()
        self._load_packs()
        self._trees: dict[str, list] = {}
        self._tree_raw: dict[str, bytes] = {}   # listings written by this process, parsed only if read

    # -- objects --------------------------------------------------------------------------------
    def path(self, digest: str) -> Path:
        """The loose file of ``digest`` (its ``.z`` form when only that exists)."""
        raw = self.objects / digest[:2] / digest[2:]
        z = raw.with_name(raw.name + ".z")
        return z if not raw.exists() and z.exists() else raw

    def _final(self, digest: str, flag: int = RAW) -> str:
        return self._objects_s + digest[:2] + os.sep + digest[2:] + (".z" if flag == ZLIB else "")

    def _loose_exists(self, digest: str) -> bool:
        final = self._final(digest)
        return os.path.exists(final) or os.path.exists(final + ".z")

    def has(self, digest: str) -> bool:
        return digest in self._packed or self._loose_exists(digest)

    # -- writing: small batches as loose files, bigger ones as one pack ---------------------------
    def put(self, data: bytes, digest: str | None = None, *, force: bool = False, tree: bool = False) -> str:
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
                self._pack_fd is None and self._loose_exists(digest))):
            return digest
        self._pending_digests.add(digest)
        if self._pack_fd is None:
            if len(self._small) < PACK_ABOVE:
                self._small.append((digest, data, -1 if tree else None))   # encoded at flush, or packed in a block
                return digest
            self._open_pack()
        self._pack_raw(digest, data, tree)
        return digest

    def _pack_raw(self, digest: str, data: bytes, tree: bool = False) -> None:
        """Add a raw object to the pack being written: into the current block, or alone."""
        if self.compress and len(data) <= BLOCK_ITEM_MAX and not data.startswith(_COMPRESSED_MAGIC):
            self._block[tree].append((digest, data))
            self._block_raw[tree] += len(data)
            if self._block_raw[tree] >= BLOCK_BYTES:
                self._seal_block(tree)
            return
        stored, flag = encode_object(data) if self.compress else (data, RAW)
        self._append(digest, stored, flag)

    def _seal_block(self, tree: bool) -> None:
        """Compress the waiting small objects as one block (raw, one by one, when that does not pay)."""
        block, self._block[tree], self._block_raw[tree] = self._block[tree], [], 0
        if len(block) <= 1:
            for digest, data in block:
                self._append(digest, *encode_object(data))
            return
        joined = b"".join(data for _, data in block)
        packed = zlib.compress(joined, COMPRESS_LEVEL, _WBITS)
        if len(packed) >= COMPRESS_RATIO * len(joined):
            for digest, data in block:
                self._append(digest, data, RAW)
            return
        packed = seal_stored(self.cipher, packed, BLOCK_AAD)
        offset, inner = self._pack_offset, 0
        self._pack_buf.append(packed)
        self._pack_buffered += len(packed)
        self._pack_offset += len(packed)
        index = self._pack_index
        for digest, data in block:
            index[digest] = (offset, len(packed), BLOCK, inner, len(data))
            inner += len(data)
        if self._pack_buffered >= PACK_BUFFER:
            self._drain_pack()

    def _put_stored(self, digest: str, stored: bytes, flag: int) -> None:
        """Add an object already in its stored form (new, or copied by gc) to the batch."""
        self._pending_digests.add(digest)
        if self._pack_fd is None:
            if len(self._small) < PACK_ABOVE:
                self._small.append((digest, stored, flag))
                return
            self._open_pack()
        self._append(digest, stored, flag, sealed=True)

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
        for digest, data, flag in small:
            if flag is None or flag == -1:
                self._pack_raw(digest, data, flag == -1)
            else:
                self._append(digest, data, flag, sealed=True)

    def _append(self, digest: str, data: bytes, flag: int = RAW, sealed: bool = False) -> None:
        """Add a stored form to the pack (``sealed``: it already is, e.g. copied by gc)."""
        if not sealed:
            data = seal_stored(self.cipher, data, digest.encode())
        # Buffered: one write(2) per object was a third of a 100-file incremental checkpoint.
        self._pack_buf.append(data)
        self._pack_buffered += len(data)
        # Raw entries keep the original two fields, so the index reads as before compression.
        self._pack_index[digest] = (self._pack_offset, len(data), flag) if flag else (self._pack_offset, len(data))
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
            try:
                self._seal_block(False)
                self._seal_block(True)
            except BaseException:
                self.discard_pending()
                raise
            self._flush_pack()
        if not small:
            return
        pending = []
        try:
            for digest, data, flag in small:
                if flag is None or flag == -1:
                    data, flag = encode_object(data) if self.compress else (data, RAW)
                    data = seal_stored(self.cipher, data, digest.encode())
                name, fd = self._temp_name("obj")
                pending.append((name, digest, flag))
                try:
                    self._write_all(fd, data)
                    if len(small) <= 2:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            if len(small) > 2:
                _syncfs(self.tmp)
        except BaseException:
            for name, _, _ in pending:
                with contextlib.suppress(OSError):
                    os.unlink(name)
            raise
        folders: set[str] = set()
        fanout = self._fanout
        for tmp, digest, flag in pending:
            sub = digest[:2]
            if sub not in fanout:
                folder = self._objects_s + sub
                if not os.path.isdir(folder):
                    os.makedirs(folder, exist_ok=True)
                    folders.add(os.fspath(self.objects))
                fanout.add(sub)
            os.replace(tmp, self._final(digest, flag))
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
        _entries(self._packed, name, index)
        self._pack_names.add(name)

    def discard_pending(self) -> None:
        self._small = []
        self._block, self._block_raw = {False: [], True: []}, {False: 0, True: 0}
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
            found: dict = {}
            try:   # entries (offset, length) as before compression existed, or longer
                _entries(found, name, index)
            except (KeyError, TypeError, AttributeError, ValueError, IndexError):
                continue   # not an index this store writes: none of its objects count (verify says so)
            self._packed.update(found)
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
            name, offset, length, flag, inner, size = where
            if flag == BLOCK:
                with self._fd_lock:
                    block = self._blocks.pop((name, offset), None)
                    if block is not None:
                        self._blocks[(name, offset)] = block   # most recently used: last out
                if block is not None:
                    return self._slice(block, inner, size, digest)
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
            data = decode_object(open_stored(self.cipher, data, BLOCK_AAD if flag == BLOCK else digest.encode(), digest),
                                 flag, digest)
            if flag == BLOCK:
                blocks = self._blocks
                with self._fd_lock:
                    if (name, offset) not in blocks:
                        blocks[(name, offset)] = data
                        self._blocks_bytes += len(data)
                        while self._blocks_bytes > BLOCK_CACHE and len(blocks) > 1:
                            self._blocks_bytes -= len(blocks.pop(next(iter(blocks))))
                return self._slice(data, inner, size, digest)
            return data
        raise DamagedObject(digest, "missing")

    @staticmethod
    def _slice(block: bytes, inner: int, size: int, digest: str) -> bytes:
        if inner + size > len(block):
            raise DamagedObject(digest, "content does not match its hash (its compressed block is damaged)")
        return block[inner:inner + size]

    def get(self, digest: str, *, check: bool = True) -> bytes:
        """The stored bytes of ``digest``; raises ``DamagedObject`` if missing or corrupt."""
        if digest in self._packed:
            data = self._read_packed(digest)   # no failing open of a loose path first
        else:
            data = self._read_loose(digest)
            if data is None:
                data = self._read_packed(digest)
        if check and hash_bytes(data) != digest:
            raise DamagedObject(digest, "content does not match its hash")
        return data

    def _read_loose(self, digest: str) -> bytes | None:
        """A loose object's raw bytes (compressed ``.z`` or not), None when there is no loose copy."""
        for flag in (ZLIB, RAW):
            try:
                with open(self._final(digest, flag), "rb") as handle:
                    return decode_object(open_stored(self.cipher, handle.read(), digest.encode(), digest), flag, digest)
            except FileNotFoundError:
                continue
        return None

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
                by_pack.setdefault(where[0], []).append((where[1], where[2], where[3], where[4], where[5], digest))
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
                last: tuple[int, bytes | str] = (-1, b"")   # the block just read: its objects are next
                for offset, length, flag, inner, size, digest in objects:
                    if flag == BLOCK and last[0] == offset:
                        data = last[1]
                    else:
                        if offset != pos:
                            handle.seek(offset)
                        data = handle.read(length)
                        pos = offset + len(data)
                        if len(data) != length:
                            data = "truncated in its pack"
                        else:
                            try:   # the hash names the raw bytes
                                aad = BLOCK_AAD if flag == BLOCK else digest.encode()
                                data = decode_object(open_stored(self.cipher, data, aad, digest), flag, digest)
                            except DamagedObject as exc:
                                data = exc.why
                        if flag == BLOCK:
                            last = (offset, data)
                    if isinstance(data, str):
                        out[digest] = data
                        continue
                    if flag == BLOCK:
                        try:
                            data = self._slice(data, inner, size, digest)
                        except DamagedObject as exc:
                            out[digest] = exc.why
                            continue
                    if hash_bytes(data) != digest:
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
        """Where an object's stored bytes are: (file, offset, length). For tests and repair tools."""
        for flag in (RAW, ZLIB):
            final = Path(self._final(digest, flag))
            if final.exists():
                return final, 0, final.stat().st_size
        if digest not in self._packed:
            self._load_packs()
        name, offset, length = self._packed[digest][:3]
        return self.packs / f"{name}.pack", offset, length

    def is_compressed(self, digest: str) -> bool:
        """Whether ``digest`` is stored compressed (in a pack, or as a ``.z`` loose file)."""
        if digest not in self._packed:
            self._load_packs()
        where = self._packed.get(digest)
        if where is not None:
            return where[3] in (ZLIB, BLOCK)
        return os.path.exists(self._final(digest, ZLIB))

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
                blocks: dict[int, bytes | None] = {}
                with open(pack_path, "rb") as handle:
                    for digest in keep:
                        if digest in self._pending_digests:
                            continue   # also live in another pack rewritten in this pass
                        _, offset, length, flag, inner, isize = _entry(name, index[digest])
                        if flag != BLOCK:
                            # Copied as stored (compressed or not): no decompress/recompress round trip.
                            handle.seek(offset)
                            self._put_stored(digest, handle.read(length), flag)
                            continue
                        if offset not in blocks:
                            handle.seek(offset)
                            try:
                                blocks[offset] = decode_object(open_stored(self.cipher, handle.read(length), BLOCK_AAD,
                                                                           digest), BLOCK, digest)
                            except DamagedObject:
                                blocks[offset] = None   # damaged: verify has said so; nothing to save
                        block = blocks[offset]
                        if block is not None and inner + isize <= len(block):
                            self.put(block[inner:inner + isize], digest, force=True)
                self.flush()
            idx_path.unlink()
            pack_path.unlink()
            self.close_readers(name)
            self._pack_names.discard(name)
            for digest in index:
                if self._packed.get(digest, ("",))[0] == name:
                    del self._packed[digest]
            removed += len(index) - len(keep)
            freed += size - sum(dict((index[d][0], index[d][1]) for d in keep).values())   # a block counts once
        atomic.fsync_dir(self.packs)
        return removed, freed

    def all_objects(self) -> Iterable[tuple[str, Path]]:
        for sub in os.scandir(self.objects):
            if not sub.is_dir(follow_symlinks=False) or len(sub.name) != 2:
                continue
            for entry in os.scandir(sub.path):
                name = entry.name
                yield sub.name + (name[:-2] if name.endswith(".z") else name), Path(entry.path)
