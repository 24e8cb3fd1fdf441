"""Pull with rebase when local commits conflict with upstream: stop, continue, abort (real bare remote)."""

from __future__ import annotations

import os

import pytest

from marie.git.model import GitError
from tests.git.gitutil import commit_all, git, write
from tests.git.test_git_remotes import clone


@pytest.fixture
def diverged(tmp_path, gapp, repo):
    return make_diverged(tmp_path, gapp, repo)


def make_diverged(tmp_path, app, repo):
    """main pushed to a bare remote; upstream then changes a.txt line 2 and adds o.txt; locally three
    commits: l1 (clean), "local a" (a.txt line 2 + a new file: conflicts), l3 (clean, touches l1.txt)."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    app.git.push_sync()
    other = clone(tmp_path, bare)
    write(other / "a.txt", "one\nUPSTREAM\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n")
    write(other / "o.txt", "o\n")
    commit_all(other, "upstream change")
    git(other, "push", "-q", "origin", "main")
    write(repo / "l1.txt", "l1\n")
    commit_all(repo, "local 1")
    write(repo / "a.txt", "one\nLOCAL\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n")
    write(repo / "added_by_conflicting.txt", "new\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--author", "Original Author <orig@example.invalid>", "-m", "local a")
    write(repo / "l1.txt", "l1 changed\n")
    commit_all(repo, "local 3")
    return repo


def _tree(root):
    """Every file under root except .git: {path: (bytes or link target, executable)}."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = ("link", os.readlink(full))
            else:
                with open(full, "rb") as handle:
                    out[rel] = (handle.read(), os.access(full, os.X_OK))
    return out


def test_conflict_stops_then_continue_finishes(gapp, diverged):
    repo = diverged
    before = git(repo, "rev-parse", "HEAD").strip()
    result = gapp.git.pull_sync(rebase=True)
    assert result.kind == "rebase-conflicts" and result.conflicts == ("a.txt",)
    assert git(repo, "rev-parse", "ORIG_HEAD").strip() == before   # the recovery the messages name
    git(repo, "branch", "side", before)
    with pytest.raises(GitError, match="rebase is stopped"):
        gapp.git.switch_sync("side")                                 # HEAD must stay where the rebase is
    assert "continue the rebase" in result.describe()
    status = gapp.git.status_sync()
    assert status.state == "rebase" and status.detached
    assert [f.path for f in status.group("conflicts")] == ["a.txt"]
    text = (repo / "a.txt").read_text()
    assert "<<<<<<<" in text and "UPSTREAM" in text and "LOCAL" in text
    # HEAD is the first local commit replayed on top of upstream
    assert git(repo, "log", "--format=%s", "-3", "HEAD").split("\n")[:3] == ["local 1", "upstream change", "second"]
    assert git(repo, "rev-parse", "main").strip() != git(repo, "rev-parse", "HEAD").strip()  # branch not moved yet
    with pytest.raises(GitError, match="rebase is in progress"):
        gapp.git.commit_sync("oops")
    with pytest.raises(GitError, match="a.txt still conflicted"):
        gapp.git.rebase_continue_sync()
    with pytest.raises(GitError, match="rebase is in progress"):
        gapp.git.pull_sync()
    write(repo / "a.txt", "one\nRESOLVED\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n")
    gapp.git.stage_sync(["a.txt"])
    done = gapp.git.rebase_continue_sync()
    assert done.kind == "rebased"
    assert git(repo, "log", "--format=%s", "-5").split("\n")[:5] == [
        "local 3", "local a", "local 1", "upstream change", "second"]
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "rev-parse", "HEAD").strip()[:7] == done.commit
    assert git(repo, "log", "-1", "--format=%an <%ae>", "HEAD~1").strip() == "Original Author <orig@example.invalid>"
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "a.txt").read_text().splitlines()[1] == "RESOLVED"
    assert (repo / "l1.txt").read_text() == "l1 changed\n" and (repo / "o.txt").exists()
    assert not (repo / ".git" / "marie-rebase.json").exists() and not (repo / ".git" / "CHERRY_PICK_HEAD").exists()
    status = gapp.git.status_sync()
    assert status.state == "" and status.branch == "main" and status.ahead == 3 and status.behind == 0
    gapp.git.push_sync()
    assert git(repo, "rev-parse", "origin/main") == git(repo, "rev-parse", "HEAD")


