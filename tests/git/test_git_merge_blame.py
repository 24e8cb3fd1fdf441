"""Merge conclusion through commit, the merged check, conflict markers, and blame of a buffer."""

from __future__ import annotations

from marie.git.model import NOT_COMMITTED
from tests.git.conftest import conflicted_repo
from tests.git.gitutil import commit_all, git, write


def test_branches_report_merged(gapp, repo):
    git(repo, "branch", "done")          # same commit as main: merged
    git(repo, "checkout", "-q", "-b", "wip")
    write(repo / "w.txt", "w\n")
    git(repo, "add", "w.txt")
    git(repo, "commit", "-q", "-m", "wip")
    git(repo, "checkout", "-q", "main")
    merged = {b.name: b.merged for b in gapp.git.branches_sync() if not b.remote}
    assert merged == {"done": True, "main": True, "wip": False}


def test_merge_conflict_marker_line_then_commit_concludes_merge(gapp, repo):
    conflicted_repo(repo)
    result = gapp.git.merge_sync("theirs")
    assert result.kind == "conflicts" and result.conflicts == ("a.txt",)
    assert gapp.git.conflict_line_sync("a.txt") == 2
    assert "<<<<<<<" in (repo / "a.txt").read_text()
    write(repo / "a.txt", "one\nBOTH\nthree\n")
    gapp.git.stage_sync(["a.txt"])
    assert gapp.git.conflict_line_sync("a.txt") is None
    gapp.git.commit_sync("Merge branch 'theirs'")
    parents = git(repo, "log", "-1", "--format=%P").split()
    assert len(parents) == 2
    assert git(repo, "status", "--porcelain") == "" and not (repo / ".git" / "MERGE_HEAD").exists()


def test_blame_buffer_marks_unsaved_and_uncommitted_lines(gapp, repo):
    write(repo / "a.txt", "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nTEN\n")
    commit_all(repo, "third")
    buffer = (repo / "a.txt").read_text().splitlines()
    buffer[1] = "TWO (edited, unsaved)"    # changed line 2
    buffer.insert(5, "inserted")           # new line 6
    del buffer[8]                          # drops "eight"
    assert buffer[8:] == ["nine", "TEN"]
    lines = gapp.git.blame_buffer_sync("a.txt", ("\n".join(buffer) + "\n").encode())
    assert [b.line for b in lines] == list(range(1, len(buffer) + 1))
    assert [b.line for b in lines if not b.committed] == [2, 6]
    assert lines[1].summary == NOT_COMMITTED and lines[5].author == "Not Committed Yet"
    # the other lines keep the blame of the committed line they came from, across the shifts
    assert [lines[i].summary for i in (0, 2, 6, 7, 8, 9)] == ["first"] * 5 + ["third"]


def test_blame_buffer_of_an_untracked_file(gapp, repo):
    write(repo / "new.txt", "a\nb\n")
    lines = gapp.git.blame_buffer_sync("new.txt", b"a\nb\n")
    assert [(b.line, b.committed) for b in lines] == [(1, False), (2, False)]
