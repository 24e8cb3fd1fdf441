"""``GitRepo``: every pygit2 operation MarieIDE makes on one repository, from ONE thread.

It is the thread-owned handle (``marie.git.handle.RepoHandle``: discovery, paths, blobs, status)
with the operations of the modules named for them: ``staging``, ``diffs``, ``commit``, ``branches``,
``merge``, ``stash``, ``history`` and ``remote`` (pull with rebase in ``rebase``). libgit2 objects
are not thread-safe, so a ``GitRepo`` and every pygit2 object it touches live on the "git" worker
(``GitService`` guarantees it). Methods return the plain values of ``marie.git.model``. Nothing here
writes a user's working-tree file on its own account: discards return a plan that the service
applies through the write path, and the checkouts (switch, merge, stash apply/pop, pull, rebase) are
bracketed by the service with ``app.writes.external`` (a checkpoint before, ``FilesWritten`` after).
"""

from __future__ import annotations

from marie.git.branches import BranchOps
from marie.git.commit import CommitOps
from marie.git.diffs import DiffOps
from marie.git.handle import discover, to_status
from marie.git.history import HistoryOps
from marie.git.merge import MergeOps
from marie.git.remote import RemoteOps
from marie.git.staging import StagingOps
from marie.git.stash import StashOps


class GitRepo(StagingOps, DiffOps, CommitOps, BranchOps, MergeOps, StashOps, HistoryOps, RemoteOps):
    """One repository with all its operations; used from the git worker only."""


__all__ = ["GitRepo", "discover", "to_status"]
