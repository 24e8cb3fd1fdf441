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
