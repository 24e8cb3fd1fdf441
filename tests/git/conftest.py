from __future__ import annotations

import pytest

from marie.app import App
from tests.git.gitutil import commit_all, init_repo, write


@pytest.fixture
def repo(workspace):
    """A repository with two commits on main; the workspace is its root."""
    init_repo(workspace)
    write(workspace / "a.txt", "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n")
    write(workspace / "src" / "b.py", "print('b')\n")
    commit_all(workspace, "first")
    write(workspace / "src" / "b.py", "print('b')\nprint('more')\n")
    commit_all(workspace, "second")
    return workspace


@pytest.fixture
def gapp(repo):
    instance = App(repo)
    yield instance
    instance.close()


@pytest.fixture
def window(qtbot, repo):
    """A real MainWindow (offscreen) on ``repo`` with the Qt dispatcher."""
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    app = App(repo, QtDispatcher())
    win = MainWindow(app, restore=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    app.close()


def conflicted_repo(repo):
    """``repo`` with branch "theirs" whose a.txt line 2 conflicts with main's."""
    from tests.git.gitutil import git

    git(repo, "branch", "theirs")
    write(repo / "a.txt", "one\nMAIN\nthree\n")
    commit_all(repo, "main side")
    git(repo, "checkout", "-q", "theirs")
    write(repo / "a.txt", "one\nTHEIRS\nthree\n")
    commit_all(repo, "their side")
    git(repo, "checkout", "-q", "main")
    return repo
