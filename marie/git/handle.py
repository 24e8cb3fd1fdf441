"""``RepoHandle``: the thread-owned handle on one repository, and its status.

libgit2 objects are not thread-safe, so a handle and every pygit2 object it touches live on the
"git" worker (``GitService`` guarantees it). It finds the repository (``discover``), maps paths
(repository-relative POSIX; ``info.prefix`` says where the project folder sits inside the repository),
reads blobs from HEAD, the index and the working tree, and computes the status (``status``, and
``refresh`` for a few paths). The operations are in the modules named for them (``staging``,
``diffs``, ``commit``, ``branches``, ``merge``, ``stash``, ``history``, ``remote``), put together
as ``marie.git.repository.GitRepo``. Nothing here writes a user's working-tree file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pygit2
from pygit2.enums import DeltaStatus, FileMode, FileStatus, RepositoryState

from marie.git.model import (CommitInfo, DiffLine, FileDiff, FileStatus as Status, GitError, Hunk, MergeResult,
                             NotARepository, RepoInfo, StashInfo, StatusSnapshot)


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
        return tuple(sorted(str(entry.value) for entry in config
                            if entry.name.startswith("submodule.") and entry.name.endswith(".path")))
    except pygit2.GitError:
        return ()


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def patch_to_file(patch: Any) -> FileDiff:
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


def commit_info(commit: Any) -> CommitInfo:
    author = commit.author
    message = commit.message
    summary = message.split("\n", 1)[0]
    return CommitInfo(str(commit.id), str(commit.id)[:7], tuple(str(p) for p in commit.parent_ids),
                      author.name, author.email, author.time, author.offset, summary, message)


class RepoHandle:
    """One repository, used from one thread only (the git worker)."""

    if TYPE_CHECKING:   # operations from the other modules that some operations build on (all in GitRepo)
        def stash_save(self, message: str = "", include_untracked: bool = False) -> StashInfo: ...
        def staged_patch(self) -> str: ...
        def _merge_commit(self, commit: Any, message: str) -> MergeResult: ...

    def __init__(self, root: Path, settings: Callable[[str], Any] | None = None) -> None:
        self.root = Path(root)
        self._setting = settings or (lambda key: None)
        self.info, self._repo = discover(self.root)
        self._status: StatusSnapshot | None = None
        self.pre_commit_scanners: list[Callable[[str], list[str]]] = []

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
        return self.repo[entry.id].peel(pygit2.Blob).data, entry.filemode

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
        return self.repo[entry.id].peel(pygit2.Blob).data, entry.mode

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

    def _lookup_commit(self, rev: str) -> Any:
        try:
            return self.repo.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            raise GitError(f"no commit named {rev!r}") from None

    def _context(self) -> int:
        value = self._setting("git.context_lines")
        return 3 if value is None else int(value)

    def _patch(self, old: bytes | None, new: bytes | None, path: str) -> FileDiff:
        patch = pygit2.Patch.create_from(old, new, old_as_path=path, new_as_path=path,
                                         context_lines=self._context())
        diff = patch_to_file(patch)
        status = "added" if old is None else "deleted" if new is None else "modified"
        return FileDiff(path, None, status, diff.binary, diff.hunks, diff.patch)

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

    def _refuse_during_rebase(self, what: str) -> None:
        # Moving HEAD under a stopped rebase would make "continue" build on the wrong commit.
        if self._rebase_in_progress():
            raise GitError(f"a rebase is stopped: continue or abort it before {what}")

    def _rebase_in_progress(self) -> bool:
        return (Path(self.repo.path) / "marie-rebase.json").is_file()

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
