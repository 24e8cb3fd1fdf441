"""Reopening a project from its stored snapshot: the complete snapshot without walking the tree.

A folder's listing changes only together with its stat: adding, removing or renaming an entry
updates the folder's mtime and ctime (and no user call can set ctime back), and a folder replaced by
another has another inode. So ``revalidate`` re-stats every stored folder, top down:

- a folder whose (mtime, ctime, inode) are those stored keeps its stored children, each ``lstat``-ed
  again (a file edited in place changes only its own stat, so every entry's stat is read fresh);
- any other folder (or one that was unreadable, or whose child vanished) is listed again with the
  ignore rules, as the walker would list it; a new sub-folder is walked whole.

The listing also depends on the rules: the ignore files read are re-stat'ed first, and the walk
falls back (None, with the reason) when one changed, when a re-listed folder gained or lost one, or
when the excludes, the root or the enclosing repository changed (``snapshot_store.fingerprint``).

Racy stats: a timestamp has a coarse granularity (a clock tick; two seconds on FAT), so a change made
in the same tick as the stat would leave the stat equal. A folder (or ignore file) whose mtime or
ctime is within ``RACY_NS`` of the moment it was stat'ed is therefore never trusted (as git treats
"racily clean" index entries). Worker thread (``ctx.check()`` cancels).
"""

from __future__ import annotations

import os
import stat as stat_module
import time
from array import array
from dataclasses import dataclass, field
from itertools import repeat
from operator import and_, attrgetter, mul

from marie.index.ignore import IGNORE_FILES, IgnoreMatcher
from marie.index.scan import Unreadable, _reason, entry_of, kept_item, walk
from marie.index.compact import NON_DIR_MASK, Columns, CompactEntries
from marie.index.snapshot_store import ScanRecord, Stored, fingerprint

RACY_NS = 3_000_000_000     # above FAT's 2 s granularity; ext4/xfs/btrfs/tmpfs tick in milliseconds
_KIND_CODE = {stat_module.S_IFDIR: 1, stat_module.S_IFLNK: 2}   # anything else: a file (0)
_FORMAT_BITS = 0o170000
_SIZE, _MTIME = attrgetter("st_size"), attrgetter("st_mtime_ns")
_MODE, _CTIME = attrgetter("st_mode"), attrgetter("st_ctime_ns")


@dataclass
class Reopened:
    """The complete entries, as a walk would give them, and what it took."""

    entries: CompactEntries
    unreadable: list[Unreadable]
    record: ScanRecord
    trusted: int = 0             # folders whose stored listing held
    relisted: list[str] = field(default_factory=list)   # folders listed again
    walked: int = 0              # entries found in new folders (walked whole)


def revalidate(root: str, matcher: IgnoreMatcher, stored: Stored, ctx=None,
               racy_ns: int | None = None) -> tuple[Reopened | None, str]:
    """The current entries from ``stored`` and the disk, or None and why the tree must be walked.
    ``racy_ns``: the margin (``RACY_NS`` when None, read at call time)."""
    racy_ns = RACY_NS if racy_ns is None else racy_ns
    header = stored.header
    if header.get("fingerprint") != fingerprint(root, matcher):
        return None, "the excludes, the root or the enclosing repository changed"
    started = time.time_ns()
    rules = header.get("rules") or {}
    for path, was in rules.items():
        now = _rule_stat(path)
        if was is None:
            if now is not None:
                return None, f"an ignore file appeared: {path}"
        elif now is None or list(now) != was[:4] or max(was[1], was[2]) >= was[4] - racy_ns:
            return None, f"an ignore file changed: {path}"
    rule_names = _rule_names(root, rules)
    return _Reopen(root, matcher, stored, ctx, racy_ns, started, rule_names).run()


