"""Merge a branch or commit into HEAD (fast-forward, merge commit, or conflicts left in the files),
and finish a merge once the conflicts are resolved. Git worker only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pygit2.enums import CheckoutStrategy, MergeAnalysis

from marie.git import hooks as hooklib
from marie.git.model import CommitResult, DirtyTreeError, GitError, MergeResult
from marie.git.handle import RepoHandle


class MergeOps(RepoHandle):
    """Merge (git worker only)."""

    def merge(self, name: str) -> MergeResult:
        """Merge a branch (or any commit) into HEAD. Conflicts are left in the files with markers, as
        git leaves them, and listed; commit after resolving them."""
        self._worktree()
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
            repo.create_reference(str(repo.lookup_reference("HEAD").target), commit.id, force=True)
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
