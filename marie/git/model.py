"""Plain, immutable values the git service hands out (no pygit2 objects ever leave the git worker).

Views, the CLI and tests only see these dataclasses, so they can be passed across threads freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


class GitError(RuntimeError):
    """A git operation could not be done; the message says why, in words for the user."""


class NotARepository(GitError):
    """The workspace is not inside a git repository."""


class DirtyTreeError(GitError):
    """Switching branches would overwrite local changes (the user may stash them instead)."""


class HookFailed(GitError):
    """A pre-commit or commit-msg hook (or a pre-commit scanner) refused the commit."""

    def __init__(self, message: str, hook: str, output: str) -> None:
        super().__init__(message)
        self.hook = hook
        self.output = output


@dataclass(frozen=True)
class RepoInfo:
    """Where the repository is and what kind it is (``kind``: "none" | "bare" | "worktree")."""

    kind: str
    message: str = ""
    workdir: str | None = None        # absolute, with a trailing "/"
    gitdir: str | None = None
    prefix: str = ""                  # the project folder relative to the repository root ("" or "sub/")
    is_linked_worktree: bool = False
    submodules: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileStatus:
    """One changed path. ``index``/``worktree`` are "added" | "modified" | "deleted" | "renamed" |
    "typechange" | None; ``untracked`` and ``conflicted`` are separate groups."""

    path: str                       # repository-relative POSIX path
    index: str | None = None
    worktree: str | None = None
    untracked: bool = False
    conflicted: bool = False

    @property
    def staged(self) -> bool:
        return self.index is not None and not self.conflicted

    @property
    def unstaged(self) -> bool:
        return self.worktree is not None and not self.untracked and not self.conflicted

    def short(self) -> str:
        """Two-letter code like ``git status --short``."""
        if self.conflicted:
            return "UU"
        if self.untracked:
            return "??"
        code = {"added": "A", "modified": "M", "deleted": "D", "renamed": "R", "typechange": "T", None: " "}
        return code[self.index] + code[self.worktree]


@dataclass(frozen=True)
class StatusSnapshot:
    branch: str | None              # None when HEAD is detached
    head: str | None                # short commit id; None on an unborn branch
    detached: bool = False
    unborn: bool = False
    upstream: str | None = None
    ahead: int = 0
    behind: int = 0
    state: str = ""                 # "" | "merge" | "rebase" | "cherrypick" | ...
    files: dict[str, FileStatus] = field(default_factory=dict)

    def group(self, name: str) -> list[FileStatus]:
        """Files of one group: "staged" | "changes" | "untracked" | "conflicts", sorted by path."""
        test = {"staged": lambda f: f.staged, "changes": lambda f: f.unstaged,
                "untracked": lambda f: f.untracked, "conflicts": lambda f: f.conflicted}[name]
        return sorted((f for f in self.files.values() if test(f)), key=lambda f: f.path)

    @property
    def dirty(self) -> bool:
        """Tracked changes (staged or not) or conflicts; untracked files do not count."""
        return any(f.staged or f.unstaged or f.conflicted for f in self.files.values())

    def branch_label(self) -> str:
        """"main ↑1 ↓2", "(detached at 1a2b3c4)", "main (no commits yet)"."""
        if self.detached:
            return f"(detached at {self.head})"
        label = self.branch or "?"
        if self.unborn:
            return f"{label} (no commits yet)"
        if self.ahead:
            label += f" ↑{self.ahead}"
        if self.behind:
            label += f" ↓{self.behind}"
        return label

    def with_files(self, files: dict[str, FileStatus]) -> "StatusSnapshot":
        return StatusSnapshot(self.branch, self.head, self.detached, self.unborn, self.upstream,
                              self.ahead, self.behind, self.state, files)


@dataclass(frozen=True)
class DiffLine:
    kind: str                       # "+" | "-" | " "
    text: str                       # decoded for display (without the line end)
    raw: bytes                      # exact bytes, with the line end when the file has one
    old_no: int | None
    new_no: int | None

    @property
    def key(self) -> tuple[str, int] | None:
        """Identifies a changed line for line staging: ("+", new line) or ("-", old line)."""
        if self.kind == "+":
            return ("+", self.new_no or 0)
        if self.kind == "-":
            return ("-", self.old_no or 0)
        return None


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    header: str
    lines: tuple[DiffLine, ...]

    def keys(self) -> set[tuple[str, int]]:
        return {line.key for line in self.lines if line.key}

    def new_range(self) -> tuple[int, int]:
        """1-based inclusive range of new-file lines this hunk covers (start > end for a pure deletion)."""
        return self.new_start, self.new_start + self.new_lines - 1


@dataclass(frozen=True)
class FileDiff:
    path: str
    old_path: str | None
    status: str                     # "added" | "modified" | "deleted" | "renamed" | ...
    binary: bool
    hunks: tuple[Hunk, ...] = ()
    patch: str = ""                 # unified diff text, as `git diff` prints it

    @property
    def additions(self) -> int:
        return sum(1 for h in self.hunks for line in h.lines if line.kind == "+")

    @property
    def deletions(self) -> int:
        return sum(1 for h in self.hunks for line in h.lines if line.kind == "-")


def keys_in_new_range(hunks: Iterable[Hunk], first: int, last: int) -> set[tuple[str, int]]:
    """Changed-line keys whose new-file position lies in ``first..last`` (1-based, inclusive).

    A deleted line sits between new lines; it counts when the line after it is in the range, so
    selecting the lines around a deletion in an editor selects the deletion too.
    """
    keys: set[tuple[str, int]] = set()
    for hunk in hunks:
        next_new = hunk.new_start if hunk.new_lines else hunk.new_start + 1
        for line in hunk.lines:
            if line.kind == "+":
                if first <= (line.new_no or 0) <= last:
                    keys.add(line.key)  # type: ignore[arg-type]
                next_new = (line.new_no or 0) + 1
            elif line.kind == " ":
                next_new = (line.new_no or 0) + 1
            elif line.kind == "-" and first <= next_new <= last + 1 and next_new >= first:
                keys.add(line.key)  # type: ignore[arg-type]
    return keys


@dataclass(frozen=True)
class CommitInfo:
    id: str
    short: str
    parents: tuple[str, ...]
    author: str
    email: str
    time: int                       # seconds since the epoch
    offset: int                     # minutes east of UTC
    summary: str
    message: str


@dataclass(frozen=True)
class LogEntry:
    commit: CommitInfo
    column: int                     # the graph lane of this commit
    lanes: int                      # how many lanes are active on this row
    parent_columns: tuple[int, ...] # lanes the edges to the parents go to
    refs: tuple[str, ...] = ()      # branch names pointing here


@dataclass(frozen=True)
class CommitResult:
    id: str
    summary: str
    hook_output: str = ""


@dataclass(frozen=True)
class BranchInfo:
    name: str                       # "main" or "origin/main"
    remote: bool
    current: bool
    target: str                     # short commit id
    upstream: str | None = None
    ahead: int = 0
    behind: int = 0
    merged: bool = False            # local branches: its tip is reachable from HEAD (safe to delete)


@dataclass(frozen=True)
class MergeResult:
    kind: str                       # "up-to-date" | "fast-forward" | "merged" | "conflicts" | "rebased"
                                    # | "rebase-conflicts" (commit = the one stopped at) | "rebase-aborted"
    commit: str | None = None
    conflicts: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "conflicts":
            return "merge stopped with conflicts in: " + ", ".join(self.conflicts)
        if self.kind == "rebase-conflicts":
            return (f"rebase stopped at {self.commit} with conflicts in: " + ", ".join(self.conflicts)
                    + "; resolve and stage them, then continue the rebase (or abort it)")
        return {"up-to-date": "already up to date", "fast-forward": f"fast-forwarded to {self.commit}",
                "merged": f"merged as {self.commit}", "rebased": f"rebased onto upstream, now at {self.commit}",
                "pushed": "pushed", "rebase-aborted": f"rebase aborted; back at {self.commit}"}.get(self.kind, self.kind)


@dataclass(frozen=True)
class StashInfo:
    index: int
    message: str
    commit: str


UNCOMMITTED_ID = "0000000"
NOT_COMMITTED = "Not committed yet"


@dataclass(frozen=True)
class BlameLine:
    line: int                       # 1-based line (of the committed file, or of the buffer for blame_buffer)
    commit: str                     # short id; UNCOMMITTED_ID for a line not committed yet
    author: str
    time: int
    summary: str

    @property
    def committed(self) -> bool:
        return self.commit != UNCOMMITTED_ID
