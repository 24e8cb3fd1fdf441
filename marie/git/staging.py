"""Staging: ``git add`` / ``restore --staged`` of files and of single lines, and the plans for
discarding working-tree changes (the service applies them through the write path: nothing here writes
a working-tree file). Git worker only."""

from __future__ import annotations

import os
from typing import Iterable

import pygit2
from pygit2.enums import FileMode

from marie.git.model import FileDiff, GitError
from marie.git.partial import apply_selected
from marie.git.handle import RepoHandle


class StagingOps(RepoHandle):
    """Stage and unstage files and lines; discard plans (git worker only)."""

    def stage(self, paths: Iterable[str]) -> list[str]:
        """``git add`` (also resolves a conflict and stages a deletion)."""
        self._worktree()
        index = self._fresh_index()
        done = []
        for path in paths:
            full = self.workdir / path
            if os.path.lexists(full):
                if full.is_dir() and not full.is_symlink():
                    raise GitError(f"{path} is a folder; stage the files inside it")
                index.add(path)
            else:
                index.remove(path)
            done.append(path)
        index.write()
        return done

    def stage_all(self) -> list[str]:
        snapshot = self.status()
        paths = [f.path for f in snapshot.files.values() if f.unstaged or f.untracked or f.conflicted]
        return self.stage(paths) if paths else []

    def unstage(self, paths: Iterable[str]) -> list[str]:
        """``git restore --staged``: put the HEAD version back in the index."""
        self._worktree()
        index = self._fresh_index()
        done = []
        for path in paths:
            data, mode = self._head_blob(path)
            commit = self._head_commit()
            if data is None or commit is None:
                try:
                    index.remove(path)
                except (OSError, pygit2.GitError, KeyError):
                    pass
            else:
                index.add(pygit2.IndexEntry(path, commit.tree[path].id, FileMode(mode or FileMode.BLOB)))
            done.append(path)
        index.write()
        return done

    def _write_index_content(self, path: str, data: bytes | None, mode: int | None) -> None:
        index = self._fresh_index()
        if data is None:
            index.remove(path)
        else:
            oid = self.repo.create_blob(data)
            index.add(pygit2.IndexEntry(path, oid, FileMode(mode or FileMode.BLOB)))
        index.write()

    def _check_keys(self, diff: FileDiff, selected: set[tuple[str, int]]) -> None:
        known = {k for h in diff.hunks for k in h.keys()}
        missing = set(selected) - known
        if missing:
            raise GitError(f"{diff.path} changed since its diff was shown; refresh and select the lines again")

    def stage_lines(self, path: str, selected: Iterable[tuple[str, int]]) -> bytes:
        """Stage only the selected changed lines (keys from DiffLine.key); returns the new index content."""
        self._worktree()
        selected = {(kind, number) for kind, number in selected}
        old, mode = self._index_blob(path)
        new = self._read_worktree(path)
        diff = self._patch(old, new, path)
        if diff.binary:
            raise GitError(f"{path} is binary: stage the whole file instead")
        self._check_keys(diff, selected)
        if new is None and not diff.hunks:
            self._write_index_content(path, None, None)
            return b""
        content = apply_selected(old or b"", diff.hunks, selected)
        if new is None and selected >= {k for h in diff.hunks for k in h.keys()}:
            self._write_index_content(path, None, None)  # every deleted line staged: stage the deletion
            return b""
        self._write_index_content(path, content, mode or self._worktree_mode(path))
        return content

    def unstage_lines(self, path: str, selected: Iterable[tuple[str, int]]) -> bytes:
        """Unstage only the selected lines of the staged diff (keys from the index-vs-HEAD diff)."""
        self._worktree()
        selected = {(kind, number) for kind, number in selected}
        head, head_mode = self._head_blob(path)
        staged, mode = self._index_blob(path)
        diff = self._patch(head, staged, path)
        if diff.binary:
            raise GitError(f"{path} is binary: unstage the whole file instead")
        self._check_keys(diff, selected)
        keep = {k for h in diff.hunks for k in h.keys()} - selected
        content = apply_selected(head or b"", diff.hunks, keep)
        if head is None and not keep:
            self._write_index_content(path, None, None)
        else:
            self._write_index_content(path, content, mode or head_mode)
        return content

    def discard_plan(self, paths: Iterable[str]) -> list[tuple[str, bytes | None, int | None]]:
        """What discarding the working-tree changes of these files means: (path, content or None to
        delete, file mode). Untracked files are deleted; others go back to their staged content."""
        self._worktree()
        plan: list[tuple[str, bytes | None, int | None]] = []
        for path in paths:
            data, mode = self._index_blob(path)
            if data is None:
                plan.append((path, None, None))
            else:
                plan.append((path, data, 0o755 if mode == FileMode.BLOB_EXECUTABLE else None))
        return plan

    def discard_lines_plan(self, path: str, selected: Iterable[tuple[str, int]]) -> tuple[str, bytes, int | None]:
        """Working-tree content with the selected changed lines reverted to the index version."""
        self._worktree()
        selected = {(kind, number) for kind, number in selected}
        old, _mode = self._index_blob(path)
        new = self._read_worktree(path)
        diff = self._patch(old, new, path)
        if diff.binary:
            raise GitError(f"{path} is binary: discard the whole file instead")
        self._check_keys(diff, selected)
        keep = {k for h in diff.hunks for k in h.keys()} - selected
        return path, apply_selected(old or b"", diff.hunks, keep), None
