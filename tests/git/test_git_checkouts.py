"""Git checkouts go through the write path: a checkpoint before, ``FilesWritten`` after, undone by
restoring the checkpoint. On real repositories (pygit2 underneath, the git command line to check)."""

from __future__ import annotations

from pathlib import Path

import pytest

from marie.core.event_types import FilesWritten
from marie.git.model import GitError
from tests.git.conftest import conflicted_repo
from tests.git.gitutil import commit_all, git, write


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


@pytest.fixture
def written(gapp):
    seen: list[FilesWritten] = []
    gapp.events.on(FilesWritten, seen.append)
    return seen


def test_switch_branch_is_checkpointed_announced_and_undoable(gapp, repo, written):
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo / "a.txt", "feature version\n")
    write(repo / "new.py", "x = 1\n")
    git(repo, "rm", "-q", "src/b.py")
    commit_all(repo, "feature work")
    git(repo, "checkout", "-q", "main")
    on_main = files(repo)

    assert gapp.git.switch_sync("feature") == "feature"

    assert files(repo) == {"a.txt": "feature version\n", "new.py": "x = 1\n"}
    event = written[-1]
    assert event.label == "git switch to feature" and event.source == "git"
    assert set(event.written) == {"a.txt", "new.py"} and set(event.deleted) == {"src/b.py"}
    assert event.checkpoint_id is not None
    assert any(c.id == event.checkpoint_id and c.label == "before: git switch to feature"
               for c in gapp.checkpoints.list())

    gapp.checkpoints.restore(event.checkpoint_id)
    assert files(repo) == on_main          # the files are back as they were before the switch


def test_a_refused_switch_changes_and_announces_nothing(gapp, repo, written):
    git(repo, "branch", "other")
    write(repo / "a.txt", "local edit\n")
    with pytest.raises(GitError, match="uncommitted changes"):
        gapp.git.switch_sync("other")
    assert (repo / "a.txt").read_text() == "local edit\n"
    assert written == []


def test_stash_save_and_pop_go_through_the_write_path(gapp, repo, written):
    original = (repo / "a.txt").read_text()
    write(repo / "a.txt", "work in progress\n")

    gapp.git.stash_save_sync("wip")
    assert (repo / "a.txt").read_text() == original
    assert written[-1].label == "git stash wip" and written[-1].written == ("a.txt",)
    before_pop = written[-1].checkpoint_id

    gapp.git.stash_pop_sync(0)
    assert (repo / "a.txt").read_text() == "work in progress\n"
    assert written[-1].label == "git stash pop 0" and written[-1].written == ("a.txt",)

    gapp.checkpoints.restore(written[-1].checkpoint_id)   # undo the pop
    assert (repo / "a.txt").read_text() == original
    gapp.checkpoints.restore(before_pop)                   # and the stash itself
    assert (repo / "a.txt").read_text() == "work in progress\n"


def test_merge_with_conflicts_is_announced_and_undoable(gapp, repo, written):
    conflicted_repo(repo)
    before = (repo / "a.txt").read_text()
    result = gapp.git.merge_sync("theirs")
    assert result.kind == "conflicts"
    assert "<<<<<<<" in (repo / "a.txt").read_text()
    assert written[-1].label == "git merge theirs" and "a.txt" in written[-1].written
    gapp.checkpoints.restore(written[-1].checkpoint_id)
    assert (repo / "a.txt").read_text() == before


def test_fast_forward_pull_goes_through_the_write_path(gapp, repo, tmp_path, written):
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(upstream))
    git(repo, "remote", "add", "origin", str(upstream))
    git(repo, "fetch", "-q", "origin")
    git(repo, "branch", "-q", "--set-upstream-to=origin/main", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(upstream), str(other))
    write(other / "src" / "b.py", "print('from upstream')\n")
    commit_all(other, "upstream change")
    git(other, "push", "-q", "origin", "main")
    before = files(repo)

    result = gapp.git.pull_sync()
    assert result.kind == "fast-forward"
    assert (repo / "src" / "b.py").read_text() == "print('from upstream')\n"
    assert written[-1].label == "git pull" and written[-1].written == ("src/b.py",)
    gapp.checkpoints.restore(written[-1].checkpoint_id)
    assert files(repo) == before


def test_rebase_stop_and_abort_are_both_announced_and_undoable(gapp, repo, tmp_path, written):
    from tests.git.test_git_rebase import make_diverged

    make_diverged(tmp_path, gapp, repo)
    before = files(repo)
    stopped = gapp.git.pull_sync(rebase=True)
    assert stopped.kind == "rebase-conflicts"
    assert written[-1].label == "git pull" and "a.txt" in written[-1].written
    assert "<<<<<<<" in (repo / "a.txt").read_text()

    gapp.git.rebase_abort_sync()
    assert files(repo) == before
    assert written[-1].label == "git rebase abort" and "a.txt" in written[-1].written
    # the abort itself is undoable: restoring its checkpoint brings the stopped state back
    gapp.checkpoints.restore(written[-1].checkpoint_id)
    assert "<<<<<<<" in (repo / "a.txt").read_text()
