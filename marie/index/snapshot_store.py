"""The last complete snapshot on disk, so that reopening a project need not walk the tree again.

What is stored is what ``reopen.revalidate`` needs to prove the listing still holds: every entry with
its ``lstat`` fields (and folders' inodes), grouped by folder, each folder's stat taken BEFORE it was
listed, when the walk began, the ignore files the rules came from (stat'ed before they were read) and
a fingerprint of everything else the listing depends on (excludes, root, enclosing repository).

One binary file, replaced atomically (``marie.core.atomic``), little work to read back:

    MAGIC, u32 header length, JSON header (format version, counts, byte order, the rest above)
    paths      NUL-separated UTF-8 (``surrogateescape``), grouped by folder
    kinds      one byte per entry (0 file, 1 folder, 2 symlink)
    size, mtime_ns, ctime_ns, mode, ino          int64 arrays, one value per entry
    folders    int64 arrays: entry index of each folder (-1: the root), start and count of its children
    CRC-32 of everything before it

A file that is missing, truncated, of another version or whose checksum fails loads as None with
the reason in words; the caller then walks the tree (never half-trusts a store).
Threads: ``save`` and ``load`` run on the caller's thread (the index worker or the CLI).
"""

from __future__ import annotations

import json
import os
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from itertools import compress, groupby, repeat
from operator import itemgetter
from pathlib import Path
from typing import Mapping

from marie.core import atomic
from marie.index.ignore import ALWAYS_SKIPPED, IGNORE_FILES, IgnoreMatcher, enclosing_repository
from marie.index.compact import DIR_MASK, CompactEntries
from marie.index.snapshot import Entry

MAGIC = b"MARIE-SNAPSHOT\n\0"
FORMAT = 1                  # bump when the layout or what decides the listing (ignore semantics) changes
_STAT_FIELDS = ("size", "mtime", "ctime", "mode", "ino")
_SLICE = 8192               # paths encoded/decoded a slice at a time: one C call over 1M holds the GIL


def fingerprint(root: str, matcher: IgnoreMatcher) -> dict:
    """What the listing depends on besides the ignore files and folder contents: a different value
    on reopen means the stored listing cannot be trusted at all."""
    resolved = Path(root)
    try:
        resolved = resolved.resolve()
    except OSError:
        pass
    git = resolved / ".git"
    return {"format": FORMAT, "root": root, "excludes": list(matcher.extra_excludes),
            "skipped": sorted(ALWAYS_SKIPPED), "rule_names": list(IGNORE_FILES),
            "git": "dir" if git.is_dir() else "file" if git.exists() else None,
            "repository": str(enclosing_repository(resolved) or "")}


@dataclass
class ScanRecord:
    """What a walk saw besides its entries, for the store: when it began (ns, wall clock), the root's
    stat and each folder's inode, all taken before the folders were listed."""

    started_ns: int
    root_stat: tuple[int, int, int]          # (mtime_ns, ctime_ns, ino)
    inodes: dict[str, int]


@dataclass
class Stored:
    """A stored snapshot as loaded: the header and the per-entry arrays (see the module doc)."""

    header: dict
    paths: list[str]
    kinds: bytes
    size: array
    mtime: array
    ctime: array
    mode: array
    ino: array
    folder_entry: array       # entry index of each folder, -1 for the root
    folder_start: array
    folder_count: array

    def __len__(self) -> int:
        return len(self.paths)


def rule_reads(matcher: IgnoreMatcher, root: str, folders: Mapping[str, object]) -> dict:
    """The matcher's ignore-file reads worth keeping: those above the root and those in folders
    still in the snapshot (a folder deleted during the session would only force a needless walk)."""
    prefix = root.rstrip(os.sep) + os.sep
    kept = {}
    for path, stat in list(matcher.reads.items()):
        if path.startswith(prefix):
            folder = os.path.dirname(path[len(prefix):]).replace(os.sep, "/")
            if folder and folder != ".git/info" and folder not in folders:
                continue
        kept[path] = list(stat) if stat is not None else None
    return kept


