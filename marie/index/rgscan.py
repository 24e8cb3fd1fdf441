"""Paths first: the project's file list from ``rg --files``, as fast as ripgrep itself.

ripgrep walks the tree on all cores in native code and applies the same ignore rules as
``IgnoreMatcher`` (nested ``.gitignore`` and ``.ignore``, ``.git/info/exclude``, also outside git with
``--no-require-git``; the global ignore files are not read, as in the matcher, nor parent folders' unless
the root is a subfolder of a git repository, where the matcher reads them too; the
user's excludes become ``--glob !pattern``). ``list_files`` streams its NUL-separated output into the
path list while rg is still walking; it is published at once as a first snapshot (size and mtime
unknown, 0) whose folders (implied by the paths) are derived on first need. The Python walker (``scan.walk``) then produces the complete, authoritative
snapshot in the background: symlinks (rg does not list them), empty folders, unreadable folders,
sizes and mtimes. Names that are not UTF-8 decode with ``surrogateescape`` (as ``os.scandir`` does).

Worker thread; ``list_files`` returns None when rg cannot run so the caller falls back to the walker.
"""

from __future__ import annotations

import os
import subprocess
from typing import Iterable

from marie.index.ignore import ALWAYS_SKIPPED, IgnoreMatcher

_CHUNK = 1 << 20


def rg_files_command(rg: str, excludes: Iterable[str], parents: bool = False) -> list[str]:
    """The ``rg --files`` command line whose rules match ``IgnoreMatcher``'s (``parents``: the
    ignore files above the root apply, the root being a subfolder of a git repository)."""
    cmd = [rg, "--files", "--hidden", "--no-require-git", "--no-ignore-global",
           "--no-config", "--null", "--no-messages"]
    if not parents:
        cmd.insert(4, "--no-ignore-parent")
    for pattern in dict.fromkeys([*ALWAYS_SKIPPED, *excludes]):
        pattern = pattern.strip()
        if pattern:
            cmd += ["--glob", "!" + pattern]
    return cmd


def list_files(root: str, matcher: IgnoreMatcher, ctx=None) -> list[str] | None:
    """Every file rg lists (rel POSIX paths, in rg's order); None when rg is unavailable.

    Just the paths: the folders above them (``snapshot.folders_of``) and the ``{path: kind}`` map are left
    to ``LazyEntries``, so the listing can be published the moment rg is done. rg's pipe is widened
    and read a megabyte at a time, so ripgrep's walker never waits on us while we split a chunk.
    """
    try:
        from marie.index.search import SearchError, _widen_pipe, rg_binary

        rg = rg_binary()
    except (ImportError, SearchError):
        return None
    cmd = rg_files_command(rg, getattr(matcher, "extra_excludes", ()), getattr(matcher, "reads_parent_rules", False))
    try:
        proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, bufsize=0)
    except OSError:
        return None
    files: list[str] = []
    tail = b""
    assert proc.stdout is not None
    try:
        _widen_pipe(proc.stdout)
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            if ctx is not None:
                ctx.check()
            # Decode a whole chunk in one call (cut at the last NUL so no name is split).
            cut = chunk.rfind(b"\0")
            if cut < 0:
                tail += chunk
                continue
            files += (tail + chunk[:cut]).decode("utf-8", "surrogateescape").split("\0")
            tail = chunk[cut + 1:]
        if tail:
            files.append(tail.decode("utf-8", "surrogateescape"))
    finally:
        if proc.poll() is None:
            proc.kill()        # cancelled (ctx.check raised) or failed mid-way
        proc.stdout.close()
        proc.wait()
    if proc.returncode not in (0, 1, 2):   # 1: nothing listed, 2: some folders unreadable
        return None
    return files
