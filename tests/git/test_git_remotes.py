"""Fetch, pull and push against a real local bare repository (path and file:// URLs)."""

from __future__ import annotations

import pytest

from marie.app import App
from marie.core.tasks import Cancelled
from marie.git.model import GitError
from tests.git.gitutil import commit_all, git, init_repo, write


@pytest.fixture
def remote_setup(tmp_path, repo):
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def clone(tmp_path, bare, name="other"):
    dest = tmp_path / name
    git(tmp_path, "clone", "-q", f"file://{bare}", str(dest))
    git(dest, "config", "user.name", "Other")
    git(dest, "config", "user.email", "other@example.invalid")
    return dest


def test_push_sets_upstream_then_pull_fast_forward(tmp_path, gapp, repo, remote_setup):
    progress = []
    task = gapp.git.push(on_progress=progress.append)
    assert task.result(30).kind == "pushed"
    assert git(remote_setup, "rev-parse", "main") == git(repo, "rev-parse", "HEAD")
    status = gapp.git.status_sync()
    assert status.upstream == "origin/main" and status.ahead == 0 and status.behind == 0
    other = clone(tmp_path, remote_setup)
    write(other / "from_other.txt", "hello\n")
    commit_all(other, "other work")
    git(other, "push", "-q", "origin", "main")
    gapp.git.fetch_sync()
    assert gapp.git.status_sync().behind == 1
    assert gapp.git.status_sync().branch_label() == "main ↓1"
    result = gapp.git.pull_sync()
    assert result.kind == "fast-forward"
    assert (repo / "from_other.txt").read_text() == "hello\n"
    assert gapp.git.pull_sync().kind == "up-to-date"


def test_pull_merges_or_rebases_diverged_history(tmp_path, gapp, repo, remote_setup):
    gapp.git.push_sync()
    other = clone(tmp_path, remote_setup)
    write(other / "o.txt", "o\n")
    commit_all(other, "other")
    git(other, "push", "-q", "origin", "main")
    write(repo / "l.txt", "l\n")
    commit_all(repo, "local")
    git(repo, "config", "pull.rebase", "true")
    result = gapp.git.pull_sync()
    assert result.kind == "rebased"
    assert git(repo, "log", "--format=%s", "-3").split("\n")[:3] == ["local", "other", "second"]
    assert git(repo, "log", "-1", "--format=%P").strip().count(" ") == 0
    assert gapp.git.status_sync().ahead == 1
    gapp.git.push_sync()
    # now diverge again and merge instead
    git(other, "pull", "-q", "--no-rebase")
    write(other / "o2.txt", "o2\n")
    commit_all(other, "other 2")
    git(other, "push", "-q", "origin", "main")
    write(repo / "l2.txt", "l2\n")
    commit_all(repo, "local 2")
    git(repo, "config", "pull.rebase", "false")
    assert gapp.git.pull_sync().kind == "merged"
    assert git(repo, "log", "-1", "--format=%P").strip().count(" ") == 1
    assert (repo / "o2.txt").exists() and (repo / "l2.txt").exists()


def test_push_rejected_when_behind(tmp_path, gapp, repo, remote_setup):
    gapp.git.push_sync()
    other = clone(tmp_path, remote_setup)
    write(other / "o.txt", "o\n")
    commit_all(other, "other")
    git(other, "push", "-q", "origin", "main")
    write(repo / "l.txt", "l\n")
    commit_all(repo, "local")
    with pytest.raises(GitError, match="pull first|rejected|failed"):
        gapp.git.push_sync()


def test_fetch_with_file_url_reports_progress_and_cancels(tmp_path, remote_setup, repo):
    # give the remote some objects to transfer
    for i in range(30):
        write(repo / f"bulk{i}.txt", f"{i}\n" * 200)
    commit_all(repo, "bulk")
    git(repo, "push", "-q", "origin", "main")
    dest = init_repo(tmp_path / "fetcher")
    git(dest, "remote", "add", "origin", f"file://{remote_setup}")
    with App(dest) as app:
        progress = []
        message = app.git.fetch(on_progress=progress.append).result(30)
        assert "fetched" in message
        assert "origin/main" in [b.name for b in app.git.branches_sync()]
        assert progress and progress[-1].message == "receiving objects"
    dest2 = init_repo(tmp_path / "cancelled")
    git(dest2, "remote", "add", "origin", str(remote_setup))
    with App(dest2) as app:
        holder = {}

        def cancel_on_progress(progress):
            holder["task"].cancel()

        holder["task"] = task = app.git.fetch(on_progress=cancel_on_progress)
        with pytest.raises((Cancelled, GitError)):
            task.result(30)
        assert task.token.cancelled


def test_missing_remote_and_no_upstream(gapp):
    with pytest.raises(GitError, match="no remote named 'origin'"):
        gapp.git.fetch_sync()
    with pytest.raises(GitError, match="no upstream"):
        gapp.git.pull_sync()
