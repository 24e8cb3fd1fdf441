"""Fixtures for the end-to-end tests: a real git repository in tmp_path and the REAL main window
(every panel the product ships) on it, with the Qt dispatcher, torn down cleanly."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import PySide6  # noqa: F401  (a dependency: a broken Qt install must fail here, not skip)

from tests.qt_helpers import close_main_windows, open_main_window, type_text  # noqa: F401 (re-exported)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout


FILES: dict[str, bytes] = {
    "README.md": b"# demo\n\nA small project.\n",
    "notes/crlf_notes.txt": b"alpha\r\nbeta\r\ngamma\r\n",
    "src/deep/module_util.py": b"def helper():\n    return 'widget'\n",
    "src/app.py": b"from deep.module_util import helper\n\nprint(helper())  # widget\n",
    "src/other.py": b"a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\n",
}


@pytest.fixture
def repo(workspace: Path) -> Path:
    """A committed repository with a CRLF file, nested folders and a few Python files."""
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "config", "user.name", "Marie Test")
    git(workspace, "config", "user.email", "marie@example.invalid")
    git(workspace, "config", "commit.gpgsign", "false")
    git(workspace, "config", "core.autocrlf", "false")
    for rel, data in FILES.items():
        path = workspace / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "initial")
    return workspace


@pytest.fixture
def window(qtbot, repo: Path):
    """The real MainWindow with all real panels on ``repo`` (offscreen), shown and active."""
    win = open_main_window(qtbot, repo)
    win.activateWindow()
    yield win
    close_main_windows(win)


def shortcut(qtbot, window, key, modifiers) -> None:
    """Press a window shortcut on whatever widget has focus (like a user), after making sure the
    window is the active one so QAction shortcuts fire."""
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=15000)
    focus = QApplication.focusWidget()
    if focus is None or focus.window() is not window:
        editor = window.current_editor()
        focus = editor.sci if editor is not None else window
    qtbot.keyClick(focus, key, modifiers)


def wait_index(qtbot, window, rel: str) -> None:
    qtbot.waitUntil(lambda: rel in window.app.index.snapshot().entries, timeout=15000)
