"""How checkpoint objects are named and stored: hashes, compression, listing encoding, pack index
entries, and (when encryption at rest is on) sealing of the stored bytes.

The objects layer (``store.ObjectStore``) calls these; they touch no files. See ``store`` for the
on-disk layout and why objects are compressed, alone or in blocks. Sealing: with a cipher, every
stored form (a loose file, a pack entry, a compressed block) is AES-GCM sealed with the object's
hash (``b"block"`` for a block of several) as associated data, so a blob moved to another name fails
to open; hashes still name the raw bytes, and reading checks them as before. Any thread.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from typing import Iterable

from marie.checkpoints.errors import DamagedObject

HASH_HEX = 40
TREE_CACHE = 8192         # folder listings kept in memory (immutable, so never stale)
PACK_ABOVE = 16          # a batch of more new objects than this is written as one pack file
PACK_BUFFER = 8 << 20    # a pack's objects are gathered in memory and written in pieces this big
COMPRESS_LEVEL = 1       # zlib's fastest level: most of the gain on source text at a fraction of the cost
COMPRESS_MIN = 64        # smaller objects are stored raw (deflate's overhead eats the gain)
COMPRESS_RATIO = 0.9     # compressed only when the result is under this share of the raw size
COMPRESS_SAMPLE = 64 << 10   # bigger objects are first judged on a trial of this many leading bytes
RAW, ZLIB, BLOCK = 0, 1, 2   # how an object is stored: as is, compressed alone, in a compressed block
BLOCK_BYTES = 64 << 10   # a pack's small objects are compressed together in blocks of about this size
BLOCK_ITEM_MAX = 16 << 10   # bigger objects are compressed alone (encode_object)
BLOCK_CACHE = 32 << 20   # decompressed blocks kept (least recently used out): all the folder listings
                         # of a 100k-file tree fit, so verify and gc walk every checkpoint's trees
                         # without decompressing a block per listing
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x28\xb5\x2f\xfd",
                     b"\xfd7zXZ", b"BZh", b"7z\xbc\xaf", b"wOF2", b"RIFF", b"OggS", b"fLaC", b"ID3")
_WBITS = -15             # raw deflate: no zlib header or adler32 (the BLAKE2b hash checks the content)


def hash_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=HASH_HEX // 2).hexdigest()


def encode_object(data: bytes) -> tuple[bytes, int]:
    """How ``data`` is stored: (stored bytes, RAW or ZLIB). Compressed only when that saves at
    least a tenth and it does not start like a compressed format; a big object is tried on its first ``COMPRESS_SAMPLE`` bytes first, so an image
    or archive (already compressed) is not compressed in full only to be thrown away."""
    size = len(data)
    if size < COMPRESS_MIN or data.startswith(_COMPRESSED_MAGIC):
        return data, RAW
    if size > 4 * COMPRESS_SAMPLE:
        head = memoryview(data)[:COMPRESS_SAMPLE]
        if len(zlib.compress(head, COMPRESS_LEVEL, _WBITS)) >= COMPRESS_RATIO * COMPRESS_SAMPLE:
            return data, RAW
    packed = zlib.compress(data, COMPRESS_LEVEL, _WBITS)
    if len(packed) < COMPRESS_RATIO * size:
        return packed, ZLIB
    return data, RAW


_PAD = {2: (RAW, 0, 0), 3: (0, 0), 5: ()}   # index entry length -> what _entry appends


def _entries(packed: dict, name: str, index: dict) -> None:
    """``packed[digest] = _entry(name, where)`` for a whole pack index, at C speed (a first
    checkpoint's index has ~110k entries and every process start reads them all)."""
    pad = _PAD
    for digest, where in index.items():
        packed[digest] = (name,) + where + pad[len(where)]


def _entry(name: str, where: tuple) -> tuple[str, int, int, int, int, int]:
    """A pack index entry as (pack, offset, length, flag, offset in block, length in block):
    ``(offset, length)`` (raw, as written before compression existed), ``(offset, length, ZLIB)``
    or ``(block offset, block length, BLOCK, offset in block, length)``."""
    n = len(where)
    return (name, where[0], where[1], where[2] if n > 2 else RAW, where[3] if n > 3 else 0, where[4] if n > 4 else 0)


def decode_object(stored: bytes, flag: int, digest: str) -> bytes:
    """The raw bytes of a stored object; raises ``DamagedObject`` if compressed data is broken."""
    if flag == RAW:
        return stored
    try:   # ZLIB, or a whole BLOCK
        return zlib.decompress(stored, _WBITS)
    except zlib.error:
        raise DamagedObject(digest, "content does not match its hash (its compressed data is damaged)") from None


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


SEAL_MAGIC = b"MRE1"     # marie.governance.crypto.MAGIC (kept literal: this module must not import governance)
BLOCK_AAD = b"block"


def seal_stored(cipher, stored: bytes, aad: bytes) -> bytes:
    """The stored form as written: sealed when there is a cipher."""
    return stored if cipher is None else cipher.seal(stored, aad)


def open_stored(cipher, data: bytes, aad: bytes, digest: str) -> bytes:
    """Undo ``seal_stored``; a damaged, swapped or wrong-key blob is a ``DamagedObject``. Objects
    written before encryption was turned on are plain and still read (their hash checks them)."""
    if data[:4] != SEAL_MAGIC:
        return data
    if cipher is None:
        raise DamagedObject(digest, "encrypted, and encryption at rest is off here (no key to read it)")
    try:
        return cipher.open(data, aad, what="the stored object")
    except Exception as exc:   # crypto.Tampered / WrongKey: say which
        raise DamagedObject(digest, f"unreadable: {exc}") from None
