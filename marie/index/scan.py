"""Walking the project folder: ``walk(root, matcher, ctx)`` yields an ``Entry`` per path kept.

Rules that keep a scan safe on real trees:
- symlinks are listed as kind "symlink" and never followed (so no loops, no escaping the root);
  a folder reached twice by (device, inode) (bind mounts) is not entered again;
- a folder that cannot be listed is reported once in ``walker.unreadable`` and skipped;
- a folder or file deleted while the scan runs is skipped silently;
- names that are not valid UTF-8 are kept as ``surrogateescape`` strings (round-trip to the disk).
Runs on a worker thread; ``ctx.check()`` lets the caller cancel, ``ctx.progress`` reports counts.
"""

from __future__ import annotations

import os
import stat as stat_module
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from marie.index.ignore import IGNORE_FILES, IgnoreMatcher
from marie.index.snapshot import Entry


@dataclass(frozen=True)
class Unreadable:
    """A folder the scan could not list, with the reason in words."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '.'}: {self.reason}"


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (folder not listed)"
    return f"cannot be listed ({exc.strerror or exc})"


def entry_of(rel: str, kind: str, st: os.stat_result) -> Entry:
    """The entry for ``rel`` from its ``lstat`` (a folder's size is always 0)."""
    return Entry(rel, kind, 0 if kind == "dir" else st.st_size, st.st_mtime_ns, stat_module.S_IMODE(st.st_mode),
                 st.st_ctime_ns)


def entry_for(root: str, rel: str) -> Entry | None:
    """The entry for one path, from ``lstat`` (None when it no longer exists)."""
    try:
        st = os.lstat(os.path.join(root, *rel.split("/")))
    except (FileNotFoundError, NotADirectoryError):
        return None
    mode = st.st_mode
    kind = "symlink" if stat_module.S_ISLNK(mode) else "dir" if stat_module.S_ISDIR(mode) else "file"
    return entry_of(rel, kind, st)


def kept_item(item: os.DirEntry, rel: str, matcher: IgnoreMatcher, chain: tuple) -> tuple[str, os.stat_result] | None:
    """``(kind, lstat)`` of a listed item the rules keep; None when ignored or vanished since."""
    try:
        if item.is_symlink():
            kind = "symlink"
        elif item.is_dir(follow_symlinks=False):
            kind = "dir"
        else:
            kind = "file"
        if matcher.decide(rel, item.name, kind == "dir", chain):
            return None
        return kind, item.stat(follow_symlinks=False)
    except OSError:
        return None   # vanished between listing and stat (or cannot be stat'ed)


class Walker:
    """An iterator over the entries under ``root``; ``unreadable`` fills as it goes."""

    def __init__(self, root: Path | str, matcher: IgnoreMatcher, ctx=None, start: str = "",
                 inodes: dict[str, int] | None = None) -> None:
        self.root = os.fspath(root)
        self.matcher = matcher
        self.ctx = ctx
        self.start = start.strip("/")
        self.unreadable: list[Unreadable] = []
        self.count = 0
        # For the stored snapshot: when the walk began, the start folder's own stat, and (when
        # ``inodes`` is given) each folder's inode, all read BEFORE the folder was listed.
        self.started_ns = time.time_ns()
        self.top: os.stat_result | None = None
        self.inodes = inodes
        self._seen_dirs: set[tuple[int, int]] = set()
        self._iter = self._walk()

    def __iter__(self) -> "Walker":
        return self

    def __next__(self) -> Entry:
        return next(self._iter)

    def _walk(self) -> Iterator[Entry]:
        matcher, ctx = self.matcher, self.ctx
        start_chain: tuple = ()
        if self.start:
            parts = self.start.split("/")
            for depth in range(len(parts)):
                start_chain = matcher.chain("/".join(parts[:depth]), start_chain)
        # Each stack item holds the folder and its PARENT's rule chain; the folder's own rules are
        # added once its listing shows whether it has an ignore file (no blind open() per folder).
        stack: list[tuple[str, tuple]] = [(self.start, start_chain)]
        try:
            self.top = top = os.stat(os.path.join(self.root, self.start) if self.start else self.root)
            self._seen_dirs.add((top.st_dev, top.st_ino))
        except OSError:
            pass
        reported: set[str] = set()
        while stack:
            folder, parent_chain = stack.pop()
            if ctx is not None:
                ctx.check()
                ctx.progress(self.count, None, f"scanning {folder or '.'}")
            disk = os.path.join(self.root, folder) if folder else self.root
            prefix = folder + "/" if folder else ""
            try:
                with os.scandir(disk) as it:
                    items = list(it)
            except (FileNotFoundError, NotADirectoryError):
                continue  # deleted (or replaced by a file) while we were scanning
            except OSError as exc:
                if folder not in reported:
                    reported.add(folder)
                    self.unreadable.append(Unreadable(folder, _reason(exc)))
                continue
            has_rules = any(item.name in IGNORE_FILES for item in items)
            chain = matcher.chain(folder, parent_chain, has_rules)
            for item in items:
                rel = prefix + item.name
                kept = kept_item(item, rel, matcher, chain)
                if kept is None:
                    continue
                kind, st = kept
                if kind == "dir":
                    key = (st.st_dev, st.st_ino)
                    if key in self._seen_dirs:
                        continue  # the same folder again (bind mount): entering it would loop
                    self._seen_dirs.add(key)
                    if self.inodes is not None:
                        self.inodes[rel] = st.st_ino
                    stack.append((rel, chain))
                self.count += 1
                yield entry_of(rel, kind, st)


def walk(root: Path | str, matcher: IgnoreMatcher, ctx=None, start: str = "",
         inodes: dict[str, int] | None = None) -> Walker:
    """Iterate the entries under ``root`` (or under its sub-folder ``start``). Worker thread."""
    return Walker(root, matcher, ctx, start, inodes)
