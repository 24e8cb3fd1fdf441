"""The Git panel, diff view and gutter in a real MainWindow (offscreen), on a real repository."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from tests.git.gitutil import git, write  # noqa: E402


def children_of(panel, group):
    item = panel.groups[group]
    return [item.child(i).text(0) for i in range(item.childCount())]


def test_panel_lists_stages_and_commits(qtbot, window, repo):
    panel = window.panels["git"]
    qtbot.waitUntil(lambda: panel.status is not None, timeout=10000)
    assert panel.status_label.text() == "⎇ main"
    write(repo / "a.txt", "changed\n")
    write(repo / "new.txt", "n\n")
    panel.refresh()
    qtbot.waitUntil(lambda: children_of(panel, "changes") == ["a.txt"], timeout=10000)
    assert children_of(panel, "untracked") == ["new.txt"]
    assert panel.groups["staged"].isHidden()
    # the "+" button on the row stages the file
    item = panel.groups["changes"].child(0)
    stage_button = panel.tree.itemWidget(item, 1).findChild(type(panel.refresh_button), "git.stage")
    qtbot.mouseClick(stage_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: children_of(panel, "staged") == ["a.txt"], timeout=10000)
    # clicking the file shows its staged diff
    panel._file_clicked(panel.groups["staged"].child(0), 0)
    qtbot.waitUntil(lambda: panel.diff_view.diff is not None, timeout=10000)
    assert "+changed" in panel.diff_view.diff.patch
    assert panel.diff_view.stage_hunk_button.text() == "Unstage hunk"
    # subject guide
    panel.message_edit.setPlainText("x" * 60)
    assert panel.guide_label.text() == "60/50" and "subject is 60" in panel.guide_label.toolTip()
    panel.message_edit.setPlainText("feat: change a")
    assert panel.guide_label.text() == "14/50"
    panel.signoff_box.setChecked(True)
    qtbot.mouseClick(panel.commit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.message_edit.toPlainText() == "", timeout=10000)
    assert git(repo, "log", "-1", "--format=%s").strip() == "feat: change a"
    assert "Signed-off-by" in git(repo, "log", "-1", "--format=%B")
    qtbot.waitUntil(lambda: children_of(panel, "staged") == [], timeout=10000)
    # history tab
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.history_list.count() == 3, timeout=10000)
    assert "feat: change a" in panel.history_list.item(0).text()
    panel.history_list.setCurrentRow(2)
    qtbot.waitUntil(lambda: "commit " in panel.commit_details.toPlainText(), timeout=10000)
    assert "first" in panel.commit_details.toPlainText()


def test_diff_view_stages_selected_lines(qtbot, window, repo):
    panel = window.panels["git"]
    write(repo / "a.txt", "ONE\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nTEN\n")
    window.app.git.file_diff("a.txt", on_done=lambda d: panel.diff_view.show_diff(d, "unstaged"))
    view = panel.diff_view
    qtbot.waitUntil(lambda: view.diff is not None, timeout=10000)
    assert len(view.diff.hunks) == 2
    # select the two rows of the second hunk's change ("-ten", "+TEN") and stage just those lines
    rows = [i for i, (_, line) in enumerate(view.rows) if line is not None and line.text.lower() == "ten"]
    view.select_rows(rows[0], rows[-1])
    assert view.selected_keys() == {("-", 10), ("+", 10)}
    qtbot.mouseClick(view.stage_lines_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "+TEN" in git(repo, "diff", "--cached"), timeout=10000)
    assert "ONE" not in git(repo, "diff", "--cached")
    qtbot.waitUntil(lambda: view.diff is not None and len(view.diff.hunks) == 1, timeout=10000)
    view.set_side_by_side(True)
    from marie.ui.git_diff_view import sci_text

    assert "one" in sci_text(view.left) and "ONE" in sci_text(view.right)


def test_gutter_marks_buffer_changes_and_reverts(qtbot, window, repo):
    editor = window.open_file(repo / "a.txt")
    assert editor is not None
    gutter = editor._git_gutter
    lines = (repo / "a.txt").read_text().splitlines()
    lines[1] = "TWO"            # modified
    lines.insert(4, "added")    # added (new line 5)
    del lines[9]                # deleted ("nine", after the insert)
    editor.set_text("\n".join(lines) + "\n")
    gutter.update()
    qtbot.waitUntil(lambda: gutter.markers().get(2) == "modified", timeout=10000)
    marks = gutter.markers()
    assert marks[5] == "added" and "deleted" in marks.values()
    hunk = gutter.hunk_at(2)
    assert gutter.old_text(hunk) == "two"
    gutter.revert(hunk)
    assert editor.text().splitlines()[1] == "two"
    qtbot.waitUntil(lambda: 2 not in gutter.markers(), timeout=10000)
    # blame in the gutter
    gutter.toggle_blame()
    qtbot.waitUntil(lambda: bool(gutter.blame), timeout=10000)
    assert "first" in gutter.blame_tip(1)
