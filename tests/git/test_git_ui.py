"""The Git panel, diff view and gutter in a real MainWindow (offscreen), on a real repository."""

from __future__ import annotations

from marie.ui.features import feature_of

import pytest
from PySide6.QtCore import Qt

from tests.git.gitutil import git, write


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
    gutter = feature_of(editor, "git_gutter")
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


def test_branches_tab_rename_delete_with_merged_check(qtbot, window, repo, monkeypatch):
    panel = window.panels["git"]
    tab = panel.branches_tab
    git(repo, "branch", "done")
    git(repo, "checkout", "-q", "-b", "wip")
    write(repo / "w.txt", "w\n")
    git(repo, "add", "w.txt")
    git(repo, "commit", "-q", "-m", "wip")
    git(repo, "checkout", "-q", "main")
    panel.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: tab.branch_list.count() == 3, timeout=10000)
    texts = [tab.branch_list.item(i).text() for i in range(3)]
    assert "(merged)" in texts[0] and texts[0].strip().startswith("done")
    assert texts[1].startswith("● main") and "(not merged)" in texts[2]
    # rename through the dialog the button opens
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    tab.select_branch("done")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("finished", True))
    qtbot.mouseClick(tab.rename_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "finished" in git(repo, "branch", "--list", "finished"), timeout=10000)
    # an unmerged branch: the user says No, it stays; Yes force-deletes it
    qtbot.waitUntil(lambda: tab.branch_list.count() == 3 and "finished" in tab.branch_list.item(0).text(), timeout=10000)
    tab.select_branch("wip")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    qtbot.mouseClick(tab.delete_button, Qt.MouseButton.LeftButton)
    assert "kept wip" in panel.info_label.text() and "wip" in git(repo, "branch")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(tab.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "wip" not in git(repo, "branch"), timeout=10000)
    # the merged one goes without a question
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("merged branch needs no confirmation"))
    qtbot.waitUntil(lambda: tab.branch_list.count() == 2, timeout=10000)
    tab.select_branch("finished")
    qtbot.mouseClick(tab.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: git(repo, "branch").split() == ["*", "main"], timeout=10000)


def test_stash_tab_save_list_pop_drop(qtbot, window, repo):
    panel = window.panels["git"]
    tab = panel.branches_tab
    panel.tabs.setCurrentIndex(2)
    write(repo / "a.txt", "stash me\n")
    tab.stash_message.setText("my work")
    qtbot.mouseClick(tab.stash_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.stash_list.count() == 1, timeout=10000)
    assert "my work" in tab.stash_list.item(0).text() and git(repo, "status", "--porcelain") == ""
    tab.stash_list.setCurrentRow(0)
    qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (repo / "a.txt").read_text() == "stash me\n", timeout=10000)
    git(repo, "checkout", "--", "a.txt")
    qtbot.waitUntil(lambda: tab.stash_list.count() == 1, timeout=10000)
    tab.stash_list.setCurrentRow(0)
    qtbot.mouseClick(tab.pop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.stash_list.count() == 0, timeout=10000)
    assert (repo / "a.txt").read_text() == "stash me\n" and git(repo, "stash", "list") == ""
    git(repo, "stash", "-q")
    tab.reload()
    qtbot.waitUntil(lambda: tab.stash_list.count() == 1, timeout=10000)
    tab.stash_list.setCurrentRow(0)
    qtbot.mouseClick(tab.drop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: git(repo, "stash", "list") == "", timeout=10000)


def test_merge_conflict_listed_opened_at_marker_and_resolved(qtbot, window, repo):
    from tests.git.conftest import conflicted_repo

    panel = window.panels["git"]
    tab = panel.branches_tab
    conflicted_repo(repo)
    panel.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: tab.branch_list.count() == 2, timeout=10000)
    tab.select_branch("theirs")
    qtbot.mouseClick(tab.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: children_of(panel, "conflicts") == ["a.txt  (conflict)"], timeout=10000)
    assert panel.tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: panel.message_edit.toPlainText().startswith("Merge branch 'theirs'"), timeout=10000)
    item = panel.groups["conflicts"].child(0)
    buttons = panel.tree.itemWidget(item, 1)
    qtbot.mouseClick(buttons.findChild(type(panel.refresh_button), "git.open"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_editor() is not None
                    and window.current_editor().cursor_position()[0] == 2, timeout=10000)
    editor = window.current_editor()
    assert editor.text().splitlines()[1].startswith("<<<<<<<")
    editor.set_text("one\nBOTH\nthree\n")
    editor.save()
    # the save refreshed the status (rows are rebuilt): take the row's buttons afresh
    buttons = panel.tree.itemWidget(panel.groups["conflicts"].child(0), 1)
    qtbot.mouseClick(buttons.findChild(type(panel.refresh_button), "git.resolved"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: children_of(panel, "staged") == ["a.txt"], timeout=10000)
    assert children_of(panel, "conflicts") == []
    qtbot.mouseClick(panel.commit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(git(repo, "log", "-1", "--format=%P").split()) == 2, timeout=10000)


def test_ai_button_fills_the_message_from_the_real_model(qtbot, window, repo, gemma_path):
    import re

    panel = window.panels["git"]
    write(repo / "src" / "b.py", "print('b')\nprint('more')\n\n\ndef greet(name):\n    return f'hello {name}'\n")
    git(repo, "add", "src/b.py")
    assert panel.ai_button.isVisible()
    qtbot.mouseClick(panel.ai_button, Qt.MouseButton.LeftButton)
    assert not panel.ai_button.isEnabled()          # the GUI is free while the model works
    qtbot.waitUntil(lambda: panel.ai_button.isEnabled(), timeout=60000)
    message = panel.message_edit.toPlainText()
    first = message.splitlines()[0]
    assert re.match(r"^(feat|fix|docs|style|refactor|perf|test|build|ci|chore)(\([^)\s]+\))?!?: \S", first), message
    assert len(first) <= 72


def test_blame_in_gutter_shows_not_committed_for_unsaved_lines(qtbot, window, repo):
    editor = window.open_file(repo / "a.txt")
    gutter = feature_of(editor, "git_gutter")
    lines = editor.text().splitlines()
    lines.insert(2, "new unsaved line")
    editor.set_text("\n".join(lines) + "\n")
    gutter.toggle_blame()
    qtbot.waitUntil(lambda: len(gutter.blame) == 11, timeout=10000)
    assert [b.line for b in gutter.blame if not b.committed] == [3]
    assert gutter.blame_tip(3).startswith("Not committed yet")
    assert "first" in gutter.blame_tip(4)   # "three", shifted down one line, still blamed on "first"


def test_saving_in_the_editor_announces_the_save_and_git_sees_it(qtbot, window, repo):
    from marie.core.event_types import FileSaved

    saved = []
    window.app.events.on(FileSaved, lambda event: saved.append(event.path))
    editor = window.open_file(repo / "a.txt")
    editor.set_text("changed in the editor\n")
    assert window.save(editor)
    qtbot.waitUntil(lambda: saved == [repo / "a.txt"], timeout=10000)
    qtbot.waitUntil(lambda: window.app.git.last_status is not None
                    and "a.txt" in window.app.git.last_status.files, timeout=15000)
