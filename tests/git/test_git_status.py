"""Discovery and status on real repositories."""

from __future__ import annotations

import pytest

from marie.app import App
from marie.core.event_types import FileSaved, FilesWritten, GitStatusChanged
from marie.git.model import GitError, NotARepository
from tests.git.gitutil import commit_all, git, init_repo, write


def test_not_a_repository_says_so(app):
    info = app.git.info_sync()
    assert info.kind == "none"
    assert "not inside a git repository" in info.message
    with pytest.raises(NotARepository, match="git init"):
        app.git.status_sync()


def test_bare_repository_is_explained(tmp_path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with App(bare) as app:
        info = app.git.info_sync()
        assert info.kind == "bare"
        assert "no working tree" in info.message
        with pytest.raises(GitError, match="bare repository"):
            app.git.status_sync()
        assert app.git.log_sync() == []


def test_full_status_groups(gapp, repo):
    write(repo / "a.txt", "changed\n")
    write(repo / "new.txt", "new\n")
    write(repo / "staged.txt", "s\n")
    git(repo, "add", "staged.txt")
    (repo / "src" / "b.py").unlink()
    status = gapp.git.status_sync()
    assert status.branch == "main" and not status.detached and not status.unborn
    assert [f.path for f in status.group("changes")] == ["a.txt", "src/b.py"]
    assert [f.path for f in status.group("staged")] == ["staged.txt"]
    assert [f.path for f in status.group("untracked")] == ["new.txt"]
    assert status.files["src/b.py"].worktree == "deleted"
    assert status.files["staged.txt"].short() == "A "
    # the same answer git gives
    porcelain = {line[3:]: line[:2] for line in git(repo, "status", "--porcelain", "-uall").splitlines()}
    assert {p: f.short() for p, f in status.files.items()} == porcelain


def test_incremental_refresh_after_save_event(gapp, repo):
    events = []
    gapp.events.on(GitStatusChanged, lambda event: events.append(event.status))
    assert gapp.git.status_sync().files == {}
    write(repo / "a.txt", "edited\n")
    gapp.events.publish(FileSaved(repo / "a.txt"))
    gapp.git.branches_sync()  # the refresh was queued before this on the same worker
    assert gapp.git.last_status.files["a.txt"].worktree == "modified"
    assert events[-1].files["a.txt"].worktree == "modified"
    # reverting the file and announcing it through the write path's event clears it
    git(repo, "checkout", "--", "a.txt")
    gapp.events.publish(FilesWritten((), "test", paths=(repo / "a.txt",)))
    gapp.git.branches_sync()
    assert "a.txt" not in gapp.git.last_status.files
    # a file that is deleted after being untracked leaves the list
    write(repo / "tmp.txt", "x")
    gapp.git.refresh_sync(["tmp.txt"])
    assert gapp.git.last_status.files["tmp.txt"].untracked
    (repo / "tmp.txt").unlink()
    assert "tmp.txt" not in gapp.git.refresh_sync(["tmp.txt"]).files


def test_project_in_subfolder(repo):
    write(repo / "src" / "c.py", "x = 1\n")
    with App(repo / "src") as app:
        info = app.git.info_sync()
        assert info.kind == "worktree" and info.prefix == "src/"
        status = app.git.status_sync()
        assert status.files["src/c.py"].untracked
        assert app.git.refresh_sync(["c.py"]).files["src/c.py"].untracked  # project-relative path


def test_empty_repository_unborn_branch(workspace):
    init_repo(workspace, branch="trunk")
    write(workspace / "f.txt", "x\n")
    with App(workspace) as app:
        status = app.git.status_sync()
        assert status.unborn and status.branch == "trunk" and status.head is None
        assert status.branch_label() == "trunk (no commits yet)"
        assert app.git.log_sync() == []
        app.git.stage_sync(["f.txt"])
        assert [d.path for d in app.git.diff_sync(staged=True)] == ["f.txt"]
        result = app.git.commit_sync("initial")
        assert result.summary == "initial"
        assert git(workspace, "log", "--format=%s").strip() == "initial"


def test_detached_head(gapp, repo):
    first = git(repo, "rev-parse", "HEAD~1").strip()
    git(repo, "checkout", "-q", "--detach", first)
    status = gapp.git.status_sync()
    assert status.detached and status.branch is None and status.head == first[:7]
    assert status.branch_label() == f"(detached at {first[:7]})"
    write(repo / "a.txt", "detached work\n")
    gapp.git.stage_sync(["a.txt"])
    gapp.git.commit_sync("on detached head")
    assert git(repo, "log", "-1", "--format=%s").strip() == "on detached head"
    assert git(repo, "rev-parse", "HEAD~1").strip() == first


def test_submodule_is_listed_and_status_works(tmp_path, repo):
    sub = init_repo(tmp_path / "subsrc")
    write(sub / "s.txt", "s\n")
    commit_all(sub, "sub")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "libs/sub")
    commit_all(repo, "add submodule")
    with App(repo) as app:
        assert app.git.info_sync().submodules == ("libs/sub",)
        assert app.git.status_sync().files == {}
        assert app.git.log_sync(limit=1)[0].commit.summary == "add submodule"


def test_linked_worktree_git_file(tmp_path, repo):
    other = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(other))
    assert (other / ".git").is_file()
    write(other / "a.txt", "in the worktree\n")
    with App(other) as app:
        info = app.git.info_sync()
        assert info.kind == "worktree" and info.is_linked_worktree
        status = app.git.status_sync()
        assert status.branch == "feature"
        assert status.files["a.txt"].worktree == "modified"
        app.git.stage_sync(["a.txt"])
        app.git.commit_sync("worktree commit")
    assert git(repo, "log", "-1", "--format=%s", "feature").strip() == "worktree commit"


def test_status_in_helper_process_matches(gapp, repo):
    """Large repositories compute status in a helper process; the answer is the same."""
    write(repo / "a.txt", "changed\n")
    write(repo / "new.txt", "n\n")
    gapp.settings.set_project("git.status_process_threshold", 0)
    in_thread = gapp.git.status_sync()
    gapp.settings.set_project("git.status_process_threshold", 1)
    helper = gapp.git.status_sync()
    assert "marie.git.status_process" in __import__("sys").modules
    assert helper.files == in_thread.files and "new.txt" in helper.files


def test_status_helper_keeps_unusual_names_and_many_files(gapp, repo):
    """The helper's compact answer keeps spaces, non-ASCII and many entries exactly as git lists them."""
    names = ["with space.txt", "ünï cödé.txt", "dir/tab\there.txt"] + [f"many/f{i}.txt" for i in range(300)]
    for name in names:
        write(repo / name, "x\n")
    gapp.settings.set_project("git.status_process_threshold", 1)
    status = gapp.git.status_sync()
    porcelain = git(repo, "-c", "core.quotepath=off", "status", "--porcelain", "-z", "--untracked-files=all")
    untracked = sorted(entry[3:] for entry in porcelain.split("\0") if entry.startswith("??"))
    assert [f.path for f in status.group("untracked")] == untracked
    assert set(names) <= set(untracked)
