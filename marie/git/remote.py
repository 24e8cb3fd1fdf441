"""Remotes: list, add, fetch, pull (fast-forward, merge or rebase), push, with progress,
cancellation and credentials (ssh-agent, keyring). Git worker only."""

from __future__ import annotations

from typing import Any

import pygit2
from pygit2.enums import CredentialType, MergeAnalysis

from marie.git.model import DirtyTreeError, GitError, MergeResult
from marie.git.handle import RepoHandle


class RemoteOps(RepoHandle):
    """Remote operations (git worker only)."""

    def remotes(self) -> list[tuple[str, str]]:
        return [(str(r.name), str(r.url or "")) for r in self.repo.remotes]

    def add_remote(self, name: str, url: str) -> None:
        self.repo.remotes.create(name, url)

    def _remote(self, name: str | None) -> Any:
        repo = self.repo
        if name is None:
            snapshot = self._head_state()
            name = snapshot.upstream.split("/", 1)[0] if snapshot.upstream else "origin"
        try:
            return repo.remotes[name]
        except KeyError:
            raise GitError(f"there is no remote named {name!r}; add one first") from None

    def fetch(self, remote: str | None = None, ctx: Any = None) -> str:
        rem = self._remote(remote)
        callbacks = _Callbacks(ctx)
        try:
            stats = rem.fetch(callbacks=callbacks)
        except pygit2.GitError as exc:
            raise GitError(f"fetch from {rem.name} failed: {exc}") from None
        return f"fetched {stats.received_objects} objects from {rem.name}"

    def pull(self, remote: str | None = None, ctx: Any = None, rebase: bool | None = None) -> MergeResult:
        """Fetch, then fast-forward; otherwise merge or rebase as ``pull.rebase`` (or the setting) says."""
        repo = self._worktree()
        state = self._head_state()
        if state.state == "rebase":
            raise GitError("a rebase is in progress: resolve the conflicts, stage them, then continue "
                           "the rebase (or abort it)")
        if state.detached or state.unborn or not state.branch:
            raise GitError("pull needs a current branch with commits")
        if not state.upstream:
            raise GitError(f"branch {state.branch!r} has no upstream; push it first (that sets one)")
        self.fetch(remote or state.upstream.split("/", 1)[0], ctx)
        upstream = repo.branches.local[state.branch].upstream
        target = upstream.peel(pygit2.Commit)
        analysis, _ = repo.merge_analysis(target.id)
        if analysis & MergeAnalysis.UP_TO_DATE:
            return MergeResult("up-to-date")
        if self.status().dirty:
            raise DirtyTreeError("commit or stash your changes before pulling")
        if analysis & MergeAnalysis.FASTFORWARD:
            return self._merge_commit(target, "")
        if rebase is None:
            config = repo.config
            if "pull.rebase" in config:
                rebase = str(config["pull.rebase"]).lower() not in ("false", "0", "no", "off")
            else:
                rebase = bool(self._setting("git.pull_rebase"))
        if rebase:
            return self._rebase_onto(target, upstream.shorthand)
        return self._merge_commit(target, f"Merge branch '{upstream.shorthand}' into {state.branch}")

    def _rebase_onto(self, upstream: Any, label: str = "upstream") -> MergeResult:
        """Replay the local commits on top of ``upstream``; stops on a conflict (see marie.git.rebase)."""
        from marie.git import rebase

        return rebase.start(self, upstream, label)

    def rebase_continue(self) -> MergeResult:
        """Go on with a rebase stopped on a conflict, once the resolution is staged."""
        from marie.git import rebase

        return rebase.continue_rebase(self)

    def rebase_abort(self) -> MergeResult:
        """Give up a stopped rebase: the branch, index and working tree go back to where they were."""
        from marie.git import rebase

        return rebase.abort_rebase(self)

    def push(self, remote: str | None = None, branch: str | None = None, ctx: Any = None,
             set_upstream: bool = True, force: bool = False) -> MergeResult:
        repo = self.repo
        state = self._head_state()
        branch = branch or state.branch
        if not branch or state.detached and branch is None:
            raise GitError("push needs a branch; HEAD is detached")
        if branch not in repo.branches.local or state.unborn and branch == state.branch:
            raise GitError(f"branch {branch!r} has no commits to push")
        rem = self._remote(remote)
        callbacks = _Callbacks(ctx)
        spec = f"{'+' if force else ''}refs/heads/{branch}:refs/heads/{branch}"
        try:
            rem.push([spec], callbacks=callbacks)
        except pygit2.GitError as exc:
            raise GitError(f"push to {rem.name} failed: {exc}") from None
        if callbacks.rejected:
            raise GitError("push rejected: " + "; ".join(f"{r}: {m}" for r, m in callbacks.rejected)
                           + " (pull first to take in the remote changes)")
        local = repo.branches.local[branch]
        if set_upstream and local.upstream is None:
            tracking = repo.branches.remote.get(f"{rem.name}/{branch}")
            if tracking is None:
                repo.create_reference(f"refs/remotes/{rem.name}/{branch}", local.target, force=True)
                tracking = repo.branches.remote.get(f"{rem.name}/{branch}")
            local.upstream = tracking
        return MergeResult("pushed", str(local.target)[:7])



class _Callbacks(pygit2.RemoteCallbacks):
    """Progress, cancel and credentials for fetch/push. Raising from a callback aborts the transfer."""

    def __init__(self, ctx: Any = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.rejected: list[tuple[str, str]] = []
        self._tries = 0

    def transfer_progress(self, stats: Any) -> None:
        if self.ctx is not None:
            self.ctx.check()
            self.ctx.progress(stats.received_objects, stats.total_objects or None, "receiving objects")

    def push_transfer_progress(self, objects_pushed: int, total_objects: int, bytes_pushed: int) -> None:
        if self.ctx is not None:
            self.ctx.check()
            self.ctx.progress(objects_pushed, total_objects or None, "pushing objects")

    def sideband_progress(self, string: str) -> None:
        if self.ctx is not None:
            self.ctx.check()

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message:
            self.rejected.append((refname, message))

    def credentials(self, url: str, username_from_url: str | None, allowed_types: int) -> Any:
        self._tries += 1
        if self._tries > 3:  # libgit2 asks again after a refusal; stop instead of looping
            raise GitError(f"authentication failed for {url}")
        if allowed_types & CredentialType.SSH_KEY:
            return pygit2.KeypairFromAgent(username_from_url or "git")
        if allowed_types & CredentialType.USERPASS_PLAINTEXT:
            from marie.git.credentials import keyring_credentials

            found = keyring_credentials(url, username_from_url)
            if found:
                return pygit2.UserPass(*found)
        raise GitError(f"no credentials for {url}: start ssh-agent with your key, or store a token with "
                       f"`marie git` keyring support (service 'marie-git', user = host)")
