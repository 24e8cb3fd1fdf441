"""History: the log with graph lanes, file history, blame of the committed file and of an
editor buffer. Git worker only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import SortMode

from marie.git.graph import assign_lanes
from marie.git.model import BlameLine, GitError, LogEntry, NOT_COMMITTED, UNCOMMITTED_ID
from marie.git.handle import RepoHandle, commit_info


class HistoryOps(RepoHandle):
    """History and blame (git worker only)."""

    def log(self, limit: int = 300, path: str | None = None, rev: str = "HEAD", skip: int = 0) -> list[LogEntry]:
        """Commits newest first with graph lanes; with ``path``, only commits that changed it."""
        repo = self.repo
        if rev == "HEAD" and repo.head_is_unborn:
            return []
        start = self._lookup_commit(rev)
        refs: dict[str, list[str]] = {}
        for name in repo.branches.local:
            refs.setdefault(str(repo.branches.local[name].target), []).append(name)
        walker = repo.walk(start.id, SortMode.TOPOLOGICAL | SortMode.TIME)
        picked: list[Any] = []
        seen = 0
        for commit in walker:
            if path and not self._touches(commit, path.rstrip("/")):
                continue
            seen += 1
            if seen <= skip:
                continue
            picked.append(commit)
            if len(picked) >= limit:
                break
        infos = [commit_info(c) for c in picked]
        lanes: list[tuple[int, int, tuple[int, ...]]]
        if path:
            lanes = [(0, 1, (0,) if c.parents else ()) for c in infos]
        else:
            lanes = assign_lanes((c.id, c.parents) for c in infos)
        return [LogEntry(c, col, width, parents, tuple(refs.get(c.id, ())))
                for c, (col, width, parents) in zip(infos, lanes)]

    @staticmethod
    def _entry_id(tree: Any, path: str) -> Any:
        try:
            return tree[path].id
        except KeyError:
            return None

    def _touches(self, commit: Any, path: str) -> bool:
        mine = self._entry_id(commit.tree, path)
        if not commit.parents:
            return mine is not None
        return mine != self._entry_id(commit.parents[0].tree, path)

    def blame(self, path: str) -> list[BlameLine]:
        """Who last changed each line of the committed version of ``path``."""
        repo = self._worktree()
        path = self.repo_path(path) if Path(path).is_absolute() else path
        if self._head_commit() is None:
            raise GitError("nothing is committed yet, so there is no blame")
        try:
            blame = repo.blame(path)
        except (KeyError, ValueError, pygit2.GitError):
            raise GitError(f"{path} is not committed, so there is no blame for it") from None
        summaries: dict[str, str] = {}
        out: list[BlameLine] = []
        for hunk in blame:
            oid = str(hunk.final_commit_id)
            if oid not in summaries:
                summaries[oid] = repo[hunk.final_commit_id].peel(pygit2.Commit).message.split("\n", 1)[0]
            sig = hunk.final_committer
            author = repo[hunk.final_commit_id].author
            for i in range(hunk.lines_in_hunk):
                out.append(BlameLine(hunk.final_start_line_number + i, oid[:7], author.name,
                                     author.time if author else (sig.time if sig else 0), summaries[oid]))
        return out

    def blame_buffer(self, path: str, content: bytes) -> list[BlameLine]:
        """Blame for an editor buffer (saved or not): lines that differ from HEAD's version are
        "Not committed yet"; the others carry the blame of the HEAD line they came from (found by a
        diff of the buffer against the committed blob, without context)."""
        self._worktree()
        path = self.repo_path(path) if Path(path).is_absolute() else path
        count = content.count(b"\n") + (1 if content and not content.endswith(b"\n") else 0)
        committed, _ = self._head_blob(path)
        if committed is None:  # untracked, newly added or nothing committed: every line is new
            return [_uncommitted(n) for n in range(1, count + 1)]
        by_line = {entry.line: entry for entry in self.blame(path)}
        patch = pygit2.Patch.create_from(committed, content, old_as_path=path, new_as_path=path, context_lines=0)
        if patch.delta.is_binary:
            raise GitError(f"{path} is binary, so there is no line blame for it")
        out: list[BlameLine] = []
        new, offset = 1, 0  # offset: old line = new line + offset, outside changed ranges
        for hunk in patch.hunks:
            first_new = hunk.new_start if hunk.new_lines else hunk.new_start + 1
            while new < first_new:
                out.append(_moved(by_line.get(new + offset), new))
                new += 1
            for _ in range(hunk.new_lines):
                out.append(_uncommitted(new))
                new += 1
            offset += hunk.old_lines - hunk.new_lines
        while new <= count:
            out.append(_moved(by_line.get(new + offset), new))
            new += 1
        return out



def _uncommitted(line: int) -> BlameLine:
    return BlameLine(line, UNCOMMITTED_ID, "Not Committed Yet", int(time.time()), NOT_COMMITTED)


def _moved(entry: BlameLine | None, line: int) -> BlameLine:
    if entry is None:  # cannot happen for a consistent diff; say so rather than guess
        return _uncommitted(line)
    return BlameLine(line, entry.commit, entry.author, entry.time, entry.summary)
