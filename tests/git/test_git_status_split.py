"""Full status split over threads by top-level entry (libgit2's C API with a pathspec): the merged
answer must be exactly pygit2's single walk and `git status --porcelain`, whatever state the tree is in."""

from __future__ import annotations

import os

import pygit2

from marie.core.cpu_load import threads_for_load
import pytest

from marie.git import native_status, status_process
from tests.git.gitutil import commit_all, git, init_repo, write


@pytest.fixture
def messy(workspace):
    """A repository with every kind of change, several of them only visible in the index or HEAD."""
    repo = init_repo(workspace)
    for top in ("alpha", "beta", "gamma", "delta", "gone", "staged_gone"):
        for i in range(12):
            write(repo / top / f"sub{i % 3}" / f"f{i}.txt", f"{top} {i}\n")
    write(repo / "top.txt", "top\n")
    write(repo / "name with space.txt", "x\n")
    write(repo / "ünï.txt", "u\n")
    os.symlink("top.txt", repo / "link")
    commit_all(repo, "base")
    write(repo / "alpha" / "sub0" / "f0.txt", "modified\n")                 # " M"
    write(repo / "beta" / "sub1" / "f1.txt", "staged\n")
    git(repo, "add", "beta/sub1/f1.txt")                                       # "M "
    write(repo / "beta" / "sub1" / "f1.txt", "staged then changed\n")         # "MM"
    (repo / "gamma" / "sub2" / "f2.txt").unlink()                              # " D"
    git(repo, "rm", "-rq", "staged_gone")                                      # "D " for a whole top folder
    import shutil
    shutil.rmtree(repo / "gone")                                               # " D" for a whole top folder
    write(repo / "ghost" / "only_in_index.txt", "g\n")
    git(repo, "add", "ghost")
    shutil.rmtree(repo / "ghost")                                              # "AD": only the index knows it
    write(repo / "newdir" / "deep" / "n.txt", "n\n")                          # untracked folder
    write(repo / "delta" / "sub0" / "untracked.txt", "u\n")                   # untracked in a tracked folder
    write(repo / ".gitignore", "*.log\nbuild/\n")
    write(repo / "debug.log", "ignored\n")
    write(repo / "build" / "out.bin", "ignored\n")
    (repo / "top.txt").unlink()
    write(repo / "top.txt", "retyped\n")                                       # " M" at the top level
    nested = init_repo(repo / "nested")                                        # an untracked repository inside
    write(nested / "inner.txt", "i\n")
    commit_all(nested, "inner")
    sub = init_repo(workspace.parent / "subsrc")
    write(sub / "s.txt", "s\n")
    commit_all(sub, "sub")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "zsub")  # staged gitlink
    write(repo / "zsub" / "s.txt", "changed in the submodule\n")              # modified submodule content
    return repo


def _porcelain(repo, untracked="all"):
    out = git(repo, "-c", "core.quotepath=off", "status", "--porcelain", "-z", f"--untracked-files={untracked}")
    return {entry[3:]: entry[:2] for entry in out.split("\0") if entry}


@pytest.mark.parametrize("untracked", ["all", "normal"])
def test_split_status_equals_single_walk_and_git(messy, untracked):
    assert native_status.load() is not None, "libgit2's status API should be reachable through pygit2's library"
    repo = pygit2.Repository(str(messy))
    single = repo.status(untracked_files=untracked)
    heads = status_process._head_names(repo)
    for parts in (2, 3, 5):
        split = native_status.SplitStatus(str(messy), parts)
        try:
            plan = split.plan(heads)
            names = [n for part in plan for n in part]
            assert len(names) == len(set(names)), "a top-level name is in two parts"
            # the names only the index (ghost) or HEAD (staged_gone) knows are covered too
            assert {b"ghost", b"staged_gone", b"gone", b"zsub", b"nested"} <= set(names)
            assert len(plan) == parts
            assert split.status(untracked, heads) == single
        finally:
            split.close()
    assert single["ghost/only_in_index.txt"] == pygit2.enums.FileStatus.INDEX_NEW | pygit2.enums.FileStatus.WT_DELETED
    assert "staged_gone/sub0/f0.txt" in single and "gone/sub0/f0.txt" in single


def test_app_status_through_split_helper_matches_git(messy):
    from marie.app import App

    with App(messy) as app:
        app.settings.set_project("git.status_process_threshold", 1)
        app.settings.set_project("git.status_threads", 3)
        app.settings.set_project("git.status_threads_follow_load", False)  # split even on a busy machine
        status = app.git.status_sync()
        assert {p: f.short() for p, f in status.files.items()} == _porcelain(messy)
        # and again after more changes, through the same long-lived helper and handles
        write(messy / "epsilon" / "e.txt", "e\n")
        (messy / "alpha" / "sub1" / "f1.txt").unlink()
        status = app.git.status_sync()
        assert {p: f.short() for p, f in status.files.items()} == _porcelain(messy)


def test_empty_repository_and_unborn_branch_split(workspace):
    init_repo(workspace)
    write(workspace / "a" / "x.txt", "x\n")
    write(workspace / "b.txt", "b\n")
    git(workspace, "add", "b.txt")
    repo = pygit2.Repository(str(workspace))
    split = native_status.SplitStatus(str(workspace), 2)
    try:
        assert split.status("all", status_process._head_names(repo)) == repo.status(untracked_files="all")
    finally:
        split.close()


def test_threads_follow_the_load(monkeypatch):
    # The split shrinks by the programs running now (marie.core.cpu_load), keeping one spare thread.
    import marie.core.cpu_load as cpu_load

    monkeypatch.setattr(cpu_load.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(cpu_load, "others_running", lambda: 0.0)
    assert threads_for_load(1) == 1 and threads_for_load(4) == 3
    monkeypatch.setattr(cpu_load, "others_running", lambda: 2.0)
    assert threads_for_load(4) == 1


def test_many_top_level_entries_take_the_single_walk(workspace, monkeypatch):
    init_repo(workspace)
    for i in range(40):
        write(workspace / f"f{i}.txt", "x\n")
    commit_all(workspace, "flat")
    write(workspace / "f3.txt", "changed\n")
    repo = pygit2.Repository(str(workspace))
    monkeypatch.setattr(native_status, "MAX_SPLIT_NAMES", 10)
    split = native_status.SplitStatus(str(workspace), 2)
    try:
        assert split.status("all", status_process._head_names(repo)) == repo.status(untracked_files="all") == {
            "f3.txt": pygit2.enums.FileStatus.WT_MODIFIED}
    finally:
        split.close()
