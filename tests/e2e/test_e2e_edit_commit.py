"""E2E a: open a project, Ctrl+P a file by a fuzzy query, type, Ctrl+S (CRLF kept), then stage and
commit from the Git panel; `git log` shows the commit."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.e2e.conftest import git, shortcut, type_text, wait_index

CTRL = Qt.KeyboardModifier.ControlModifier


def git_rows(panel, group: str) -> list[str]:
    item = panel.groups[group]
    return [item.child(i).text(0) for i in range(item.childCount())]


def quick_open(qtbot, window, query: str):
    """Ctrl+P, type ``query``, wait for results, Enter. Returns the dialog."""
    shortcut(qtbot, window, Qt.Key.Key_P, CTRL)
    from marie.ui.quick_open import QuickOpenDialog

    dialog = window.findChild(QuickOpenDialog)
    assert dialog is not None and dialog.isVisible(), "Ctrl+P did not open quick open"
    qtbot.keyClicks(dialog.query, query)
    qtbot.waitUntil(lambda: dialog.list.count() > 0 and dialog.shown_seq == dialog._seq, timeout=10000)
    return dialog


def test_quick_open_type_save_stage_commit(qtbot, window, repo):
    wait_index(qtbot, window, "notes/crlf_notes.txt")

    # fuzzy: "mdutil" finds src/deep/module_util.py first
    dialog = quick_open(qtbot, window, "mdutil")
    assert "module_util.py" in dialog.list.item(0).text()
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    editor = window.current_editor()
    assert editor is not None and editor.path.name == "module_util.py"

    # the CRLF file, through a second fuzzy query
    dialog = quick_open(qtbot, window, "crlfnts")
    assert "crlf_notes.txt" in dialog.list.item(0).text()
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    editor = window.current_editor()
    assert editor.path == (repo / "notes/crlf_notes.txt").resolve()
    editor.goto(1, 1)
    type_text(qtbot, editor, "zero\n")
    qtbot.waitUntil(editor.is_dirty)
    shortcut(qtbot, window, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: not editor.is_dirty(), timeout=15000)
    assert (repo / "notes/crlf_notes.txt").read_bytes() == b"zero\r\nalpha\r\nbeta\r\ngamma\r\n"

    # Git panel lists it as modified; stage with the row's "+" button; commit
    panel = window.panels["git"]
    qtbot.waitUntil(lambda: git_rows(panel, "changes") == ["notes/crlf_notes.txt"], timeout=10000)
    item = panel.groups["changes"].child(0)
    stage = panel.tree.itemWidget(item, 1).findChild(type(panel.refresh_button), "git.stage")
    qtbot.mouseClick(stage, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: git_rows(panel, "staged") == ["notes/crlf_notes.txt"], timeout=10000)
    panel.message_edit.setFocus()
    qtbot.keyClicks(panel.message_edit, "docs: add a zero line")
    qtbot.mouseClick(panel.commit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.message_edit.toPlainText() == "", timeout=10000)
    assert git(repo, "log", "-1", "--format=%s").strip() == "docs: add a zero line"
    blob = subprocess_bytes(repo, "git", "cat-file", "blob", "HEAD:notes/crlf_notes.txt")
    assert blob == b"zero\r\nalpha\r\nbeta\r\ngamma\r\n"
    assert git(repo, "status", "--porcelain").strip() == ""
    qtbot.waitUntil(lambda: git_rows(panel, "staged") == [] and git_rows(panel, "changes") == [], timeout=10000)


def subprocess_bytes(cwd, *cmd) -> bytes:
    import subprocess

    return subprocess.run(cmd, cwd=cwd, capture_output=True, check=True).stdout
