"""``GitService`` (``app.git``): git for the GUI, the CLI and the tests, on ONE worker thread.

Every pygit2 call runs on the "git" worker (``app.tasks``, ``worker="git"``), in order, because
libgit2 objects are not thread-safe. Each operation of ``GitRepo`` is offered twice:

- ``git.status(on_done=..., on_error=...) -> Task``: any thread, returns at once; callbacks arrive
  through the app's dispatcher (the GUI thread in the window);
- ``git.status_sync()``: blocks until done (CLI, tests, other workers; never the GUI thread).

Operations that change the repository announce the new status with the event
``"git.status"(status=StatusSnapshot)``. Saves, writes and watcher events ("file.saved",
"files.written", "index.changed") trigger an incremental refresh of just those paths.
Discards go through ``app.writes.apply`` (checkpoint first), so nothing discarded is lost.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from marie.core.events import FILE_SAVED, FILES_WRITTEN, INDEX_CHANGED
from marie.core.tasks import Task
from marie.git.commit_message import clean_ai_message
from marie.git.model import GitError, Hunk, RepoInfo, StatusSnapshot

log = logging.getLogger(__name__)

GIT_STATUS = "git.status"   # status: StatusSnapshot — after any change to the repository's status
WORKER = "git"

# GitRepo methods offered as `name(...) -> Task` and `name_sync(...)`. Values: what to refresh
# afterwards: None = nothing, "paths" = the paths in the first argument, "full" = a full status.
_OPS: dict[str, str | None] = {
    "info": None, "status": "emit", "refresh": "emit", "file_diff": None, "buffer_diff": None, "diff": None, "commit_diff": None,
    "staged_patch": None, "stage": "paths", "stage_all": "full", "unstage": "paths", "stage_lines": "paths",
    "unstage_lines": "paths", "commit": "full", "branches": None, "create_branch": "full", "switch": "full",
    "checkout_detached": "full", "rename_branch": "full", "delete_branch": None, "merge": "full",
    "conflicts": None, "conflict_line": None, "merge_message": None, "blame_buffer": None, "finish_merge": "full", "stash_save": "full", "stashes": None,
    "stash_apply": "full", "stash_pop": "full", "stash_drop": None, "log": None, "blame": None,
    "remotes": None, "add_remote": None, "fetch": "full", "pull": "full", "push": "full",
    "rebase_continue": "full", "rebase_abort": "full",
}
_TAKES_CTX = {"fetch", "pull", "push"}


class GitService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._repo = None  # GitRepo, created and used on the git worker only
        self.pre_commit_scanners: list[Callable[[str], list[str]]] = []
        self.last_status: StatusSnapshot | None = None  # immutable; safe to read from any thread
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()
        self._refresh_queued = False
        self._worker_thread: int | None = None
        events = app.events
        self._unsubscribe = [
            events.subscribe(FILE_SAVED, lambda path=None, **_: self.notify_paths([path] if path else [])),
            events.subscribe(FILES_WRITTEN, lambda paths=(), **_: self.notify_paths(paths)),
            events.subscribe(INDEX_CHANGED, self._on_index_changed),
        ]

    # -- the worker ------------------------------------------------------------------------------
    def _git(self):
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

    def _run_op(self, ctx: Any, name: str, args: tuple, kwargs: dict) -> Any:
        repo = self._git()
        if name == "info":
            return repo.info
        method = getattr(repo, name)
        if name in _TAKES_CTX:
            kwargs = {**kwargs, "ctx": ctx}
        result = method(*args, **kwargs)
        self._after(repo, name, args, result)
        return result

    def _after(self, repo: Any, name: str, args: tuple, result: Any) -> None:
        what = _OPS.get(name)
        if what is None:
            return
        if what == "emit":
            snapshot = result
        else:
            try:
                if what == "paths" and args:
                    first = args[0]
                    paths = [first] if isinstance(first, (str, os.PathLike)) else list(first)
                    snapshot = repo.refresh(repo.workdir / p for p in paths)
                else:
                    snapshot = repo.status()
            except GitError:
                return
        if isinstance(snapshot, StatusSnapshot):
            self.last_status = snapshot
            self.app.events.emit(GIT_STATUS, status=snapshot)

    def on_worker(self) -> bool:
        return self._worker_thread == threading.get_ident()

    def submit(self, name: str, *args: Any, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[Any], None] | None = None, token: Any = None, quiet: bool = False,
               **kwargs: Any) -> Task:
        """Queue operation ``name`` on the git worker; any thread."""
        return self.app.tasks.submit(self._run_op, name, args, kwargs, name=f"git {name}", worker=WORKER,
                                     on_done=on_done, on_error=on_error, on_progress=on_progress, token=token,
                                     quiet=quiet)

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run operation ``name`` on the git worker and wait (CLI, tests, other workers)."""
        if self.on_worker():
            return self._run_op(None, name, args, kwargs)
        return self.submit(name, *args, quiet=True, **kwargs).result(timeout)

    def run_on_worker(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Task:
        """Run ``fn(ctx, repo, *args)`` on the git worker (for composite operations); any thread."""
        return self.app.tasks.submit(lambda ctx, *a: fn(ctx, self._git(), *a), *args, worker=WORKER, **kw)

    # -- auto refresh -----------------------------------------------------------------------------
    def _on_index_changed(self, snapshot: Any = None, changes: Any = None, **_: Any) -> None:
        self.notify_paths(_paths_of(changes))

    def notify_paths(self, paths: Iterable[Any]) -> None:
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

    def _drain_refresh(self, ctx: Any) -> StatusSnapshot | None:
        with self._pending_lock:
            paths, self._pending = self._pending, set()
            self._refresh_queued = False
        repo = self._git()
        if repo.info.kind != "worktree":
            return None
        return self._run_op(ctx, "refresh", (sorted(paths),), {})

    # -- composite operations ----------------------------------------------------------------------
    def _workspace_rel(self, repo: Any, path: str) -> str:
        return Path(os.path.relpath(repo.workdir / path, self.app.root)).as_posix()

    def _discard(self, ctx: Any, repo: Any, paths: list[str]) -> Any:
        from marie.checkpoints.write_path import FileChange

        plan = repo.discard_plan(paths)
        changes = [FileChange.write(self._workspace_rel(repo, p), data, mode) if data is not None
                   else FileChange.remove(self._workspace_rel(repo, p)) for p, data, mode in plan]
        result = self.app.writes.apply(changes, label="discard " + ", ".join(paths), source="git")
        self._after(repo, "stage", (paths,), None)
        return result

    def _discard_lines(self, ctx: Any, repo: Any, path: str, keys: list) -> Any:
        from marie.checkpoints.write_path import FileChange

        _, data, mode = repo.discard_lines_plan(path, keys)
        result = self.app.writes.apply([FileChange.write(self._workspace_rel(repo, path), data, mode)],
                                       label=f"discard lines in {path}", source="git")
        self._after(repo, "stage", (path,), None)
        return result

    def discard(self, paths: list[str], **callbacks: Any) -> Task:
        """Throw away working-tree changes of these files (untracked files are deleted), through the
        checkpointed write path. Any thread; the work runs on the git worker."""
        return self.run_on_worker(self._discard, list(paths), name="git discard", **callbacks)

    def discard_sync(self, paths: list[str]) -> Any:
        return self.discard(paths).result()

    def discard_lines(self, path: str, keys: Iterable[tuple[str, int]], **callbacks: Any) -> Task:
        return self.run_on_worker(self._discard_lines, path, list(keys), name="git discard lines", **callbacks)

    def discard_lines_sync(self, path: str, keys: Iterable[tuple[str, int]]) -> Any:
        return self.discard_lines(path, keys).result()

    def stage_hunk(self, path: str, hunk: Hunk, **callbacks: Any) -> Task:
        return self.stage_lines(path, sorted(hunk.keys()), **callbacks)

    def unstage_hunk(self, path: str, hunk: Hunk, **callbacks: Any) -> Task:
        return self.unstage_lines(path, sorted(hunk.keys()), **callbacks)

    def discard_hunk(self, path: str, hunk: Hunk, **callbacks: Any) -> Task:
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

        patch = self.call("staged_patch")
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
        repo = self._repo
        if repo is not None and getattr(repo, "_repo", None) is not None:
            # free libgit2's handles on the thread that owns them, without waiting on a shut-down pool
            try:
                self.app.tasks.submit(lambda ctx: repo._repo.free(), worker=WORKER)
            except RuntimeError:
                pass


def _paths_of(changes: Any) -> list[str]:
    """Paths from an "index.changed" payload, whatever its exact shape (paths, entries, pairs)."""
    if not changes:
        return []
    if isinstance(changes, dict):
        items: Iterable[Any] = [p for v in changes.values() for p in (v if isinstance(v, (list, tuple, set)) else [v])]
    else:
        items = changes
    out: list[str] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            out.append(str(item))
        elif hasattr(item, "path"):
            out.append(str(item.path))
        elif isinstance(item, (tuple, list)) and item:
            out.extend(str(x) for x in item if isinstance(x, (str, os.PathLike)) and x not in ("added", "removed", "modified", "changed", "deleted", "created"))
    return out


def _make_op(name: str) -> tuple[Callable[..., Task], Callable[..., Any]]:
    from marie.git.repository import GitRepo  # for the docstring only

    doc = (getattr(GitRepo, name, None).__doc__ or "") if hasattr(GitRepo, name) else ""

    def async_op(self: GitService, *args: Any, on_done=None, on_error=None, on_progress=None, token=None,
                 **kwargs: Any) -> Task:
        return self.submit(name, *args, on_done=on_done, on_error=on_error, on_progress=on_progress,
                           token=token, **kwargs)

    def sync_op(self: GitService, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return self.call(name, *args, timeout=timeout, **kwargs)

    async_op.__name__, sync_op.__name__ = name, f"{name}_sync"
    async_op.__doc__ = f"{doc.strip()}\n\nQueued on the git worker; returns a Task (callbacks via the dispatcher)."
    sync_op.__doc__ = f"{doc.strip()}\n\nBlocking; runs on the git worker. Not for the GUI thread."
    return async_op, sync_op


for _name in _OPS:
    _async, _sync = _make_op(_name)
    setattr(GitService, _name, _async)
    setattr(GitService, f"{_name}_sync", _sync)
del _name, _async, _sync

__all__ = ["GitService", "GIT_STATUS", "RepoInfo", "clean_ai_message"]
