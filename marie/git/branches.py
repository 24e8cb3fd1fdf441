"""Branches: list, create, switch (a checkout: the service brackets it with the write path),
detached checkout, rename, delete. Git worker only."""

from __future__ import annotations

import pygit2
from pygit2.enums import CheckoutStrategy

from marie.git.model import BranchInfo, DirtyTreeError, GitError
from marie.git.handle import RepoHandle


class BranchOps(RepoHandle):
    """Branch operations (git worker only)."""

    def branches(self) -> list[BranchInfo]:
        repo = self.repo
        current = None if repo.head_is_unborn or repo.head_is_detached else repo.head.shorthand
        head = self._head_commit()
        out: list[BranchInfo] = []
        for name in sorted(repo.branches.local):
            branch = repo.branches.local[name]
            upstream = branch.upstream
            ahead = behind = 0
            if upstream is not None:
                ahead, behind = repo.ahead_behind(branch.target, upstream.target)
            merged = head is not None and (branch.target == head.id or repo.descendant_of(head.id, branch.target))
            out.append(BranchInfo(name, False, name == current, str(branch.target)[:7],
                                  upstream.shorthand if upstream is not None else None, ahead, behind, merged))
        for name in sorted(repo.branches.remote):
            branch = repo.branches.remote[name]
            if name.endswith("/HEAD"):
                continue
            out.append(BranchInfo(name, True, False, str(branch.target)[:7]))
        return out

    def create_branch(self, name: str, start: str = "HEAD", switch: bool = False) -> BranchInfo:
        repo = self.repo
        if name in repo.branches.local:
            raise GitError(f"a branch named {name!r} already exists")
        commit = self._lookup_commit(start)
        try:
            repo.branches.local.create(name, commit)
        except (ValueError, pygit2.GitError) as exc:
            raise GitError(f"cannot create branch {name!r}: {exc}") from None
        if switch:
            self.switch(name)
        return next(b for b in self.branches() if b.name == name and not b.remote)

    def switch(self, name: str, stash: bool = False) -> str:
        """Check out a local branch (or a remote one, creating its local tracking branch). Refuses
        when tracked files have changes unless ``stash``, which stashes them first."""
        repo = self._worktree()
        self._refuse_during_rebase(f"switching to {name!r}")
        if self.status().dirty:
            if not stash:
                raise DirtyTreeError("you have uncommitted changes; commit or stash them before switching "
                                     f"to {name!r} (or switch with stash)")
            self.stash_save(f"auto-stash before switching to {name}")
        branch = repo.branches.local.get(name)
        if branch is None:
            remote = repo.branches.remote.get(name)
            if remote is None:
                raise GitError(f"no branch named {name!r}")
            local_name = name.split("/", 1)[1]
            branch = repo.branches.local.create(local_name, remote.peel(pygit2.Commit))
            branch.upstream = remote
        try:
            repo.checkout(branch.name, strategy=CheckoutStrategy.SAFE)
        except pygit2.GitError as exc:
            raise GitError(f"cannot switch to {name!r}: {exc}") from None
        self._status = None
        return branch.shorthand

    def checkout_detached(self, rev: str) -> str:
        repo = self._worktree()
        self._refuse_during_rebase(f"checking out {rev}")
        if self.status().dirty:
            raise DirtyTreeError("you have uncommitted changes; commit or stash them first")
        commit = self._lookup_commit(rev)
        repo.checkout_tree(commit, strategy=CheckoutStrategy.SAFE)
        repo.set_head(commit.id)
        return str(commit.id)[:7]

    def rename_branch(self, old: str, new: str) -> str:
        branch = self.repo.branches.local.get(old)
        if branch is None:
            raise GitError(f"no branch named {old!r}")
        if new in self.repo.branches.local:
            raise GitError(f"a branch named {new!r} already exists")
        branch.rename(new)
        return new

    def delete_branch(self, name: str, force: bool = False) -> None:
        """Delete a local branch; refuses the current one and, without ``force``, one not merged
        into HEAD (its commits would only be reachable through the reflog)."""
        repo = self.repo
        branch = repo.branches.local.get(name)
        if branch is None:
            raise GitError(f"no branch named {name!r}")
        if branch.is_head():
            raise GitError(f"{name!r} is the current branch; switch to another branch first")
        head = self._head_commit()
        merged = head is not None and (branch.target == head.id or repo.descendant_of(head.id, branch.target))
        if not merged and not force:
            raise GitError(f"{name!r} is not fully merged into the current branch; delete it anyway with force")
        branch.delete()