def test_abort_returns_exactly_to_the_original_state(gapp, diverged):
    repo = diverged
    write(repo / "notes.txt", "untracked, must survive\n")
    head_before = git(repo, "rev-parse", "HEAD").strip()
    tree_before = _tree(repo)
    porcelain_before = git(repo, "status", "--porcelain")
    assert gapp.git.pull_sync(rebase=True).kind == "rebase-conflicts"
    assert (repo / "added_by_conflicting.txt").exists() and (repo / "o.txt").exists()
    write(repo / "a.txt", "half-resolved\n")  # work in progress, thrown away like git rebase --abort does
    result = gapp.git.rebase_abort_sync()
    assert result.kind == "rebase-aborted" and result.commit == head_before[:7]
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "rev-parse", "HEAD").strip() == head_before
    assert _tree(repo) == tree_before
    assert git(repo, "status", "--porcelain") == porcelain_before
    assert not (repo / ".git" / "marie-rebase.json").exists()
    status = gapp.git.status_sync()
    assert status.state == "" and not status.detached and [f.path for f in status.group("untracked")] == ["notes.txt"]
    with pytest.raises(GitError, match="no rebase is in progress"):
        gapp.git.rebase_abort_sync()
    # the repository is usable as before: pulling with merge now works
    assert gapp.git.pull_sync(rebase=False).kind == "conflicts"


def test_commit_already_upstream_is_dropped_and_second_stop(tmp_path, gapp, repo):
    """A local commit whose change upstream already has is dropped; two conflicting commits stop twice."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    gapp.git.push_sync()
    other = clone(tmp_path, bare)
    write(other / "same.txt", "same\n")
    write(other / "x.txt", "upstream x\n")
    write(other / "y.txt", "upstream y\n")
    commit_all(other, "upstream")
    git(other, "push", "-q", "origin", "main")
    write(repo / "same.txt", "same\n")
    commit_all(repo, "same change")
    write(repo / "x.txt", "local x\n")
    commit_all(repo, "x")
    write(repo / "y.txt", "local y\n")
    commit_all(repo, "y")
    first = gapp.git.pull_sync(rebase=True)
    assert first.kind == "rebase-conflicts" and first.conflicts == ("x.txt",)
    write(repo / "x.txt", "merged x\n")
    gapp.git.stage_sync(["x.txt"])
    second = gapp.git.rebase_continue_sync()
    assert second.kind == "rebase-conflicts" and second.conflicts == ("y.txt",)
    assert gapp.git.status_sync().state == "rebase"
    write(repo / "y.txt", "merged y\n")
    gapp.git.stage_sync(["y.txt"])
    assert gapp.git.rebase_continue_sync().kind == "rebased"
    assert git(repo, "log", "--format=%s", "-4").split("\n")[:4] == ["y", "x", "upstream", "second"]
    assert git(repo, "status", "--porcelain") == ""


def test_panel_pull_rebase_stops_then_continue_and_abort_buttons(qtbot, window, tmp_path, repo, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    panel = window.panels["git"]
    make_diverged(tmp_path, window.app, repo)
    git(repo, "config", "pull.rebase", "true")
    head_before = git(repo, "rev-parse", "HEAD").strip()
    qtbot.mouseClick(panel.pull_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.rebase_bar.isVisible() and "1 conflicted" in panel.rebase_label.text(),
                    timeout=15000)
    assert "rebase in progress" in panel.status_label.text()
    # abort (confirmed) goes back to where the pull started
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(panel.rebase_abort_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.rebase_bar.isVisible() and "rebase aborted" in panel.info_label.text(),
                    timeout=15000)
    assert git(repo, "rev-parse", "HEAD").strip() == head_before
    # pull again, resolve, stage, continue
    qtbot.mouseClick(panel.pull_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.rebase_bar.isVisible(), timeout=15000)
    write(repo / "a.txt", "resolved\n")
    window.app.git.stage_sync(["a.txt"])
    qtbot.waitUntil(lambda: "conflicts resolved" in panel.rebase_label.text(), timeout=15000)
    qtbot.mouseClick(panel.rebase_continue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.rebase_bar.isVisible() and "rebased onto upstream" in panel.info_label.text(),
                    timeout=15000)
    assert git(repo, "log", "--format=%s", "-4").split("\n")[:4] == ["local 3", "local a", "local 1", "upstream change"]


def test_cli_pull_rebase_continue_and_abort(capsys, tmp_path, gapp, diverged):
    from marie.cli import main

    repo = diverged
    gapp.close()  # the CLI makes its own app on the same repository

    def run(*args):
        code = main(["git", "--root", str(repo), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    head_before = git(repo, "rev-parse", "HEAD").strip()
    code, out, err = run("pull", "--rebase")
    assert code == 1 and "CONFLICT a.txt" in out and "marie git rebase --continue" in err
    code, out, _ = run("status")
    assert "[rebase in progress]" in out.splitlines()[0] and "UU a.txt" in out
    code, out, _ = run("rebase", "--abort")
    assert code == 0 and out.startswith("rebase aborted") and git(repo, "rev-parse", "HEAD").strip() == head_before
    assert run("pull", "--rebase")[0] == 1
    write(repo / "a.txt", "resolved\n")
    assert run("stage", "a.txt")[0] == 0
    code, out, _ = run("rebase", "--continue")
    assert code == 0 and out.startswith("rebased onto upstream")
    assert git(repo, "status", "--porcelain") == ""
    code, _, err = run("rebase", "--continue")
    assert code != 0 and "no rebase is in progress" in err
