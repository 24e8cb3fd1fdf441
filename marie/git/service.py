"""``GitService`` (``app.git``): git for the GUI, the CLI and the tests, on ONE worker thread.

Every pygit2 call runs on the "git" worker (``app.tasks``, ``worker="git"``), in order, because
libgit2 objects are not thread-safe. Each operation of ``GitRepo`` is offered twice, written out
below (go-to-definition and the type checker see them):

- ``git.status(on_done=..., on_error=...) -> Task``: any thread, returns at once; callbacks arrive
  through the app's dispatcher (the GUI thread in the window);
- ``git.status_sync()``: blocks until done (CLI, tests, other workers; never the GUI thread).

Operations that change the repository announce the new status with the event
``GitStatusChanged(status)``. Saves, writes and watcher events (``FileSaved``, ``FilesWritten``,
``IndexChanged``) trigger an incremental refresh of just those paths. Discards go through
``app.writes.apply`` (checkpoint first), and the operations that check files out (switch, detached
checkout, merge, stash save/apply/pop, pull, rebase continue/abort) through ``app.writes.external``
(``marie.git.checkouts``): a checkpoint before, ``FilesWritten`` after, undone by a restore.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, TypeVar, Union, Unpack

from marie.core.event_types import FileSaved, FilesWritten, GitStatusChanged, IndexChanged
from marie.core.tasks import Callbacks, Task, TaskContext
from marie.git.commit_message import clean_ai_message
from marie.git.model import (BlameLine, BranchInfo, CommitInfo, CommitResult, FileDiff, GitError, Hunk, LogEntry,
                             MergeResult, RepoInfo, StashInfo, StatusSnapshot)

if TYPE_CHECKING:
    from marie.git.repository import GitRepo
    from marie.services import Services

log = logging.getLogger(__name__)

WORKER = "git"
T = TypeVar("T")

# What to refresh after an operation: nothing, the status it returned, a full status, or these paths.
NONE: Literal["none"] = "none"
EMIT: Literal["emit"] = "emit"
FULL: Literal["full"] = "full"
Refresh = Union[Literal["none", "emit", "full"], list]


class GitService:
    def __init__(self, app: Services) -> None:
        self.app = app
        self._repo: GitRepo | None = None  # created and used on the git worker only
        self.pre_commit_scanners: list[Callable[[str], list[str]]] = []
        self.last_status: StatusSnapshot | None = None  # immutable; safe to read from any thread
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()
        self._refresh_queued = False
        self._worker_thread: int | None = None
        events = app.events
        self._unsubscribe = [
            events.on(FileSaved, lambda event: self.notify_paths([event.path])),
            events.on(FilesWritten, lambda event: self.notify_paths(event.paths)),
            events.on(IndexChanged, self._on_index_changed),
        ]

    # -- the worker ------------------------------------------------------------------------------
    def _git(self) -> GitRepo:
        """The GitRepo (git worker only)."""
        if self._repo is None:
            from marie.git.repository import GitRepo

            self._worker_thread = threading.get_ident()
            self._repo = GitRepo(self.app.root, self._setting)
            self._repo.pre_commit_scanners = self.pre_commit_scanners
        return self._repo

    def _setting(self, key: str) -> Any:
        try:
            return self.app.settings.get(key)
        except KeyError:
            return None

    def _execute(self, ctx: TaskContext | None, fn: Callable[[TaskContext | None, GitRepo], T], refresh: Refresh) -> T:
        repo = self._git()
        result = fn(ctx, repo)
        self._after(repo, refresh, result)
        return result

    def _after(self, repo: GitRepo, refresh: Refresh, result: Any) -> None:
        if refresh == NONE:
            return
        if refresh == EMIT:
            snapshot = result
        else:
            try:
                if isinstance(refresh, list):
                    snapshot = repo.refresh(repo.workdir / p for p in refresh)
                else:
                    snapshot = repo.status()
            except GitError:
                return
        if isinstance(snapshot, StatusSnapshot):
            self.last_status = snapshot
            self.app.events.publish(GitStatusChanged(snapshot))

    def on_worker(self) -> bool:
        return self._worker_thread == threading.get_ident()

    def _queue(self, name: str, fn: Callable[[TaskContext | None, GitRepo], Any], refresh: Refresh,
               **callbacks: Unpack[Callbacks]) -> Task:
        """Queue ``fn(ctx, repo)`` on the git worker; any thread."""
        return self.app.tasks.submit(lambda ctx: self._execute(ctx, fn, refresh), name=f"git {name}", worker=WORKER,
                                     **callbacks)

    def _wait(self, name: str, fn: Callable[[TaskContext | None, GitRepo], T], refresh: Refresh,
              timeout: float | None = None) -> T:
        """Run ``fn(ctx, repo)`` on the git worker and wait (inline when already on it)."""
        if self.on_worker():
            return self._execute(None, fn, refresh)
        return self._queue(name, fn, refresh, quiet=True).result(timeout)

    def _checkout(self, label: str, run: Callable[[GitRepo], T]) -> Callable[[TaskContext | None, GitRepo], T]:
        """An operation that checks files out, bracketed by the write path (``marie.git.checkouts``)."""
        from marie.git.checkouts import bracketed

        return lambda ctx, repo: bracketed(self.app.writes, Path(self.app.root), repo, f"git {label}",
                                           lambda: run(repo))

    def run_on_worker(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Task:
        """Run ``fn(ctx, repo, *args)`` on the git worker (for composite operations); any thread."""
        return self.app.tasks.submit(lambda ctx, *a: fn(ctx, self._git(), *a), *args, worker=WORKER, **kw)

    # -- operations (each: queued form and _sync form) ---------------------------------------------
    def info(self, **callbacks: Unpack[Callbacks]) -> Task:
        """Which repository this is (or why there is none). Queued on the git worker; ``on_done`` gets RepoInfo."""
        return self._queue("info", lambda ctx, repo: repo.info, NONE, **callbacks)

    def info_sync(self, timeout: float | None = None) -> RepoInfo:
        """Which repository this is (or why there is none). Blocks (not for the GUI thread)."""
        return self._wait("info", lambda ctx, repo: repo.info, NONE, timeout)

    def status(self, **callbacks: Unpack[Callbacks]) -> Task:
        """Full status of the working tree and index (``git status``). Queued on the git worker; ``on_done``
        gets StatusSnapshot."""
        return self._queue("status", lambda ctx, repo: repo.status(), EMIT, **callbacks)

    def status_sync(self, timeout: float | None = None) -> StatusSnapshot:
        """Full status of the working tree and index (``git status``). Blocks (not for the GUI thread)."""
        return self._wait("status", lambda ctx, repo: repo.status(), EMIT, timeout)

    def refresh(self, paths: Iterable[str], **callbacks: Unpack[Callbacks]) -> Task:
        """Update the last status for these paths only. Queued on the git worker; ``on_done`` gets StatusSnapshot."""
        return self._queue("refresh", lambda ctx, repo: repo.refresh(list(paths)), EMIT, **callbacks)

    def refresh_sync(self, paths: Iterable[str], timeout: float | None = None) -> StatusSnapshot:
        """Update the last status for these paths only. Blocks (not for the GUI thread)."""
        return self._wait("refresh", lambda ctx, repo: repo.refresh(list(paths)), EMIT, timeout)

    def file_diff(self, path: str, staged: bool = False, **callbacks: Unpack[Callbacks]) -> Task:
        """One file: working tree vs index, or index vs HEAD with ``staged``. Queued on the git worker;
        ``on_done`` gets FileDiff."""
        return self._queue("file_diff", lambda ctx, repo: repo.file_diff(path, staged), NONE, **callbacks)

    def file_diff_sync(self, path: str, staged: bool = False, timeout: float | None = None) -> FileDiff:
        """One file: working tree vs index, or index vs HEAD with ``staged``. Blocks (not for the GUI thread)."""
        return self._wait("file_diff", lambda ctx, repo: repo.file_diff(path, staged), NONE, timeout)

    def buffer_diff(self, path: str, content: bytes, **callbacks: Unpack[Callbacks]) -> Task:
        """An editor buffer against the staged version (gutter markers). Queued on the git worker; ``on_done``
        gets tuple[FileDiff, bytes | None]."""
        return self._queue("buffer_diff", lambda ctx, repo: repo.buffer_diff(path, content), NONE, **callbacks)

    def buffer_diff_sync(self, path: str, content: bytes, timeout: float | None = None) -> tuple[FileDiff, bytes | None]:
        """An editor buffer against the staged version (gutter markers). Blocks (not for the GUI thread)."""
        return self._wait("buffer_diff", lambda ctx, repo: repo.buffer_diff(path, content), NONE, timeout)

    def diff(self, staged: bool = False, paths: Iterable[str] = (), **callbacks: Unpack[Callbacks]) -> Task:
        """Whole-tree diff, optionally limited to some paths. Queued on the git worker; ``on_done`` gets
        list[FileDiff]."""
        return self._queue("diff", lambda ctx, repo: repo.diff(staged, list(paths)), NONE, **callbacks)

    def diff_sync(self, staged: bool = False, paths: Iterable[str] = (), timeout: float | None = None) -> list[FileDiff]:
        """Whole-tree diff, optionally limited to some paths. Blocks (not for the GUI thread)."""
        return self._wait("diff", lambda ctx, repo: repo.diff(staged, list(paths)), NONE, timeout)

    def commit_diff(self, rev: str, **callbacks: Unpack[Callbacks]) -> Task:
        """A commit's details and its diff against its first parent. Queued on the git worker; ``on_done`` gets
        tuple[CommitInfo, list[FileDiff]]."""
        return self._queue("commit_diff", lambda ctx, repo: repo.commit_diff(rev), NONE, **callbacks)

    def commit_diff_sync(self, rev: str, timeout: float | None = None) -> tuple[CommitInfo, list[FileDiff]]:
        """A commit's details and its diff against its first parent. Blocks (not for the GUI thread)."""
        return self._wait("commit_diff", lambda ctx, repo: repo.commit_diff(rev), NONE, timeout)

    def staged_patch(self, **callbacks: Unpack[Callbacks]) -> Task:
        """The staged changes as one patch text. Queued on the git worker; ``on_done`` gets str."""
        return self._queue("staged_patch", lambda ctx, repo: repo.staged_patch(), NONE, **callbacks)

    def staged_patch_sync(self, timeout: float | None = None) -> str:
        """The staged changes as one patch text. Blocks (not for the GUI thread)."""
        return self._wait("staged_patch", lambda ctx, repo: repo.staged_patch(), NONE, timeout)

    def stage(self, paths: Iterable[str], **callbacks: Unpack[Callbacks]) -> Task:
        """``git add`` (also resolves a conflict and stages a deletion). Queued on the git worker; ``on_done``
        gets list[str]."""
        paths = list(paths)
        return self._queue("stage", lambda ctx, repo: repo.stage(paths), list(paths), **callbacks)

    def stage_sync(self, paths: Iterable[str], timeout: float | None = None) -> list[str]:
        """``git add`` (also resolves a conflict and stages a deletion). Blocks (not for the GUI thread)."""
        paths = list(paths)
        return self._wait("stage", lambda ctx, repo: repo.stage(paths), list(paths), timeout)

    def stage_all(self, **callbacks: Unpack[Callbacks]) -> Task:
        """Stage every change, untracked files included. Queued on the git worker; ``on_done`` gets list[str]."""
        return self._queue("stage_all", lambda ctx, repo: repo.stage_all(), FULL, **callbacks)

    def stage_all_sync(self, timeout: float | None = None) -> list[str]:
        """Stage every change, untracked files included. Blocks (not for the GUI thread)."""
        return self._wait("stage_all", lambda ctx, repo: repo.stage_all(), FULL, timeout)

    def unstage(self, paths: Iterable[str], **callbacks: Unpack[Callbacks]) -> Task:
        """``git restore --staged``. Queued on the git worker; ``on_done`` gets list[str]."""
        paths = list(paths)
        return self._queue("unstage", lambda ctx, repo: repo.unstage(paths), list(paths), **callbacks)

    def unstage_sync(self, paths: Iterable[str], timeout: float | None = None) -> list[str]:
        """``git restore --staged``. Blocks (not for the GUI thread)."""
        paths = list(paths)
        return self._wait("unstage", lambda ctx, repo: repo.unstage(paths), list(paths), timeout)

    def stage_lines(self, path: str, selected: Iterable[tuple[str, int]], **callbacks: Unpack[Callbacks]) -> Task:
        """Stage only the selected changed lines. Queued on the git worker; ``on_done`` gets bytes."""
        return self._queue("stage_lines", lambda ctx, repo: repo.stage_lines(path, list(selected)), [path], **callbacks)

    def stage_lines_sync(self, path: str, selected: Iterable[tuple[str, int]], timeout: float | None = None) -> bytes:
        """Stage only the selected changed lines. Blocks (not for the GUI thread)."""
        return self._wait("stage_lines", lambda ctx, repo: repo.stage_lines(path, list(selected)), [path], timeout)

    def unstage_lines(self, path: str, selected: Iterable[tuple[str, int]], **callbacks: Unpack[Callbacks]) -> Task:
        """Unstage only the selected staged lines. Queued on the git worker; ``on_done`` gets bytes."""
        return self._queue("unstage_lines", lambda ctx, repo: repo.unstage_lines(path, list(selected)), [path], **callbacks)

    def unstage_lines_sync(self, path: str, selected: Iterable[tuple[str, int]], timeout: float | None = None) -> bytes:
        """Unstage only the selected staged lines. Blocks (not for the GUI thread)."""
        return self._wait("unstage_lines", lambda ctx, repo: repo.unstage_lines(path, list(selected)), [path], timeout)

    def commit(self, message: str, *, amend: bool = False, sign_off: bool = False, allow_empty: bool = False, run_hooks: bool = True, **callbacks: Unpack[Callbacks]) -> Task:
        """Commit the index, with git's hooks and the pre-commit scanners. Queued on the git worker; ``on_done``
        gets CommitResult."""
        return self._queue("commit", lambda ctx, repo: repo.commit(message, amend=amend, sign_off=sign_off, allow_empty=allow_empty, run_hooks=run_hooks), FULL, **callbacks)

    def commit_sync(self, message: str, *, amend: bool = False, sign_off: bool = False, allow_empty: bool = False, run_hooks: bool = True, timeout: float | None = None) -> CommitResult:
        """Commit the index, with git's hooks and the pre-commit scanners. Blocks (not for the GUI thread)."""
        return self._wait("commit", lambda ctx, repo: repo.commit(message, amend=amend, sign_off=sign_off, allow_empty=allow_empty, run_hooks=run_hooks), FULL, timeout)

    def branches(self, **callbacks: Unpack[Callbacks]) -> Task:
        """Local and remote branches. Queued on the git worker; ``on_done`` gets list[BranchInfo]."""
        return self._queue("branches", lambda ctx, repo: repo.branches(), NONE, **callbacks)

    def branches_sync(self, timeout: float | None = None) -> list[BranchInfo]:
        """Local and remote branches. Blocks (not for the GUI thread)."""
        return self._wait("branches", lambda ctx, repo: repo.branches(), NONE, timeout)

    def create_branch(self, name: str, start: str = "HEAD", switch: bool = False, **callbacks: Unpack[Callbacks]) -> Task:
        """Create a branch (and switch to it with ``switch``: a checkout). Queued on the git worker; ``on_done``
        gets BranchInfo."""
        return self._queue("create_branch", self._checkout(f"create branch {name}", lambda repo: repo.create_branch(name, start, switch)), FULL, **callbacks)

    def create_branch_sync(self, name: str, start: str = "HEAD", switch: bool = False, timeout: float | None = None) -> BranchInfo:
        """Create a branch (and switch to it with ``switch``: a checkout). Blocks (not for the GUI thread)."""
        return self._wait("create_branch", self._checkout(f"create branch {name}", lambda repo: repo.create_branch(name, start, switch)), FULL, timeout)

    def switch(self, name: str, stash: bool = False, **callbacks: Unpack[Callbacks]) -> Task:
        """Check out a branch (through the write path: checkpointed, undoable). Queued on the git worker;
        ``on_done`` gets str."""
        return self._queue("switch", self._checkout(f"switch to {name}", lambda repo: repo.switch(name, stash)), FULL, **callbacks)

    def switch_sync(self, name: str, stash: bool = False, timeout: float | None = None) -> str:
        """Check out a branch (through the write path: checkpointed, undoable). Blocks (not for the GUI thread)."""
        return self._wait("switch", self._checkout(f"switch to {name}", lambda repo: repo.switch(name, stash)), FULL, timeout)

    def checkout_detached(self, rev: str, **callbacks: Unpack[Callbacks]) -> Task:
        """Check out a commit with a detached HEAD (through the write path). Queued on the git worker;
        ``on_done`` gets str."""
        return self._queue("checkout_detached", self._checkout(f"checkout {rev}", lambda repo: repo.checkout_detached(rev)), FULL, **callbacks)

    def checkout_detached_sync(self, rev: str, timeout: float | None = None) -> str:
        """Check out a commit with a detached HEAD (through the write path). Blocks (not for the GUI thread)."""
        return self._wait("checkout_detached", self._checkout(f"checkout {rev}", lambda repo: repo.checkout_detached(rev)), FULL, timeout)

    def rename_branch(self, old: str, new: str, **callbacks: Unpack[Callbacks]) -> Task:
        """Rename a local branch. Queued on the git worker; ``on_done`` gets str."""
        return self._queue("rename_branch", lambda ctx, repo: repo.rename_branch(old, new), FULL, **callbacks)

    def rename_branch_sync(self, old: str, new: str, timeout: float | None = None) -> str:
        """Rename a local branch. Blocks (not for the GUI thread)."""
        return self._wait("rename_branch", lambda ctx, repo: repo.rename_branch(old, new), FULL, timeout)

    def delete_branch(self, name: str, force: bool = False, **callbacks: Unpack[Callbacks]) -> Task:
        """Delete a local branch (``force`` for one not merged). Queued on the git worker; ``on_done`` gets None."""
        return self._queue("delete_branch", lambda ctx, repo: repo.delete_branch(name, force), NONE, **callbacks)

    def delete_branch_sync(self, name: str, force: bool = False, timeout: float | None = None) -> None:
        """Delete a local branch (``force`` for one not merged). Blocks (not for the GUI thread)."""
        return self._wait("delete_branch", lambda ctx, repo: repo.delete_branch(name, force), NONE, timeout)

    def merge(self, name: str, **callbacks: Unpack[Callbacks]) -> Task:
        """Merge a branch or commit into HEAD (through the write path). Queued on the git worker; ``on_done``
        gets MergeResult."""
        return self._queue("merge", self._checkout(f"merge {name}", lambda repo: repo.merge(name)), FULL, **callbacks)

    def merge_sync(self, name: str, timeout: float | None = None) -> MergeResult:
        """Merge a branch or commit into HEAD (through the write path). Blocks (not for the GUI thread)."""
        return self._wait("merge", self._checkout(f"merge {name}", lambda repo: repo.merge(name)), FULL, timeout)

    def conflicts(self, **callbacks: Unpack[Callbacks]) -> Task:
        """Paths with merge conflicts. Queued on the git worker; ``on_done`` gets list[str]."""
        return self._queue("conflicts", lambda ctx, repo: repo.conflicts(), NONE, **callbacks)

    def conflicts_sync(self, timeout: float | None = None) -> list[str]:
        """Paths with merge conflicts. Blocks (not for the GUI thread)."""
        return self._wait("conflicts", lambda ctx, repo: repo.conflicts(), NONE, timeout)

    def conflict_line(self, path: str, **callbacks: Unpack[Callbacks]) -> Task:
        """1-based line of the first conflict marker in ``path``. Queued on the git worker; ``on_done`` gets int
        | None."""
        return self._queue("conflict_line", lambda ctx, repo: repo.conflict_line(path), NONE, **callbacks)

    def conflict_line_sync(self, path: str, timeout: float | None = None) -> int | None:
        """1-based line of the first conflict marker in ``path``. Blocks (not for the GUI thread)."""
        return self._wait("conflict_line", lambda ctx, repo: repo.conflict_line(path), NONE, timeout)

    def merge_message(self, **callbacks: Unpack[Callbacks]) -> Task:
        """The prepared message of a merge in progress. Queued on the git worker; ``on_done`` gets str."""
        return self._queue("merge_message", lambda ctx, repo: repo.merge_message(), NONE, **callbacks)

    def merge_message_sync(self, timeout: float | None = None) -> str:
        """The prepared message of a merge in progress. Blocks (not for the GUI thread)."""
        return self._wait("merge_message", lambda ctx, repo: repo.merge_message(), NONE, timeout)

    def blame_buffer(self, path: str, content: bytes, **callbacks: Unpack[Callbacks]) -> Task:
        """Blame for an editor buffer, saved or not. Queued on the git worker; ``on_done`` gets list[BlameLine]."""
        return self._queue("blame_buffer", lambda ctx, repo: repo.blame_buffer(path, content), NONE, **callbacks)

    def blame_buffer_sync(self, path: str, content: bytes, timeout: float | None = None) -> list[BlameLine]:
        """Blame for an editor buffer, saved or not. Blocks (not for the GUI thread)."""
        return self._wait("blame_buffer", lambda ctx, repo: repo.blame_buffer(path, content), NONE, timeout)

    def finish_merge(self, message: str | None = None, **callbacks: Unpack[Callbacks]) -> Task:
        """Commit a merge whose conflicts were resolved. Queued on the git worker; ``on_done`` gets CommitResult."""
        return self._queue("finish_merge", lambda ctx, repo: repo.finish_merge(message), FULL, **callbacks)

    def finish_merge_sync(self, message: str | None = None, timeout: float | None = None) -> CommitResult:
        """Commit a merge whose conflicts were resolved. Blocks (not for the GUI thread)."""
        return self._wait("finish_merge", lambda ctx, repo: repo.finish_merge(message), FULL, timeout)

    def stash_save(self, message: str = "", include_untracked: bool = False, **callbacks: Unpack[Callbacks]) -> Task:
        """Stash the local changes (through the write path: the files go back to HEAD). Queued on the git
        worker; ``on_done`` gets StashInfo."""
        return self._queue("stash_save", self._checkout(f"stash {message}".rstrip(), lambda repo: repo.stash_save(message, include_untracked)), FULL, **callbacks)

    def stash_save_sync(self, message: str = "", include_untracked: bool = False, timeout: float | None = None) -> StashInfo:
        """Stash the local changes (through the write path: the files go back to HEAD). Blocks (not for the GUI
        thread)."""
        return self._wait("stash_save", self._checkout(f"stash {message}".rstrip(), lambda repo: repo.stash_save(message, include_untracked)), FULL, timeout)

    def stashes(self, **callbacks: Unpack[Callbacks]) -> Task:
        """The stash list, newest first. Queued on the git worker; ``on_done`` gets list[StashInfo]."""
        return self._queue("stashes", lambda ctx, repo: repo.stashes(), NONE, **callbacks)

    def stashes_sync(self, timeout: float | None = None) -> list[StashInfo]:
        """The stash list, newest first. Blocks (not for the GUI thread)."""
        return self._wait("stashes", lambda ctx, repo: repo.stashes(), NONE, timeout)

    def stash_apply(self, index: int = 0, **callbacks: Unpack[Callbacks]) -> Task:
        """Apply a stash (through the write path). Queued on the git worker; ``on_done`` gets None."""
        return self._queue("stash_apply", self._checkout(f"stash apply {index}", lambda repo: repo.stash_apply(index)), FULL, **callbacks)

    def stash_apply_sync(self, index: int = 0, timeout: float | None = None) -> None:
        """Apply a stash (through the write path). Blocks (not for the GUI thread)."""
        return self._wait("stash_apply", self._checkout(f"stash apply {index}", lambda repo: repo.stash_apply(index)), FULL, timeout)

    def stash_pop(self, index: int = 0, **callbacks: Unpack[Callbacks]) -> Task:
        """Apply and drop a stash (through the write path). Queued on the git worker; ``on_done`` gets None."""
        return self._queue("stash_pop", self._checkout(f"stash pop {index}", lambda repo: repo.stash_pop(index)), FULL, **callbacks)

    def stash_pop_sync(self, index: int = 0, timeout: float | None = None) -> None:
        """Apply and drop a stash (through the write path). Blocks (not for the GUI thread)."""
        return self._wait("stash_pop", self._checkout(f"stash pop {index}", lambda repo: repo.stash_pop(index)), FULL, timeout)

    def stash_drop(self, index: int = 0, **callbacks: Unpack[Callbacks]) -> Task:
        """Drop a stash. Queued on the git worker; ``on_done`` gets None."""
        return self._queue("stash_drop", lambda ctx, repo: repo.stash_drop(index), NONE, **callbacks)

    def stash_drop_sync(self, index: int = 0, timeout: float | None = None) -> None:
        """Drop a stash. Blocks (not for the GUI thread)."""
        return self._wait("stash_drop", lambda ctx, repo: repo.stash_drop(index), NONE, timeout)

    def log(self, limit: int = 300, path: str | None = None, rev: str = "HEAD", skip: int = 0, **callbacks: Unpack[Callbacks]) -> Task:
        """Commits newest first with graph lanes (only those touching ``path``). Queued on the git worker;
        ``on_done`` gets list[LogEntry]."""
        return self._queue("log", lambda ctx, repo: repo.log(limit, path, rev, skip), NONE, **callbacks)

    def log_sync(self, limit: int = 300, path: str | None = None, rev: str = "HEAD", skip: int = 0, timeout: float | None = None) -> list[LogEntry]:
        """Commits newest first with graph lanes (only those touching ``path``). Blocks (not for the GUI thread)."""
        return self._wait("log", lambda ctx, repo: repo.log(limit, path, rev, skip), NONE, timeout)

    def blame(self, path: str, **callbacks: Unpack[Callbacks]) -> Task:
        """Who last changed each line of the committed ``path``. Queued on the git worker; ``on_done`` gets
        list[BlameLine]."""
        return self._queue("blame", lambda ctx, repo: repo.blame(path), NONE, **callbacks)

    def blame_sync(self, path: str, timeout: float | None = None) -> list[BlameLine]:
        """Who last changed each line of the committed ``path``. Blocks (not for the GUI thread)."""
        return self._wait("blame", lambda ctx, repo: repo.blame(path), NONE, timeout)

    def remotes(self, **callbacks: Unpack[Callbacks]) -> Task:
        """(name, url) of each remote. Queued on the git worker; ``on_done`` gets list[tuple[str, str]]."""
        return self._queue("remotes", lambda ctx, repo: repo.remotes(), NONE, **callbacks)

    def remotes_sync(self, timeout: float | None = None) -> list[tuple[str, str]]:
        """(name, url) of each remote. Blocks (not for the GUI thread)."""
        return self._wait("remotes", lambda ctx, repo: repo.remotes(), NONE, timeout)

    def add_remote(self, name: str, url: str, **callbacks: Unpack[Callbacks]) -> Task:
        """Add a remote. Queued on the git worker; ``on_done`` gets None."""
        return self._queue("add_remote", lambda ctx, repo: repo.add_remote(name, url), NONE, **callbacks)

    def add_remote_sync(self, name: str, url: str, timeout: float | None = None) -> None:
        """Add a remote. Blocks (not for the GUI thread)."""
        return self._wait("add_remote", lambda ctx, repo: repo.add_remote(name, url), NONE, timeout)

    def fetch(self, remote: str | None = None, **callbacks: Unpack[Callbacks]) -> Task:
        """Fetch from ``remote`` (default: the upstream's). Queued; progress and cancel via the task."""
        return self._queue("fetch", lambda ctx, repo: repo.fetch(remote, ctx), FULL, **callbacks)

    def fetch_sync(self, remote: str | None = None, timeout: float | None = None) -> str:
        """Fetch, blocking (not for the GUI thread)."""
        return self._wait("fetch", lambda ctx, repo: repo.fetch(remote, ctx), FULL, timeout)

    def pull(self, remote: str | None = None, rebase: bool | None = None, **callbacks: Unpack[Callbacks]) -> Task:
        """Fetch, then fast-forward, merge or rebase (through the write path). Queued."""
        return self._queue("pull", self._pull(remote, rebase), FULL, **callbacks)

    def pull_sync(self, remote: str | None = None, rebase: bool | None = None,
                  timeout: float | None = None) -> MergeResult:
        """Pull, blocking (not for the GUI thread)."""
        return self._wait("pull", self._pull(remote, rebase), FULL, timeout)

    def _pull(self, remote: str | None, rebase: bool | None) -> Callable[[TaskContext | None, GitRepo], MergeResult]:
        from marie.git.checkouts import bracketed

        return lambda ctx, repo: bracketed(self.app.writes, Path(self.app.root), repo, "git pull",
                                           lambda: repo.pull(remote, ctx, rebase))

    def push(self, remote: str | None = None, branch: str | None = None, set_upstream: bool = True,
             force: bool = False, **callbacks: Unpack[Callbacks]) -> Task:
        """Push ``branch`` (default: the current one). Queued; progress and cancel via the task."""
        return self._queue("push", lambda ctx, repo: repo.push(remote, branch, ctx, set_upstream, force), FULL,
                           **callbacks)

    def push_sync(self, remote: str | None = None, branch: str | None = None, set_upstream: bool = True,
                  force: bool = False, timeout: float | None = None) -> MergeResult:
        """Push, blocking (not for the GUI thread)."""
        return self._wait("push", lambda ctx, repo: repo.push(remote, branch, ctx, set_upstream, force), FULL, timeout)

    def rebase_continue(self, **callbacks: Unpack[Callbacks]) -> Task:
        """Go on with a stopped rebase (through the write path). Queued."""
        return self._queue("rebase_continue", self._checkout("rebase continue", lambda repo: repo.rebase_continue()),
                           FULL, **callbacks)

    def rebase_continue_sync(self, timeout: float | None = None) -> MergeResult:
        """Continue a stopped rebase, blocking (not for the GUI thread)."""
        return self._wait("rebase_continue", self._checkout("rebase continue", lambda repo: repo.rebase_continue()),
                          FULL, timeout)

    def rebase_abort(self, **callbacks: Unpack[Callbacks]) -> Task:
        """Give up a stopped rebase (through the write path). Queued."""
        return self._queue("rebase_abort", self._checkout("rebase abort", lambda repo: repo.rebase_abort()), FULL,
                           **callbacks)

    def rebase_abort_sync(self, timeout: float | None = None) -> MergeResult:
        """Abort a stopped rebase, blocking (not for the GUI thread)."""
        return self._wait("rebase_abort", self._checkout("rebase abort", lambda repo: repo.rebase_abort()), FULL,
                          timeout)

    # -- auto refresh -----------------------------------------------------------------------------
    def _on_index_changed(self, event: IndexChanged) -> None:
        # the index's paths are workspace-relative; the refresh wants them absolute
        self.notify_paths([Path(self.app.root) / change.path for change in event.changes])

    def notify_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Some files changed on disk: refresh just them on the git worker (coalesced). Any thread."""
        if not self._setting("git.auto_refresh"):
            return
        items = [str(p) for p in paths if p]
        if not items:
            return
        with self._pending_lock:
            self._pending.update(items)
            if self._refresh_queued:
                return
            self._refresh_queued = True
        self.app.tasks.submit(self._drain_refresh, name="git refresh", worker=WORKER,
                              on_error=lambda exc: log.debug("git refresh failed: %s", exc))

    def _drain_refresh(self, ctx: TaskContext) -> StatusSnapshot | None:
        with self._pending_lock:
            paths, self._pending = self._pending, set()
            self._refresh_queued = False
        repo = self._git()
        if repo.info.kind != "worktree":
            return None
        return self._execute(ctx, lambda c, r: r.refresh(sorted(paths)), EMIT)

    # -- composite operations ----------------------------------------------------------------------
    def _workspace_rel(self, repo: Any, path: str) -> str:
        return Path(os.path.relpath(repo.workdir / path, self.app.root)).as_posix()

    def _discard(self, ctx: Any, repo: Any, paths: list[str]) -> Any:
        from marie.workspace.writes import FileChange

        plan = repo.discard_plan(paths)
        changes = [FileChange.write(self._workspace_rel(repo, p), data, mode) if data is not None
                   else FileChange.remove(self._workspace_rel(repo, p)) for p, data, mode in plan]
        result = self.app.writes.apply(changes, label="discard " + ", ".join(paths), source="git")
        self._after(repo, list(paths), None)
        return result

    def _discard_lines(self, ctx: Any, repo: Any, path: str, keys: list) -> Any:
        from marie.workspace.writes import FileChange

        _, data, mode = repo.discard_lines_plan(path, keys)
        result = self.app.writes.apply([FileChange.write(self._workspace_rel(repo, path), data, mode)],
                                       label=f"discard lines in {path}", source="git")
        self._after(repo, [path], None)
        return result

    def discard(self, paths: list[str], **callbacks: Unpack[Callbacks]) -> Task:
        """Throw away working-tree changes of these files (untracked files are deleted), through the
        checkpointed write path. Any thread; the work runs on the git worker."""
        return self.run_on_worker(self._discard, list(paths), name="git discard", **callbacks)

    def discard_sync(self, paths: list[str]) -> Any:
        return self.discard(paths).result()

    def discard_lines(self, path: str, keys: Iterable[tuple[str, int]], **callbacks: Unpack[Callbacks]) -> Task:
        return self.run_on_worker(self._discard_lines, path, list(keys), name="git discard lines", **callbacks)

    def discard_lines_sync(self, path: str, keys: Iterable[tuple[str, int]]) -> Any:
        return self.discard_lines(path, keys).result()

    def stage_hunk(self, path: str, hunk: Hunk, **callbacks: Unpack[Callbacks]) -> Task:
        return self.stage_lines(path, sorted(hunk.keys()), **callbacks)

    def unstage_hunk(self, path: str, hunk: Hunk, **callbacks: Unpack[Callbacks]) -> Task:
        return self.unstage_lines(path, sorted(hunk.keys()), **callbacks)

    def discard_hunk(self, path: str, hunk: Hunk, **callbacks: Unpack[Callbacks]) -> Task:
        return self.discard_lines(path, sorted(hunk.keys()), **callbacks)

    # -- AI commit message -----------------------------------------------------------------------
    @staticmethod
    def ai_available() -> bool:
        """True when the AI package is present (the panel shows its button only then)."""
        try:
            import marie.ai.types  # noqa: F401
            import marie.ai.service  # noqa: F401
        except Exception:
            return False
        return True

    def suggest_commit_message(self, on_done: Callable[[str], None] | None = None,
                               on_error: Callable[[BaseException], None] | None = None,
                               on_text: Callable[[str], None] | None = None,
                               max_tokens: int | None = None) -> Task:
        """Ask the "commit_message" model for a Conventional Commits message from the staged diff.
        Any thread; the inference runs on the "git-ai" worker (it must not hold up the git worker) and
        ``on_done(message)`` arrives through the dispatcher."""
        return self.app.tasks.submit(self._suggest, on_text, max_tokens, name="git commit message", worker="git-ai",
                                     on_done=on_done, on_error=on_error)

    def suggest_commit_message_sync(self, max_tokens: int | None = None) -> str:
        """Blocking form of ``suggest_commit_message`` (CLI, tests; never the GUI thread)."""
        return self.suggest_commit_message(max_tokens=max_tokens).result()

    def _suggest(self, ctx: Any, on_text: Callable[[str], None] | None = None, max_tokens: int | None = None) -> str:
        from marie.ai.types import ChatRequest
        from marie.git import commit_message as cm

        patch = self.staged_patch_sync()
        if not patch.strip():
            raise GitError("nothing is staged: stage some changes before asking for a message")
        ai = self.app.ai
        task = "commit_message"
        max_tokens = int(max_tokens or self._setting("git.ai_max_tokens") or 48)
        caps = ai.capabilities(task)
        # The diff is cut to the model's context, and to git.ai_max_diff_tokens so that a CPU model
        # answers in seconds; the file list is always sent whole.
        limit = caps.context_length
        cap = self._setting("git.ai_max_diff_tokens")
        if cap:
            limit = min(limit, int(cap) + max_tokens + 400)
        messages = cm.build_messages(patch, limit, max_tokens, lambda text: ai.count_tokens(text, task))
        request = ChatRequest(messages, max_tokens=max_tokens, temperature=0.0,
                              grammar=cm.build_grammar(cm.paths_of(patch), bool(self._setting("git.ai_body")))
                              if caps.grammar else None)
        poster = (lambda text: self.app.dispatcher.post(on_text, text)) if on_text else None
        completion = ai.complete(task, request, token=ctx.token if ctx is not None else None, on_text=poster)
        message = cm.clean_ai_message(completion.text)
        if not cm.is_conventional(message):
            raise GitError(f"the model did not write a Conventional Commits message (it wrote {message[:80]!r}); "
                           "try again or write one yourself")
        return message

    # -- lifetime --------------------------------------------------------------------------------
    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if "marie.git.status_process" in sys.modules:
            sys.modules["marie.git.status_process"].shutdown()
        raw = self._repo._repo if self._repo is not None else None
        if raw is not None:
            # free libgit2's handles on the thread that owns them, without waiting on a shut-down pool
            try:
                self.app.tasks.submit(lambda ctx: raw.free(), worker=WORKER)
            except RuntimeError:
                pass


__all__ = ["GitService", "RepoInfo", "clean_ai_message"]