def _rule_stat(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _rule_names(root: str, rules: dict) -> dict[str, set[str]]:
    """``{folder: names of the ignore files it held}`` for folders inside the root."""
    prefix = root.rstrip(os.sep) + os.sep
    names: dict[str, set[str]] = {}
    for path, was in rules.items():
        if was is not None and path.startswith(prefix):
            folder, _, name = path[len(prefix):].replace(os.sep, "/").rpartition("/")
            names.setdefault(folder, set()).add(name)
    return names


class _Fallback(Exception):
    """The stored listing cannot be trusted below some folder: walk the tree instead."""


class _Reopen:
    def __init__(self, root: str, matcher: IgnoreMatcher, stored: Stored, ctx, racy_ns: int, started: int,
                 rule_names: dict[str, set[str]]) -> None:
        self.root = root
        self.prefix = root.rstrip(os.sep) + os.sep
        self.matcher = matcher
        self.stored = stored
        self.ctx = ctx
        self.rule_names = rule_names
        self.unreadable_before = set(stored.header.get("unreadable") or ())
        # A stored folder is trusted only when its stat is older than the stat read then by a margin.
        self.trust_before = int(stored.header["started_ns"]) - racy_ns
        self.inodes: dict[str, int] = {}
        self.seen: set[tuple[int, int]] = set()      # (device, inode) of the folders kept
        self.out = Columns()
        self.unreadable: list[Unreadable] = []
        self.result = Reopened(CompactEntries([], b"", *(array("q") for _ in range(4))), self.unreadable,
                               ScanRecord(started, (0, 0, 0), self.inodes))
        self._chains: dict[str, tuple] = {}
        # folder path -> its rows in the folder table (a folder may have several spans of children)
        self.rows: dict[str, list[int]] = {}
        for row, at in enumerate(stored.folder_entry):
            self.rows.setdefault("" if at < 0 else stored.paths[at], []).append(row)

    def run(self) -> tuple[Reopened | None, str]:
        try:
            top = os.stat(self.root)
        except OSError as exc:
            return None, f"the project folder cannot be read ({exc.strerror or exc})"
        self.result.record.root_stat = (top.st_mtime_ns, top.st_ctime_ns, top.st_ino)
        try:
            self._walk(top)
        except _Fallback as why:
            return None, str(why)
        self.result.entries = self.out.freeze()
        return self.result, ""

    def _trusted(self, row: int, folder: str, st: os.stat_result) -> bool:
        stored = self.stored
        at = stored.folder_entry[row]
        if at < 0:
            mtime, ctime, ino = stored.header["root_stat"]
        else:
            mtime, ctime, ino = stored.mtime[at], stored.ctime[at], stored.ino[at]
        return (st.st_mtime_ns == mtime and st.st_ctime_ns == ctime and st.st_ino == ino
                and max(mtime, ctime) < self.trust_before and folder not in self.unreadable_before)

    def _walk(self, top: os.stat_result) -> None:
        stored, out, inodes = self.stored, self.out, self.inodes
        paths, kinds = stored.paths, stored.kinds
        starts, counts = stored.folder_start, stored.folder_count
        prefix, lstat, code_of = self.prefix, os.lstat, _KIND_CODE.get
        ctx, seen = self.ctx, self.seen
        seen.add((top.st_dev, top.st_ino))
        stack: list[tuple[str, os.stat_result]] = [("", top)]
        while stack:
            folder, st = stack.pop()
            if ctx is not None:
                ctx.check()
                ctx.progress(len(out.paths), None, f"checking {folder or '.'}")
            rows = self.rows.get(folder)
            if rows is None or not self._trusted(rows[0], folder, st):
                self._relist(folder, stack)
                continue
            spans = [(starts[row], starts[row] + counts[row]) for row in rows]
            pushed = len(stack)
            stats: list[os.stat_result] = []
            keep = stats.append
            try:
                # Only the lstat and the kind check per entry here: the paths and kinds are the
                # stored ones (sliced in below), the stat fields are taken out by C-level maps.
                for begin, end in spans:
                    for i in range(begin, end):
                        cst = lstat(prefix + paths[i])
                        code = code_of(cst.st_mode & _FORMAT_BITS, 0)
                        if code != kinds[i]:
                            raise FileNotFoundError(paths[i])   # replaced by another kind: the folder changed
                        keep(cst)
                        if code == 1:
                            rel = paths[i]
                            inodes[rel] = cst.st_ino
                            seen.add((cst.st_dev, cst.st_ino))
                            stack.append((rel, cst))
            except OSError:
                # A child vanished or changed kind although the folder's stat held (a racy stat):
                # forget what this folder gave and list it again.
                for rel, _ in stack[pushed:]:
                    inodes.pop(rel, None)
                del stack[pushed:]
                self._relist(folder, stack)
                continue
            at = 0
            for begin, end in spans:
                out.paths += paths[begin:end]
                out.kinds += kinds[begin:end]
                # A folder's size is stored as 0 (as the walker does): sizes times 1 for non-folders.
                out.size.extend(map(mul, map(_SIZE, stats[at:at + end - begin]), kinds[begin:end].translate(NON_DIR_MASK)))
                at += end - begin
            out.mtime.extend(map(_MTIME, stats))
            out.mode.extend(map(and_, map(_MODE, stats), repeat(0o7777)))
            out.ctime.extend(map(_CTIME, stats))
            self.result.trusted += 1

    def _chain(self, folder: str) -> tuple:
        """The rule chain of ``folder``'s parent (what the walker's stack holds), built root down."""
        chain: tuple = ()
        parts = folder.split("/") if folder else []
        for depth in range(len(parts)):
            key = "/".join(parts[:depth])
            cached = self._chains.get(key)
            if cached is None:
                cached = self._chains[key] = self.matcher.chain(key, chain)
            chain = cached
        return chain

    def _relist(self, folder: str, stack: list) -> None:
        """List ``folder`` again as the walker would; its stored sub-folders go back on ``stack`` to be
        checked on their own, new ones are walked whole."""
        self.result.relisted.append(folder)
        matcher, out = self.matcher, self.out
        disk = os.path.join(self.root, *folder.split("/")) if folder else self.root
        try:
            with os.scandir(disk) as it:
                items = list(it)
        except (FileNotFoundError, NotADirectoryError):
            return           # deleted after its parent was listed, as the walker skips it
        except OSError as exc:
            self.unreadable.append(Unreadable(folder, _reason(exc)))
            return
        present = {item.name for item in items if item.name in IGNORE_FILES}
        if present != self.rule_names.get(folder, set()):
            raise _Fallback(f"ignore files were added or removed in {folder or 'the project folder'}")
        chain = matcher.chain(folder, self._chain(folder), bool(present))
        self._chains[folder] = chain
        prefix = folder + "/" if folder else ""
        new_dirs = []
        for item in items:
            rel = prefix + item.name
            kept = kept_item(item, rel, matcher, chain)
            if kept is None:
                continue
            kind, st = kept
            if kind != "dir":
                out.add(entry_of(rel, kind, st))
                continue
            key = (st.st_dev, st.st_ino)
            if key in self.seen:
                continue     # the same folder again (bind mount), as the walker skips it
            self.seen.add(key)
            out.add(entry_of(rel, "dir", st))
            self.inodes[rel] = st.st_ino
            if rel in self.rows:
                stack.append((rel, st))
            else:
                new_dirs.append(rel)
        for rel in new_dirs:        # after the folder's own children: they stay one span
            self._walk_new(rel)

    def _walk_new(self, folder: str) -> None:
        """A folder the store does not know: walked whole, as a scan would."""
        walker = walk(self.root, self.matcher, self.ctx, start=folder, inodes=self.inodes)
        add = self.out.add
        for entry in walker:
            add(entry)
            self.result.walked += 1
        self.unreadable.extend(walker.unreadable)
