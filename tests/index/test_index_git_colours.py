"""Git colours in the file tree: a real repository, the real Files panel in a MainWindow (offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.git.gitutil import commit_all, git, init_repo, write
from tests.index.test_index_ui import close_window, open_window

FG = Qt.ItemDataRole.ForegroundRole


@pytest.fixture
def window(qtbot, workspace: Path, tmp_path: Path):
    init_repo(workspace)
    write(workspace / "src" / "clean.py", "a = 1\n")
    write(workspace / "src" / "edited.py", "b = 1\n")
    write(workspace / "top.py", "c = 1\n")
    write(workspace / "gone.py", "d = 1\n")
    commit_all(workspace, "first")
    # An ignore rule only git reads (the index does not read core.excludesFile), so the file stays in
    # the tree and is greyed there.
    excludes = write(tmp_path / "global-excludes", "*.tmp\n")
    git(workspace, "config", "core.excludesFile", str(excludes))
    write(workspace / "scratch.tmp", "junk\n")
    win = open_window(qtbot, workspace)
    qtbot.waitUntil(lambda: win.app.git.last_status is not None, timeout=15000)
    yield win
    close_window(qtbot, win)


def colour(files, rel: str):
    index = files.model.index_for(rel)
    assert index.isValid(), rel
    brush = files.model.data(index, FG)
    return brush.color().name() if brush is not None else None


def test_modified_file_is_coloured_and_follows_status(window, qtbot, workspace: Path) -> None:
    files = window.panels["files"]
    qtbot.waitUntil(lambda: colour(files, "scratch.tmp") is not None, timeout=10000)
    assert colour(files, "src/clean.py") is None and colour(files, "src/edited.py") is None
    ignored = colour(files, "scratch.tmp")

    (workspace / "src" / "edited.py").write_text("b = 2\n")      # modified in the working tree
    write(workspace / "new.py", "e = 1\n")                         # untracked
    git(workspace, "add", "top.py")                                # nothing to stage yet: stays clean
    qtbot.waitUntil(lambda: colour(files, "src/edited.py") is not None and colour(files, "new.py") is not None,
                    timeout=10000)
    modified = colour(files, "src/edited.py")
    assert modified != colour(files, "src/clean.py")               # clean: the plain text colour
    assert colour(files, "new.py") not in (None, modified, ignored)
    assert colour(files, "src") not in (None, modified)            # a folder with changes: a tint of it
    assert "modified" in files.model.data(files.model.index_for("src/edited.py"), Qt.ItemDataRole.ToolTipRole)

    # staged and conflicted-free changes: stage a modification, then delete a tracked file from the index
    (workspace / "top.py").write_text("c = 2\n")
    git(workspace, "add", "top.py")
    git(workspace, "rm", "-q", "--cached", "gone.py")
    window.app.git.status()                                        # index changes come from outside
    qtbot.waitUntil(lambda: colour(files, "top.py") not in (None, modified), timeout=10000)
    qtbot.waitUntil(lambda: files.model.git_states.get("gone.py") == "deleted", timeout=10000)
    assert files.model.data(files.model.index_for("gone.py"), Qt.ItemDataRole.FontRole).strikeOut()

    # undoing the edit makes the file clean again: its colour (and its folder's) goes away
    (workspace / "src" / "edited.py").write_text("b = 1\n")
    qtbot.waitUntil(lambda: colour(files, "src/edited.py") is None, timeout=10000)
    assert colour(files, "src") is None


def test_git_states_map_statuses(workspace: Path) -> None:
    from marie.git.model import FileStatus
    from marie.ui.panels.files import git_state

    assert git_state(FileStatus("a", worktree="modified")) == "modified"
    assert git_state(FileStatus("a", index="added")) == "added"
    assert git_state(FileStatus("a", index="modified")) == "staged"
    assert git_state(FileStatus("a", index="added", worktree="modified")) == "modified"
    assert git_state(FileStatus("a", untracked=True)) == "untracked"
    assert git_state(FileStatus("a", conflicted=True)) == "conflicted"
    assert git_state(FileStatus("a", worktree="deleted")) == "deleted"
