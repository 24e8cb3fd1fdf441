"""Stash: save, list, apply, pop, drop. Git worker only."""

from __future__ import annotations

import pygit2

from marie.git.model import GitError, StashInfo
from marie.git.handle import RepoHandle


class StashOps(RepoHandle):
    """Stash operations (git worker only)."""

    def stash_save(self, message: str = "", include_untracked: bool = False) -> StashInfo:
        repo = self._worktree()
        if not self.status().dirty and not (include_untracked and self._status and self._status.group("untracked")):
            raise GitError("no local changes to stash")
        repo.stash(self._signature(), message or None, include_untracked=include_untracked)
        self._status = None
        return self.stashes()[0]

    def stashes(self) -> list[StashInfo]:
        return [StashInfo(i, s.message, str(s.commit_id)[:7]) for i, s in enumerate(self.repo.listall_stashes())]

    def _stash_index(self, index: int) -> None:
        if not 0 <= index < len(self.repo.listall_stashes()):
            raise GitError(f"there is no stash {index}")

    def stash_apply(self, index: int = 0) -> None:
        """Apply stash ``index`` to the working tree (it stays in the list)."""
        self._unstash(index, pop=False)

    def stash_pop(self, index: int = 0) -> None:
        """Apply stash ``index`` and drop it."""
        self._unstash(index, pop=True)

    def _unstash(self, index: int, *, pop: bool) -> None:
        self._worktree()
        self._stash_index(index)
        try:
            (self.repo.stash_pop if pop else self.repo.stash_apply)(index)
        except pygit2.GitError as exc:
            raise GitError(f"cannot {'pop' if pop else 'apply'} stash {index}: {exc}") from None
        self._status = None

    def stash_drop(self, index: int = 0) -> None:
        self._stash_index(index)
        self.repo.stash_drop(index)
