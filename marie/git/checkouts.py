"""Git operations that rewrite the working tree (switch, detached checkout, merge, stash save/apply/
pop, pull, rebase continue/abort) go through the write path like every other write.

libgit2 writes the files itself, so ``bracketed`` wraps the operation in ``app.writes.external``: a
checkpoint of the workspace before ("before: git switch to main"), then the files it changed are
audited and announced with ``FilesWritten``, so the index, git status and open editors refresh and a
checkpoint restore undoes the operation like any other write.

Which files changed is computed, not guessed: the paths that differ between the HEAD trees before
and after (a tree diff in libgit2, cheap) plus the paths whose status entry changed (stash save and
apply, conflicts). Git worker only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Protocol, TypeVar

import pygit2

from marie.git.handle import RepoHandle
from marie.git.model import FileStatus, GitError
from marie.workspace.writes import WriteResult

T = TypeVar("T")


class ExternalWrites(Protocol):
    """What the bracket needs from ``app.writes`` (``marie.workspace.writes.WritePath.external``)."""

    def external(self, label: str, *, source: str, paths: Any = ()) -> Any: ...


def _head_tree(repo: RepoHandle) -> Any | None:
    commit = repo._head_commit() if repo.info.kind == "worktree" else None
    return commit.tree if commit is not None else None


def _status_files(repo: RepoHandle) -> dict[str, FileStatus]:
    try:
        return dict(repo.status().files)
    except GitError:
        return {}


def changed_paths(repo: RepoHandle, tree_before: Any | None, files_before: dict[str, FileStatus]) -> set[str]:
    """Repository-relative paths an operation changed in the working tree (see the module docstring)."""
    tree_after = _head_tree(repo)
    changed: set[str] = set()
    if tree_before is not None or tree_after is not None:
        raw = repo.repo
        empty = raw[raw.TreeBuilder().write()].peel(pygit2.Tree)
        diff = (tree_before or empty).diff_to_tree(tree_after or empty)
        for delta in diff.deltas:
            changed.add(delta.old_file.path)
            changed.add(delta.new_file.path)
    files_after = _status_files(repo)
    for path in set(files_before) | set(files_after):
        if files_before.get(path) != files_after.get(path):
            changed.add(path)
    return changed


def bracketed(writes: ExternalWrites, root: Path, repo: RepoHandle, label: str,
              run: Callable[[], T]) -> T:
    """Run ``run()`` (a git operation that checks files out) inside ``writes.external``. Git worker."""
    tree_before = _head_tree(repo)
    files_before = _status_files(repo)
    with writes.external(label, source="git") as result:
        try:
            return run()
        finally:
            _fill(result, root, repo, changed_paths(repo, tree_before, files_before))


def _fill(result: WriteResult, root: Path, repo: RepoHandle, changed: set[str]) -> None:
    """Sort the changed paths into written and deleted, relative to the workspace (paths of the
    repository outside the workspace folder are left out)."""
    workdir = repo.workdir
    for path in sorted(changed):
        full = workdir / path
        rel = os.path.relpath(full, root)
        if rel.startswith(".."):
            continue
        rel = Path(rel).as_posix()
        (result.written if os.path.lexists(full) else result.deleted).append(rel)


__all__ = ["bracketed", "changed_paths"]
