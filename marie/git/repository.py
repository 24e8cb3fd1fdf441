"""``GitRepo``: every pygit2 operation MarieIDE makes, on one repository, from ONE thread.

libgit2 objects are not thread-safe, so a ``GitRepo`` and every pygit2 object it touches live on the
"git" worker (``GitService`` guarantees it). Methods return the plain values of ``marie.git.model``.
Paths are repository-relative POSIX paths (``prefix`` says where the project folder sits inside the
repository). Nothing here writes a user's working-tree file: discards return a plan that the service
applies through the checkpointed write path.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import pygit2
from pygit2.enums import (BranchType, CheckoutStrategy, CredentialType, DeltaStatus, FileMode, FileStatus,
                          MergeAnalysis, RepositoryState, SortMode)

from marie.git import hooks as hooklib
from marie.git.graph import assign_lanes
from marie.git.model import (BlameLine, BranchInfo, CommitInfo, CommitResult, DirtyTreeError, DiffLine, FileDiff,
                             FileStatus as Status, GitError, HookFailed, Hunk, LogEntry, MergeResult,
                             NOT_COMMITTED, NotARepository, RepoInfo, StashInfo, StatusSnapshot,
                             UNCOMMITTED_ID)
from marie.git.partial import apply_selected

_INDEX_KIND = ((FileStatus.INDEX_NEW, "added"), (FileStatus.INDEX_MODIFIED, "modified"),
               (FileStatus.INDEX_DELETED, "deleted"), (FileStatus.INDEX_RENAMED, "renamed"),
               (FileStatus.INDEX_TYPECHANGE, "typechange"))
_WT_KIND = ((FileStatus.WT_NEW, "added"), (FileStatus.WT_MODIFIED, "modified"),
            (FileStatus.WT_DELETED, "deleted"), (FileStatus.WT_RENAMED, "renamed"),
            (FileStatus.WT_TYPECHANGE, "typechange"), (FileStatus.WT_UNREADABLE, "modified"))
_INDEX_MASK = 0
for _flag, _ in _INDEX_KIND:
    _INDEX_MASK |= _flag


def to_status(path: str, flags: int) -> Status | None:
    """Translate libgit2 status flags; None for clean or ignored paths."""
    if flags & FileStatus.IGNORED or flags == FileStatus.CURRENT:
        return None
    if flags & FileStatus.CONFLICTED:
        return Status(path, conflicted=True)
    if flags == FileStatus.WT_NEW:
        return Status(path, untracked=True)
    index = next((name for flag, name in _INDEX_KIND if flags & flag), None)
    worktree = next((name for flag, name in _WT_KIND if flags & flag), None)
    return Status(path, index, worktree)


def discover(root: Path) -> tuple[RepoInfo, pygit2.Repository | None]:
    """Find the repository holding ``root`` (this folder or a parent). Git worker."""
    try:
        found = pygit2.discover_repository(str(root))
    except pygit2.GitError as exc:
        return RepoInfo("none", f"git could not read the repository around {root}: {exc}"), None
    if not found:
        return RepoInfo("none", f"{root} is not inside a git repository (no .git here or in a parent folder). "
                                "Run `git init` there to start one."), None
    try:
        repo = pygit2.Repository(found)
    except pygit2.GitError as exc:
        return RepoInfo("none", f"{found} looks like a git repository but cannot be opened: {exc}"), None
    gitdir = str(Path(repo.path).resolve())
    if repo.is_bare or not repo.workdir:
        return RepoInfo("bare", f"{found} is a bare repository: it has no working tree, so there is nothing "
                                "to stage or commit here. History and branches are still shown.",
                        None, gitdir), repo
    workdir = str(Path(repo.workdir).resolve()) + os.sep
    rel = os.path.relpath(root, workdir)
    prefix = "" if rel == "." else Path(rel).as_posix() + "/"
    submodules = _submodule_paths(Path(workdir) / ".gitmodules")
    linked = (Path(root) / ".git").is_file() or (Path(gitdir) / "commondir").is_file()
    return RepoInfo("worktree", "", workdir, gitdir, prefix, linked, submodules), repo


def _submodule_paths(gitmodules: Path) -> tuple[str, ...]:
    # Read .gitmodules directly: libgit2's submodule listing loads the whole index (slow, GIL held).
    if not gitmodules.is_file():
        return ()
    try:
        config = pygit2.Config(str(gitmodules))
        return tuple(sorted(entry.value for entry in config
                            if entry.name.startswith("submodule.") and entry.name.endswith(".path")))
    except pygit2.GitError:
        return ()


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def _patch_to_file(patch: Any) -> FileDiff:
    delta = patch.delta
    status = DeltaStatus(delta.status).name.lower()
    hunks: list[Hunk] = []
    binary = bool(delta.is_binary)
    if not binary:
        for hunk in patch.hunks:
            lines = tuple(DiffLine(line.origin, _decode(line.raw_content), line.raw_content,
                                   line.old_lineno if line.old_lineno > 0 else None,
                                   line.new_lineno if line.new_lineno > 0 else None)
                          for line in hunk.lines if line.origin in "+- ")
            hunks.append(Hunk(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines,
                              hunk.header.rstrip("\n"), lines))
    try:
        text = patch.text or ""
    except Exception:  # undecodable content: show the header only
        text = f"diff --git a/{delta.old_file.path} b/{delta.new_file.path}\n(binary or undecodable content)\n"
    old_path = delta.old_file.path if delta.old_file.path != delta.new_file.path else None
    return FileDiff(delta.new_file.path, old_path, status, binary, tuple(hunks), text)


def _commit_info(commit: Any) -> CommitInfo:
    author = commit.author
    message = commit.message
    summary = message.split("\n", 1)[0]
    return CommitInfo(str(commit.id), str(commit.id)[:7], tuple(str(p) for p in commit.parent_ids),
                      author.name, author.email, author.time, author.offset, summary, message)


class GitRepo:
    """One repository, used from one thread only (the git worker)."""

    def __init__(self, root: Path, settings: Callable[[str], Any] | None = None) -> None:
        self.root = Path(root)
        self._setting = settings or (lambda key: None)
        self.info, self._repo = discover(self.root)
        self._status: StatusSnapshot | None = None
        self.pre_commit_scanners: list[Callable[[str], list[str]]] = []

    # -- basics ---------------------------------------------------------------------------------
    @property
    def repo(self) -> pygit2.Repository:
        if self._repo is None:
            raise NotARepository(self.info.message)
        return self._repo

    def _worktree(self) -> pygit2.Repository:
        repo = self.repo
        if self.info.kind == "bare":
            raise GitError(self.info.message)
        return repo

    @property
    def workdir(self) -> Path:
        self._worktree()
        return Path(self.info.workdir or "")

    def repo_path(self, path: Path | str) -> str:
        """Repository-relative POSIX path for an absolute path or a project-relative one."""
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        rel = os.path.relpath(p, self.workdir)
        if rel.startswith(".."):
            raise GitError(f"{path} is outside the repository at {self.workdir}")
        return Path(rel).as_posix()

    def _read_worktree(self, path: str) -> bytes | None:
        full = self.workdir / path
        if full.is_symlink():
            return os.readlink(full).encode()
        try:
            return full.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise GitError(f"{path} is a folder; choose a file") from None

    def _head_commit(self) -> Any | None:
        repo = self.repo
        if repo.head_is_unborn:
            return None
        return repo.head.peel(pygit2.Commit)

    def _head_blob(self, path: str) -> tuple[bytes | None, int | None]:
        commit = self._head_commit()
        if commit is None:
            return None, None
        try:
            entry = commit.tree[path]
        except KeyError:
            return None, None
        return self.repo[entry.id].data, entry.filemode

    def _fresh_index(self) -> Any:
        """The index, re-read if another program (the git command line, a hook) changed it."""
        index = self.repo.index
        index.read(False)  # only reads when the file's stamp changed
        return index

    def _index_blob(self, path: str) -> tuple[bytes | None, int | None]:
        index = self._fresh_index()
        try:
            entry = index[path]
        except KeyError:
            return None, None
        return self.repo[entry.id].data, entry.mode

    def _worktree_mode(self, path: str) -> int:
        full = self.workdir / path
        st = full.lstat()
        if stat.S_ISLNK(st.st_mode):
            return FileMode.LINK
        return FileMode.BLOB_EXECUTABLE if st.st_mode & stat.S_IXUSR else FileMode.BLOB

    def _signature(self) -> pygit2.Signature:
        # git's order: the environment, then the repository/global/system config.
        name = os.environ.get("GIT_COMMITTER_NAME") or os.environ.get("GIT_AUTHOR_NAME")
        email = os.environ.get("GIT_COMMITTER_EMAIL") or os.environ.get("GIT_AUTHOR_EMAIL")
        config = self.repo.config
        try:
            name = config["user.name"] if "user.name" in config else name
            email = config["user.email"] if "user.email" in config else email
        except (KeyError, pygit2.GitError):
            pass
        if not name or not email:
            raise GitError("git does not know who you are: set user.name and user.email "
                           "(`git config user.name \"Your Name\"` and `git config user.email you@example.com`)")
        return pygit2.Signature(name, email)

    # -- status ---------------------------------------------------------------------------------
    def _head_state(self) -> StatusSnapshot:
        repo = self.repo
        state = RepositoryState(repo.state()).name.lower()
        state = "" if state == "none" else state
        if self.info.kind == "worktree" and self._rebase_in_progress():
            state = "rebase"  # our pull --rebase stopped on a conflict (it cherry-picks underneath)
        if repo.head_is_unborn:
            target = repo.lookup_reference("HEAD").target
            branch = str(target).removeprefix("refs/heads/")
            return StatusSnapshot(branch, None, unborn=True, state=state)
        head = repo.head
        short = str(head.target)[:7]
        if repo.head_is_detached:
            return StatusSnapshot(None, short, detached=True, state=state)
        branch = head.shorthand
        upstream, ahead, behind = None, 0, 0
        try:
            local = repo.branches.local[branch]
            up = local.upstream
        except (KeyError, pygit2.GitError):
            up = None
        if up is not None:
            upstream = up.shorthand
            ahead, behind = repo.ahead_behind(head.target, up.target)
        return StatusSnapshot(branch, short, upstream=upstream, ahead=ahead, behind=behind, state=state)

    def status(self) -> StatusSnapshot:
        """Full status of the working tree and index (``git status``)."""
        repo = self._worktree()
        mode = self._setting("git.untracked_files") or "all"
        files: dict[str, Status] = {}
        threshold = self._setting("git.status_process_threshold") or 0
        if threshold and self._index_entries_estimate() >= threshold:
            from marie.git import status_process

            try:
                follow = self._setting("git.status_threads_follow_load")
                raw = status_process.status(str(self.workdir), mode, self._status_threads(),
                                            follow_load=bool(follow))
            except OSError:  # the helper could not run: do the walk here (slower for the GUI, same answer)
                raw = repo.status(untracked_files=mode)
        else:
            raw = repo.status(untracked_files=mode)
        for path, flags in raw.items():
            entry = to_status(path, flags)
            if entry is not None:
                files[path] = entry
        self._status = self._head_state().with_files(files)
        return self._status

    def _status_threads(self) -> int:
        # git.status_threads: 0 = one per core (at most 4; more adds little but index loads), 1 = no split
        wanted = int(self._setting("git.status_threads") or 0)
        return wanted if wanted > 0 else max(1, min(os.cpu_count() or 1, 4))

    def _index_entries_estimate(self) -> int:
        # From the index file's size (~100 bytes an entry), so that deciding does not load the
        # index here: loading 100k entries holds the GIL for a noticeable time too.
        try:
            return (Path(self.repo.path) / "index").stat().st_size // 100
        except OSError:
            return 0

    def refresh(self, paths: Iterable[Path | str]) -> StatusSnapshot:
        """Update the last status for these paths only (``status_file`` per path); a full status when
        there is none yet or a path is a folder."""
        repo = self._worktree()
        if self._status is None:
            return self.status()
        files = dict(self._status.files)
        for path in paths:
            try:
                rel = self.repo_path(path)
            except GitError:
                continue
            if rel == ".git" or rel.startswith(".git/"):
                return self.status()  # HEAD, refs or the index changed behind our back
            if (self.workdir / rel).is_dir() and not (self.workdir / rel).is_symlink():
                return self.status()
            try:
                flags = repo.status_file(rel)
            except KeyError:
                flags = FileStatus.CURRENT  # gone from the tree, the index and HEAD
            except (ValueError, pygit2.GitError):
                return self.status()
            entry = to_status(rel, flags)
            if entry is None:
                files.pop(rel, None)
            else:
                files[rel] = entry
        self._status = self._head_state().with_files(files)
        return self._status

    # -- diffs ----------------------------------------------------------------------------------
    def _context(self) -> int:
        value = self._setting("git.context_lines")
        return 3 if value is None else int(value)

    def _patch(self, old: bytes | None, new: bytes | None, path: str) -> FileDiff:
        patch = pygit2.Patch.create_from(old, new, old_as_path=path, new_as_path=path,
                                         context_lines=self._context())
        diff = _patch_to_file(patch)
        status = "added" if old is None else "deleted" if new is None else "modified"
        return FileDiff(path, None, status, diff.binary, diff.hunks, diff.patch)

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
        return [_patch_to_file(p) for p in diff if p is not None]

    def commit_diff(self, rev: str) -> tuple[CommitInfo, list[FileDiff]]:
        """A commit's details and its diff against its first parent."""
        commit = self._lookup_commit(rev)
        if commit.parents:
            diff = self.repo.diff(commit.parents[0], commit, context_lines=self._context())
        else:
            diff = commit.tree.diff_to_tree(swap=True, context_lines=self._context())
        return _commit_info(commit), [_patch_to_file(p) for p in diff if p is not None]

    def staged_patch(self) -> str:
        return "".join(d.patch for d in self.diff(staged=True))

    # -- stage / unstage / discard ---------------------------------------------------------------
    def stage(self, paths: Iterable[str]) -> list[str]:
        """``git add`` (also resolves a conflict and stages a deletion)."""
        repo = self._worktree()
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
        repo = self._worktree()
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
                index.add(pygit2.IndexEntry(path, commit.tree[path].id, mode))
            done.append(path)
        index.write()
        return done

    def _write_index_content(self, path: str, data: bytes | None, mode: int | None) -> None:
        index = self._fresh_index()
        if data is None:
            index.remove(path)
        else:
            oid = self.repo.create_blob(data)
            index.add(pygit2.IndexEntry(path, oid, mode or FileMode.BLOB))
        index.write()

    def _check_keys(self, diff: FileDiff, selected: set[tuple[str, int]]) -> None:
        known = {k for h in diff.hunks for k in h.keys()}
        missing = set(selected) - known
        if missing:
            raise GitError(f"{diff.path} changed since its diff was shown; refresh and select the lines again")

    def stage_lines(self, path: str, selected: Iterable[tuple[str, int]]) -> bytes:
        """Stage only the selected changed lines (keys from DiffLine.key); returns the new index content."""
        self._worktree()
        selected = set(map(tuple, selected))
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
        selected = set(map(tuple, selected))
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
        plan = []
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
        selected = set(map(tuple, selected))
        old, _mode = self._index_blob(path)
        new = self._read_worktree(path)
        diff = self._patch(old, new, path)
        if diff.binary:
            raise GitError(f"{path} is binary: discard the whole file instead")
        self._check_keys(diff, selected)
        keep = {k for h in diff.hunks for k in h.keys()} - selected
        return path, apply_selected(old or b"", diff.hunks, keep), None

    # -- commit ---------------------------------------------------------------------------------
    def _hooks_dir(self) -> Path:
        config = self.repo.config
        hooks_path = config["core.hooksPath"] if "core.hooksPath" in config else None
        return hooklib.hooks_dir(Path(self.repo.path), self.workdir, hooks_path)

    def commit(self, message: str, *, amend: bool = False, sign_off: bool = False,
               allow_empty: bool = False, run_hooks: bool = True) -> CommitResult:
        """Commit the index. Runs pre-commit, the pre-commit scanners, commit-msg, then post-commit."""
        repo = self._worktree()
        if self._rebase_in_progress():
            raise GitError("a rebase is in progress: continue it to commit the resolved changes (or abort it)")
        conflicts = self._fresh_index().conflicts
        if conflicts is not None and any(True for _ in conflicts):
            raise GitError("cannot commit: resolve the conflicts first (edit the files, then stage them)")
        head = self._head_commit()
        if amend and head is None:
            raise GitError("there is no commit to amend yet")
        outputs: list[str] = []
        hooks = self._hooks_dir()
        gitdir = Path(repo.path)
        if run_hooks:
            run = hooklib.run_hook(hooks, "pre-commit", [], self.workdir, gitdir, self._hook_timeout())
            if run is not None:
                outputs.append(run.output)
                if not run.ok:
                    raise HookFailed(f"pre-commit hook failed (exit {run.returncode}); nothing was committed",
                                     "pre-commit", run.output)
                repo.index.read(False)  # the hook may have staged files
        tree_id = repo.index.write_tree()
        base = (head.parents[0].tree.id if amend and head.parents else None) if amend else (head.tree.id if head else None)
        if amend and head is not None and not head.parents:
            base = repo.TreeBuilder().write()
        if head is None:
            base = repo.TreeBuilder().write()
        if tree_id == base and not allow_empty and not (amend and head is not None):
            raise GitError("nothing to commit: stage some changes first (or allow an empty commit)")
        if amend and head is not None and tree_id == head.tree.id and not message.strip():
            message = head.message
        findings: list[str] = []
        if self.pre_commit_scanners:
            patch = self.staged_patch()
            for scanner in self.pre_commit_scanners:
                findings.extend(scanner(patch) or [])
        if findings:
            text = "\n".join(findings)
            raise HookFailed("the staged changes look like they contain secrets; nothing was committed:\n" + text,
                             "scanner", text)
        sig = self._signature()
        message = hooklib.clean_message(message)
        if sign_off:
            message = hooklib.add_sign_off(message, sig.name, sig.email)
        if not message.strip():
            raise GitError("the commit message is empty; write a message first")
        if run_hooks:
            msg_file = gitdir / "COMMIT_EDITMSG"
            msg_file.write_text(message, encoding="utf-8")
            run = hooklib.run_hook(hooks, "commit-msg", [str(msg_file)], self.workdir, gitdir, self._hook_timeout())
            if run is not None:
                outputs.append(run.output)
                if not run.ok:
                    raise HookFailed(f"commit-msg hook failed (exit {run.returncode}); nothing was committed",
                                     "commit-msg", run.output)
                message = hooklib.clean_message(msg_file.read_text(encoding="utf-8"))
        author = sig
        if amend and head is not None:
            author = head.author  # git keeps the original author when amending
            parents = list(head.parent_ids)
            oid = repo.create_commit(None, author, sig, message, tree_id, parents)
            if repo.head_is_detached:
                repo.set_head(oid)
            else:
                repo.lookup_reference(repo.head.name).set_target(oid, f"commit (amend): {message.splitlines()[0]}")
        else:
            parents = [head.id] if head is not None else []
            merging = repo.listall_mergeheads() if head is not None else []
            parents += [h for h in merging if h not in parents]  # concluding a merge: record its parents
            oid = repo.create_commit("HEAD", author, sig, message, tree_id, parents)
            if merging:
                repo.state_cleanup()
        if run_hooks:
            run = hooklib.run_hook(hooks, "post-commit", [], self.workdir, gitdir, self._hook_timeout())
            if run is not None:
                outputs.append(run.output)
        return CommitResult(str(oid)[:7], message.splitlines()[0], "".join(outputs))

    def _hook_timeout(self) -> float:
        value = self._setting("git.hook_timeout")
        return float(value) if value else 300.0

    # -- branches -------------------------------------------------------------------------------
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

    def _lookup_commit(self, rev: str) -> Any:
        try:
            return self.repo.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            raise GitError(f"no commit named {rev!r}") from None

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

    def merge(self, name: str) -> MergeResult:
        """Merge a branch (or any commit) into HEAD. Conflicts are left in the files with markers, as
        git leaves them, and listed; commit after resolving them."""
        repo = self._worktree()
        if self.status().dirty:
            raise DirtyTreeError("commit or stash your changes before merging")
        commit = self._lookup_commit(name)
        return self._merge_commit(commit, f"Merge branch '{name}'")

    def _merge_commit(self, commit: Any, message: str) -> MergeResult:
        repo = self.repo
        analysis, _pref = repo.merge_analysis(commit.id)
        if analysis & MergeAnalysis.UP_TO_DATE:
            return MergeResult("up-to-date")
        if analysis & MergeAnalysis.UNBORN:
            repo.checkout_tree(commit, strategy=CheckoutStrategy.SAFE)
            repo.create_reference(repo.lookup_reference("HEAD").target, commit.id, force=True)
            return MergeResult("fast-forward", str(commit.id)[:7])
        if analysis & MergeAnalysis.FASTFORWARD:
            repo.checkout_tree(commit, strategy=CheckoutStrategy.SAFE)
            if repo.head_is_detached:
                repo.set_head(commit.id)
            else:
                repo.lookup_reference(repo.head.name).set_target(commit.id, "merge: fast-forward")
            self._status = None
            return MergeResult("fast-forward", str(commit.id)[:7])
        repo.merge(commit.id)
        index = repo.index
        if index.conflicts is not None:
            paths = sorted({(entry[1] or entry[2] or entry[0]).path for entry in index.conflicts})
            if paths:
                merge_msg = Path(repo.path) / "MERGE_MSG"
                merge_msg.write_text(message + "\n\nConflicts:\n" + "".join(f"\t{p}\n" for p in paths), encoding="utf-8")
                self._status = None
                return MergeResult("conflicts", None, tuple(paths))
        tree = index.write_tree()
        sig = self._signature()
        oid = repo.create_commit("HEAD", sig, sig, message + "\n", tree, [repo.head.target, commit.id])
        repo.state_cleanup()
        self._status = None
        return MergeResult("merged", str(oid)[:7])

    def conflicts(self) -> list[str]:
        index = self._fresh_index()
        if index.conflicts is None:
            return []
        return sorted({(e[1] or e[2] or e[0]).path for e in index.conflicts})

    def conflict_line(self, path: str) -> int | None:
        """1-based line of the first ``<<<<<<<`` marker in the working file, or None."""
        data = self._read_worktree(path) or b""
        for number, line in enumerate(data.split(b"\n"), start=1):
            if line.startswith(b"<<<<<<<"):
                return number
        return None

    def merge_message(self) -> str:
        """The prepared message of a merge in progress (MERGE_MSG), or ""."""
        path = Path(self.repo.path) / "MERGE_MSG"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def finish_merge(self, message: str | None = None) -> CommitResult:
        """Commit a merge whose conflicts were resolved and staged (two parents)."""
        repo = self._worktree()
        heads = repo.listall_mergeheads()
        if not heads:
            raise GitError("no merge is in progress")
        if self.conflicts():
            raise GitError("cannot commit: resolve the conflicts first (edit the files, then stage them)")
        message = hooklib.clean_message(message or self.merge_message())
        tree = repo.index.write_tree()
        sig = self._signature()
        oid = repo.create_commit("HEAD", sig, sig, message, tree, [repo.head.target, *heads])
        repo.state_cleanup()
        return CommitResult(str(oid)[:7], message.splitlines()[0] if message else "")

    # -- stash ----------------------------------------------------------------------------------
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
        self._worktree()
        self._stash_index(index)
        try:
            self.repo.stash_apply(index)
        except pygit2.GitError as exc:
            raise GitError(f"cannot apply stash {index}: {exc}") from None
        self._status = None

    def stash_pop(self, index: int = 0) -> None:
        self._worktree()
        self._stash_index(index)
        try:
            self.repo.stash_pop(index)
        except pygit2.GitError as exc:
            raise GitError(f"cannot pop stash {index}: {exc}") from None
        self._status = None

    def stash_drop(self, index: int = 0) -> None:
        self._stash_index(index)
        self.repo.stash_drop(index)

    # -- history --------------------------------------------------------------------------------
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
        infos = [_commit_info(c) for c in picked]
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
                summaries[oid] = repo[hunk.final_commit_id].message.split("\n", 1)[0]
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

    # -- remotes --------------------------------------------------------------------------------
    def remotes(self) -> list[tuple[str, str]]:
        return [(r.name, r.url) for r in self.repo.remotes]

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
        if state.detached or state.unborn:
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

    def _refuse_during_rebase(self, what: str) -> None:
        # Moving HEAD under a stopped rebase would make "continue" build on the wrong commit.
        if self._rebase_in_progress():
            raise GitError(f"a rebase is stopped: continue or abort it before {what}")

    def _rebase_in_progress(self) -> bool:
        return (Path(self.repo.path) / "marie-rebase.json").is_file()

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


def _uncommitted(line: int) -> BlameLine:
    return BlameLine(line, UNCOMMITTED_ID, "Not Committed Yet", int(time.time()), NOT_COMMITTED)


def _moved(entry: BlameLine | None, line: int) -> BlameLine:
    if entry is None:  # cannot happen for a consistent diff; say so rather than guess
        return _uncommitted(line)
    return BlameLine(line, entry.commit, entry.author, entry.time, entry.summary)


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
