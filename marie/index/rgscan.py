"""Paths first: the project's file list from ``rg --files``, as fast as ripgrep itself.

ripgrep walks the tree on all cores in native code and applies the same ignore rules as
``IgnoreMatcher`` (nested ``.gitignore`` and ``.ignore``, ``.git/info/exclude``, also outside git with
``--no-require-git``; parent folders' and the global ignore files are not read, as in the matcher; the
user's excludes become ``--glob !pattern``). ``list_files`` streams its NUL-separated output and turns
it into a first snapshot while rg is still walking: files (size and mtime unknown, 0) plus the folders
their paths imply. The Python walker (``scan.walk``) then produces the complete, authoritative
snapshot in the background: symlinks (rg does not list them), empty folders, unreadable folders,
sizes and mtimes. Names that are not UTF-8 decode with ``surrogateescape`` (as ``os.scandir`` does).

Worker thread; ``list_files`` returns None when rg cannot run so the caller falls back to the walker.
"""

from __future__ import annotations

import os
import subprocess
from typing import Iterable

from marie.index.ignore import ALWAYS_SKIPPED, IgnoreMatcher

_CHUNK = 1 << 16


def rg_files_command(rg: str, excludes: Iterable[str]) -> list[str]:
    """The ``rg --files`` command line whose rules match ``IgnoreMatcher``'s."""
    cmd = [rg, "--files", "--hidden", "--no-require-git", "--no-ignore-parent", "--no-ignore-global",
           "--no-config", "--null", "--no-messages"]
    for pattern in dict.fromkeys([*ALWAYS_SKIPPED, *excludes]):
        pattern = pattern.strip()
        if pattern:
            cmd += ["--glob", "!" + pattern]
    return cmd


def list_files(root: str, matcher: IgnoreMatcher, ctx=None) -> dict[str, str] | None:
    """``{path: kind}`` for every file rg lists ("file") and the folders above them ("dir").

    None when rg is unavailable. Kinds, not ``Entry`` objects: building 100k frozen dataclasses
    would cost more than rg's whole walk, so ``LazyEntries`` makes them on access.
    """
    try:
        from marie.index.search import SearchError, rg_binary

        rg = rg_binary()
    except (ImportError, SearchError):
        return None
    cmd = rg_files_command(rg, getattr(matcher, "extra_excludes", ()))
    try:
        proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL)
    except OSError:
        return None
    kinds: dict[str, str] = {}
    dirs: set[str] = set()
    tail = b""
    assert proc.stdout is not None
    try:
        read = proc.stdout.read1
        while True:
            chunk = read(_CHUNK)
            if not chunk:
                break
            if ctx is not None:
                ctx.check()
            # Decode a whole chunk in one call (cut at the last NUL so no name is split).
            cut = chunk.rfind(b"\0")
            if cut < 0:
                tail += chunk
                continue
            paths = (tail + chunk[:cut]).decode("utf-8", "surrogateescape").split("\0")
            tail = chunk[cut + 1:]
            kinds.update(dict.fromkeys(paths, "file"))
            for path in paths:
                # The folders above it, stopping at the first one already known.
                cut = path.rfind("/")
                while cut > 0:
                    folder = path[:cut]
                    if folder in dirs:
                        break
                    dirs.add(folder)
                    cut = path.rfind("/", 0, cut)
        if tail:
            kinds[tail.decode("utf-8", "surrogateescape")] = "file"
    finally:
        if proc.poll() is None:
            proc.kill()        # cancelled (ctx.check raised) or failed mid-way
        proc.stdout.close()
        proc.wait()
    if proc.returncode not in (0, 1, 2):   # 1: nothing listed, 2: some folders unreadable
        return None
    kinds.update(dict.fromkeys(dirs, "dir"))
    return kinds
