"""Diffs: a file against the index or HEAD, an editor buffer against the index, the whole tree,
a commit against its parent. Git worker only."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from marie.git.model import CommitInfo, FileDiff
from marie.git.handle import RepoHandle, commit_info, patch_to_file


class DiffOps(RepoHandle):
    """Diffs, as ``FileDiff`` values (git worker only)."""

    def file_diff(self, path: str, staged: bool = False) -> FileDiff:
        """One file: working tree vs index (``git diff``), or index vs HEAD with ``staged``."""
        self._worktree()
        if staged:
            old, _ = self._head_blob(path)
            new, _ = self._index_blob(path)
        else:
            old, _ = self._index_blob(path)
            new = self._read_worktree(path)
        return self._patch(old, new, path)

    def buffer_diff(self, path: str, content: bytes) -> tuple[FileDiff, bytes | None]:
        """An editor buffer (maybe unsaved) against the staged version: for gutter markers.
        Returns the diff and the staged bytes (None when the file is not tracked)."""
        self._worktree()
        path = self.repo_path(path) if Path(path).is_absolute() else path
        old, _ = self._index_blob(path)
        if old is None:
            return FileDiff(path, None, "untracked", False), None
        return self._patch(old, content, path), old

    def diff(self, staged: bool = False, paths: Iterable[str] = ()) -> list[FileDiff]:
        """Whole-tree diff (``git diff`` / ``git diff --cached``), optionally limited to some paths."""
        repo = self._worktree()
        wanted = list(paths)
        if wanted:
            return [d for d in (self.file_diff(p, staged) for p in wanted) if d.hunks or d.binary]
        if staged:
            head = self._head_commit()
            tree = head.tree if head is not None else repo[repo.TreeBuilder().write()]
            diff = self._fresh_index().diff_to_tree(tree, context_lines=self._context())
        else:
            diff = repo.diff(context_lines=self._context())
        return [patch_to_file(p) for p in diff if p is not None]

    def commit_diff(self, rev: str) -> tuple[CommitInfo, list[FileDiff]]:
        """A commit's details and its diff against its first parent."""
        commit = self._lookup_commit(rev)
        if commit.parents:
            diff = self.repo.diff(commit.parents[0], commit, context_lines=self._context())
        else:
            diff = commit.tree.diff_to_tree(swap=True, context_lines=self._context())
        return commit_info(commit), [patch_to_file(p) for p in diff if p is not None]

    def staged_patch(self) -> str:
        return "".join(d.patch for d in self.diff(staged=True))
