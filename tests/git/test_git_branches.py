"""Branches, merges with conflicts, stashes, history with lanes, blame."""

from __future__ import annotations

import pytest

from marie.git.graph import assign_lanes
from marie.git.model import DirtyTreeError, GitError
from tests.git.gitutil import commit_all, git, write


def test_create_switch_rename_delete(gapp, repo):
    gapp.git.create_branch_sync("feature")
    names = [(b.name, b.current) for b in gapp.git.branches_sync()]
    assert names == [("feature", False), ("main", True)]
    assert gapp.git.switch_sync("feature") == "feature"
    assert git(repo, "branch", "--show-current").strip() == "feature"
    write(repo / "a.txt", "feature work\n")
    commit_all(repo, "feature commit")
    gapp.git.switch_sync("main")
    assert (repo / "a.txt").read_text().startswith("one")
    with pytest.raises(GitError, match="not fully merged"):
        gapp.git.delete_branch_sync("feature")
    gapp.git.rename_branch_sync("feature", "feature2")
    with pytest.raises(GitError, match="current branch"):
        gapp.git.delete_branch_sync("main")
    gapp.git.delete_branch_sync("feature2", force=True)
    assert [b.name for b in gapp.git.branches_sync()] == ["main"]
    # a merged branch deletes without force
    gapp.git.create_branch_sync("done")
    gapp.git.delete_branch_sync("done")


def test_switch_refuses_when_dirty_or_stashes(gapp, repo):
    gapp.git.create_branch_sync("other")
    write(repo / "a.txt", "dirty\n")
    with pytest.raises(DirtyTreeError, match="stash"):
        gapp.git.switch_sync("other")
    assert git(repo, "branch", "--show-current").strip() == "main"
    gapp.git.switch_sync("other", stash=True)
    assert git(repo, "branch", "--show-current").strip() == "other"
    assert git(repo, "status", "--porcelain") == ""
    stashes = gapp.git.stashes_sync()
    assert len(stashes) == 1 and "auto-stash before switching to other" in stashes[0].message
    gapp.git.stash_pop_sync(0)
    assert (repo / "a.txt").read_text() == "dirty\n"
    assert gapp.git.stashes_sync() == []


def test_stash_save_list_apply_drop(gapp, repo):
    with pytest.raises(GitError, match="no local changes"):
        gapp.git.stash_save_sync("nothing")
    write(repo / "a.txt", "stash me\n")
    write(repo / "u.txt", "untracked\n")
    info = gapp.git.stash_save_sync("wip one", include_untracked=True)
    assert "wip one" in info.message
    assert not (repo / "u.txt").exists() and (repo / "a.txt").read_text().startswith("one")
    assert git(repo, "stash", "list").count("\n") == 1
    gapp.git.stash_apply_sync(0)
    assert (repo / "u.txt").read_text() == "untracked\n" and (repo / "a.txt").read_text() == "stash me\n"
    assert len(gapp.git.stashes_sync()) == 1
    gapp.git.stash_drop_sync(0)
    assert git(repo, "stash", "list") == ""
    with pytest.raises(GitError, match="no stash 0"):
        gapp.git.stash_pop_sync(0)


def test_merge_fast_forward_and_clean_merge(gapp, repo):
    git(repo, "checkout", "-q", "-b", "ff")
    write(repo / "ff.txt", "ff\n")
    commit_all(repo, "ff work")
    git(repo, "checkout", "-q", "main")
    assert gapp.git.merge_sync("ff").kind == "fast-forward"
    assert (repo / "ff.txt").exists()
    assert gapp.git.merge_sync("ff").kind == "up-to-date"
    git(repo, "checkout", "-q", "-b", "side")
    write(repo / "side.txt", "side\n")
    commit_all(repo, "side work")
    git(repo, "checkout", "-q", "main")
    write(repo / "main.txt", "main\n")
    commit_all(repo, "main work")
    result = gapp.git.merge_sync("side")
    assert result.kind == "merged"
    assert git(repo, "log", "-1", "--format=%P").strip().count(" ") == 1
    assert (repo / "side.txt").exists() and git(repo, "status", "--porcelain") == ""


def test_merge_conflicts_listed_with_markers_then_finished(gapp, repo):
    git(repo, "checkout", "-q", "-b", "theirs")
    write(repo / "a.txt", "their line\n")
    commit_all(repo, "theirs")
    git(repo, "checkout", "-q", "main")
    write(repo / "a.txt", "our line\n")
    commit_all(repo, "ours")
    result = gapp.git.merge_sync("theirs")
    assert result.kind == "conflicts" and result.conflicts == ("a.txt",)
    text = (repo / "a.txt").read_text()
    assert "<<<<<<<" in text and "our line" in text and "their line" in text and ">>>>>>>" in text
    status = gapp.git.status_sync()
    assert [f.path for f in status.group("conflicts")] == ["a.txt"] and status.state == "merge"
    assert "UU a.txt" in git(repo, "status", "--porcelain")
    with pytest.raises(GitError, match="resolve the conflicts"):
        gapp.git.commit_sync("too early")
    write(repo / "a.txt", "resolved\n")
    gapp.git.stage_sync(["a.txt"])
    assert gapp.git.conflicts_sync() == []
    gapp.git.finish_merge_sync()
    assert git(repo, "log", "-1", "--format=%s").strip() == "Merge branch 'theirs'"
    assert gapp.git.status_sync().state == ""


def test_log_graph_path_filter_and_details(gapp, repo):
    git(repo, "checkout", "-q", "-b", "side")
    write(repo / "side.txt", "s\n")
    commit_all(repo, "side")
    git(repo, "checkout", "-q", "main")
    write(repo / "m.txt", "m\n")
    commit_all(repo, "main")
    git(repo, "merge", "-q", "--no-edit", "side")
    entries = gapp.git.log_sync()
    assert [e.commit.summary for e in entries][0] == "Merge branch 'side'"
    merge = entries[0]
    assert len(merge.parent_columns) == 2 and merge.parent_columns[0] != merge.parent_columns[1]
    assert merge.refs == ("main",)
    assert max(e.lanes for e in entries) == 2
    assert [e.commit.summary for e in gapp.git.log_sync(path="src/b.py")] == ["second", "first"]
    assert [e.commit.summary for e in gapp.git.log_sync(path="src")] == ["second", "first"]
    assert len(gapp.git.log_sync(limit=2)) == 2
    info, diffs = gapp.git.commit_diff_sync(entries[-1].commit.id)
    assert info.summary == "first" and sorted(d.path for d in diffs) == ["a.txt", "src/b.py"]
    info, diffs = gapp.git.commit_diff_sync("HEAD~1")
    assert [d.path for d in diffs] == ["m.txt"] and diffs[0].additions == 1


def test_lane_assignment_shapes():
    # a - b - d (merge of b and c), c branched from a
    rows = assign_lanes([("d", ("b", "c")), ("c", ("a",)), ("b", ("a",)), ("a", ())])
    assert rows[0] == (0, 2, (0, 1))
    assert rows[1][0] == 1
    assert rows[2][0] == 0
    assert rows[3][0] == 0


def test_blame_lines(gapp, repo):
    write(repo / "a.txt", "one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n")
    commit_all(repo, "shout two")
    blame = gapp.git.blame_sync("a.txt")
    assert len(blame) == 10
    assert blame[1].summary == "shout two" and blame[0].summary == "first"
    assert blame[1].author == "Marie Test" and blame[1].line == 2
    with pytest.raises(GitError, match="not committed"):
        write(repo / "new.txt", "x\n")
        gapp.git.blame_sync("new.txt")