def save(path: Path, entries: Mapping[str, Entry], record: ScanRecord, unreadable: list[str],
         header_extra: dict) -> bool:
    """Write the snapshot ``entries`` (complete, from a walk or a revalidation) to ``path``.
    False when the entries are not a consistent tree (a parent missing): nothing is written.

    Both producers give a folder's children one after another, so the folder table is read off the
    rows as they are (a folder met twice simply has two spans); nothing is sorted."""
    cols = entries if isinstance(entries, CompactEntries) else CompactEntries.of(entries.values())
    paths, kinds = cols.paths, cols.kinds
    n = len(paths)
    parents: list[str] = []
    for i in range(0, n, _SLICE):      # C-level maps a slice at a time (no long hold of the GIL)
        parents += map(itemgetter(0), map(str.rpartition, paths[i:i + _SLICE], repeat("/")))
    dir_rows = list(compress(range(n), kinds.translate(DIR_MASK)))
    row_of = dict(zip(map(paths.__getitem__, dir_rows), dir_rows))
    folder_entry, folder_start, folder_count = array("q"), array("q"), array("q")
    at = 0
    listed: set[str] = set()
    for parent, run in groupby(parents):
        count = sum(1 for _ in run)
        row = row_of.get(parent, -2) if parent else -1
        if row == -2:
            return False
        folder_entry.append(row)
        folder_start.append(at)
        folder_count.append(count)
        listed.add(parent)
        at += count
    for folder, row in row_of.items():
        if folder not in listed:            # an empty folder: no span, but its stat is checked
            folder_entry.append(row)
            folder_start.append(0)
            folder_count.append(0)
    if "" not in listed:
        folder_entry.append(-1)
        folder_start.append(0)
        folder_count.append(0)
    ino = array("q", bytes(8 * n))
    inodes = record.inodes
    for folder, row in row_of.items():
        ino[row] = inodes.get(folder, 0)
    blob = b"\0".join("\0".join(paths[i:i + _SLICE]).encode("utf-8", "surrogateescape")
                      for i in range(0, n, _SLICE))
    header = {**header_extra, "format": FORMAT, "byteorder": sys.byteorder, "entries": n,
              "folders": len(folder_entry), "paths_bytes": len(blob), "started_ns": record.started_ns,
              "root_stat": list(record.root_stat), "unreadable": list(unreadable)}
    head = json.dumps(header).encode("utf-8")
    columns = {"size": cols.size, "mtime": cols.mtime, "ctime": cols.ctime, "mode": cols.mode, "ino": ino}
    parts = [MAGIC, struct.pack("<I", len(head)), head, blob, bytes(kinds)]
    parts += [columns[name].tobytes() for name in _STAT_FIELDS]
    parts += [folder_entry.tobytes(), folder_start.tobytes(), folder_count.tobytes()]
    data = b"".join(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, data + struct.pack("<I", zlib.crc32(data)))
    return True


def load(path: Path) -> tuple[Stored | None, str]:
    """The stored snapshot at ``path`` and "" , or None and why it cannot be used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "no stored snapshot"
    except OSError as exc:
        return None, f"stored snapshot unreadable ({exc.strerror or exc})"
    try:
        return _parse(data), ""
    except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError, OverflowError) as exc:
        return None, f"stored snapshot unusable ({exc})"


def _parse(data: bytes) -> Stored:
    if len(data) < len(MAGIC) + 8 or not data.startswith(MAGIC):
        raise ValueError("not a snapshot file")
    body, (crc,) = data[:-4], struct.unpack("<I", data[-4:])
    if zlib.crc32(body) != crc:
        raise ValueError("checksum mismatch (truncated or corrupt)")
    at = len(MAGIC)
    (head_len,) = struct.unpack_from("<I", body, at)
    at += 4
    header = json.loads(body[at:at + head_len].decode("utf-8"))
    at += head_len
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("another format version")
    n, folders, blob_len = int(header["entries"]), int(header["folders"]), int(header["paths_bytes"])
    if len(body) != at + blob_len + n + 8 * n * len(_STAT_FIELDS) + 8 * 3 * folders:
        raise ValueError("sections do not add up")
    blob = body[at:at + blob_len]
    at += blob_len
    paths: list[str] = []
    if n:
        # Decoded a slice at a time: cut at a NUL about every 256 KiB.
        start = 0
        while start <= len(blob):
            cut = blob.find(b"\0", start + (1 << 18))
            end = len(blob) if cut < 0 else cut
            paths += blob[start:end].decode("utf-8", "surrogateescape").split("\0")
            start = end + 1
    if len(paths) != n:
        raise ValueError("path count does not match")
    kinds = body[at:at + n]
    at += n
    if kinds.translate(None, b"\0\1\2"):
        raise ValueError("unknown entry kind")
    columns: list[array] = []
    for _ in range(len(_STAT_FIELDS) + 3):
        count = folders if len(columns) >= len(_STAT_FIELDS) else n
        column = array("q")
        column.frombytes(body[at:at + 8 * count])
        if header["byteorder"] != sys.byteorder:
            column.byteswap()
        columns.append(column)
        at += 8 * count
    size, mtime, ctime, mode, ino, folder_entry, folder_start, folder_count = columns
    for entry, start, count in zip(folder_entry, folder_start, folder_count):
        if not (-1 <= entry < n and 0 <= start and start + count <= n) or (entry >= 0 and kinds[entry] != 1):
            raise ValueError("folder table out of range")
    return Stored(header, paths, kinds, size, mtime, ctime, mode, ino, folder_entry, folder_start, folder_count)
