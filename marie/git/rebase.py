"""Pull with rebase: replay the local commits on top of the upstream, stopping on a conflict.

pygit2 has no rebase API, so this is the sequencer git runs for ``git pull --rebase``, built from
cherry-pick merges (``merge_trees`` of each commit's parent, the new tip and the commit):

- Commits that apply cleanly are replayed in memory; the branch and the working tree are only
  touched at the end (branch moved to the new tip, files checked out).
- On a conflict the state is saved first (``<gitdir>/marie-rebase.json``: the branch, its original
  commit, the commit being replayed and those left), then HEAD is detached at the tip replayed so
  far and the commit is cherry-picked there, so the files carry conflict markers as git leaves them.
- ``continue_rebase`` commits the staged resolution (the original author and message) and goes on
  with the rest; ``abort_rebase`` puts HEAD back on the branch at its original commit and resets the
  index and working tree to it (the branch itself never moves before the end).
- A commit whose changes are already upstream (it would be empty) is dropped, as git does.

Every function here runs on the git worker, with the ``GitRepo`` passed in. The state file is git's
own business (inside the git folder), not a user's file; it is still written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import CheckoutStrategy, ResetMode, SortMode

from marie.core import atomic
from marie.git.model import GitError, MergeResult

STATE_FILE = "marie-rebase.json"
CONTINUE_HINT = "resolve the conflicts, stage the files, then continue the rebase (or abort it)"


def state_path(repo: pygit2.Repository) -> Path:
    return Path(repo.path) / STATE_FILE


def load_state(repo: pygit2.Repository) -> dict | None:
    """The saved state of a stopped rebase, or None when none is in progress."""
    path = state_path(repo)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise GitError(f"the rebase state in {path} cannot be read ({exc}); remove that file to forget "
                       "the rebase, then `git reset --hard ORIG_HEAD` (the branch's commit before the "
                       "rebase, recorded when it started) if needed") from None


def _save_state(repo: pygit2.Repository, state: dict) -> None:
    atomic.write_text(state_path(repo), json.dumps(state, indent=1))


def _conflict_paths(index: Any) -> list[str]:
    if index.conflicts is None:
        return []
    return sorted({(e[1] or e[2] or e[0]).path for e in index.conflicts})


def start(gr: Any, upstream: Any, label: str) -> MergeResult:
    """Rebase the current branch onto commit ``upstream`` (``label`` names it in messages).
    The working tree must be clean (the caller checks)."""
    repo = gr.repo
    if load_state(repo) is not None:
        raise GitError("a rebase is already in progress: " + CONTINUE_HINT)
    head = gr._head_commit()
    base = repo.merge_base(head.id, upstream.id)
    if base is None:
        raise GitError(f"the branch and {label} share no history, so there is nothing to rebase onto; "
                       "nothing was changed")
    local: list[Any] = []
    for commit in repo.walk(head.id, SortMode.TOPOLOGICAL):
        if commit.id == base:
            break
        if len(commit.parents) > 1:
            raise GitError("pull with rebase cannot replay merge commits; nothing was changed. Pull with "
                           "merge instead, or run `git pull --rebase=merges` in a terminal")
        local.append(commit)
    state = {"branch": repo.head.name, "orig_head": str(head.id), "onto": str(upstream.id), "upstream": label,
             "todo": [str(c.id) for c in reversed(local)], "current": None, "tip": str(upstream.id), "dropped": []}
    # As git does: ORIG_HEAD names the commit before the rebase (the recovery the messages point to).
    repo.references.create("ORIG_HEAD", head.id, force=True)
    return _replay(gr, state)


def _replay(gr: Any, state: dict) -> MergeResult:
    repo = gr.repo
    committer = gr._signature()
    tip = repo[state["tip"]]
    while state["todo"]:
        commit = repo[state["todo"][0]]
        index = repo.merge_trees(commit.parents[0].tree, tip.tree, commit.tree)
        if _conflict_paths(index):
            return _stop(gr, state, tip, commit)
        tree = index.write_tree(repo)
        if tree == tip.tree.id:
            state["dropped"].append(str(commit.id))  # already upstream: git drops it too
        else:
            tip = repo[repo.create_commit(None, commit.author, committer, commit.message, tree, [tip.id])]
        state["todo"].pop(0)
        state["tip"] = str(tip.id)
    return _finish(gr, state, tip)


def _stop(gr: Any, state: dict, tip: Any, commit: Any) -> MergeResult:
    repo = gr.repo
    state["todo"].pop(0)
    state["current"] = str(commit.id)
    state["tip"] = str(tip.id)
    _save_state(repo, state)  # first, so that an abort is possible whatever happens next
    try:
        if repo.head.target != tip.id:
            repo.checkout_tree(tip, strategy=CheckoutStrategy.SAFE)
        repo.set_head(tip.id)  # detached, as git leaves it during a rebase
        repo.cherrypick(commit.id)  # writes the conflict markers, CHERRY_PICK_HEAD and MERGE_MSG
    except pygit2.GitError as exc:
        raise GitError(f"rebase stopped at {commit.short_id} but could not show its conflicts ({exc}); "
                       "abort the rebase to go back") from None
    gr._status = None
    paths = _conflict_paths(repo.index)
    return MergeResult("rebase-conflicts", commit.short_id, tuple(paths))


def _finish(gr: Any, state: dict, tip: Any) -> MergeResult:
    repo = gr.repo
    branch = repo.lookup_reference(state["branch"])
    if str(repo.head.target) != str(tip.id):
        try:
            repo.checkout_tree(tip, strategy=CheckoutStrategy.SAFE)
        except pygit2.GitError as exc:  # e.g. an untracked file in the way of an upstream one
            where = ("abort the rebase to go back" if state_path(repo).exists()
                     else "nothing was changed")
            raise GitError(f"rebase cannot update the working tree ({exc}); move the file out of the way, "
                           f"or {where}") from None
    branch.set_target(tip.id, f"pull: rebase onto {state['upstream']}")
    repo.set_head(state["branch"])
    repo.state_cleanup()
    state_path(repo).unlink(missing_ok=True)
    gr._status = None
    return MergeResult("rebased", str(tip.id)[:7])


def continue_rebase(gr: Any) -> MergeResult:
    """Commit the resolved commit and replay the rest (git worker)."""
    repo = gr._worktree()
    state = load_state(repo)
    if state is None:
        raise GitError("no rebase is in progress")
    if state.get("current") is None:
        # The resolution was committed but replaying the rest failed (e.g. a file in the way):
        # carry on from the saved tip.
        return _replay(gr, state)
    if repo.head_is_detached is False or str(repo.head.target) != state["tip"]:
        raise GitError("HEAD moved since the rebase stopped (another branch was checked out?); switch back "
                       f"with abort, or check out {state['tip'][:7]} again to continue")
    index = gr._fresh_index()
    paths = _conflict_paths(index)
    if paths:
        raise GitError("cannot continue: " + ", ".join(paths) + " still conflicted; " + CONTINUE_HINT)
    unstaged = [f.path for f in gr.status().files.values() if f.worktree and not f.untracked]
    if unstaged:
        raise GitError("cannot continue: stage your resolution first (changes not staged in "
                       + ", ".join(sorted(unstaged)) + ")")
    commit = repo[state["current"]]
    head = repo.head.peel(pygit2.Commit)
    tree = index.write_tree()
    if tree == head.tree.id:
        state["dropped"].append(state["current"])  # the resolution kept nothing of it
        tip = head
    else:
        tip = repo[repo.create_commit(None, commit.author, gr._signature(), commit.message, tree, [head.id])]
        repo.set_head(tip.id)
    repo.state_cleanup()  # CHERRY_PICK_HEAD, MERGE_MSG
    state["current"] = None
    state["tip"] = str(tip.id)
    _save_state(repo, state)
    return _replay(gr, state)


def abort_rebase(gr: Any) -> MergeResult:
    """Go back to the branch at its original commit, index and working tree included (git worker).
    Changes made while the rebase was stopped are thrown away, as ``git rebase --abort`` does."""
    repo = gr._worktree()
    state = load_state(repo)
    if state is None:
        raise GitError("no rebase is in progress")
    orig = repo[state["orig_head"]]
    repo.lookup_reference(state["branch"]).set_target(orig.id, "rebase: abort")
    repo.set_head(state["branch"])
    repo.reset(orig.id, ResetMode.HARD)
    repo.state_cleanup()
    state_path(repo).unlink(missing_ok=True)
    gr._status = None
    return MergeResult("rebase-aborted", str(orig.id)[:7])
