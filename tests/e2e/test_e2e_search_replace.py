"""E2E c: Ctrl+Shift+F project search, replace in files with a preview, apply; the checkpoint it took is
restored from the Checkpoints panel and the open clean editor reloads; a buffer with unsaved edits gets
its conflict bar instead of being overwritten."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.e2e.conftest import shortcut, type_text, wait_index

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def select_checkpoint(qtbot, panel, prefix: str):
    def find():
        for i in range(panel.tree.topLevelItemCount()):
            item = panel.tree.topLevelItem(i)
            if item.text(1).startswith(prefix):
                return item
        return None

    qtbot.waitUntil(lambda: find() is not None, timeout=10000)
    item = find()
    panel.tree.setCurrentItem(item)
    item.setSelected(True)
    return item


def test_search_replace_checkpoint_restore_and_conflict_bar(qtbot, window, repo):
    wait_index(qtbot, window, "src/app.py")
    app_py, util = repo / "src/app.py", repo / "src/deep/module_util.py"
    old_app, old_util = app_py.read_bytes(), util.read_bytes()
    util_editor = window.open_file(util)
    app_editor = window.open_file(app_py)

    # Ctrl+Shift+F focuses the search panel; type the word, Enter
    shortcut(qtbot, window, Qt.Key.Key_F, CTRL_SHIFT)
    search = window.panels["search"]
    qtbot.waitUntil(search.isVisible, timeout=15000)
    with qtbot.waitSignal(search.searchFinished, timeout=15000):
        search.query.setFocus()
        qtbot.keyClicks(search.query, "widget")
        qtbot.keyClick(search.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: search.files_shown == 2, timeout=15000)
    assert search.matches_shown == 2

    # replace with a preview, apply
    qtbot.keyClicks(search.replacement, "gizmo")
    with qtbot.waitSignal(search.previewReady, timeout=15000) as preview:
        qtbot.mouseClick(search.preview_button, Qt.MouseButton.LeftButton)
    assert preview.args == [2]
    assert search.apply_button.isEnabled()
    with qtbot.waitSignal(search.replaceDone, timeout=15000) as done:
        qtbot.mouseClick(search.apply_button, Qt.MouseButton.LeftButton)
    assert not isinstance(done.args[0], BaseException), done.args[0]
    assert app_py.read_bytes() == old_app.replace(b"widget", b"gizmo")
    assert util.read_bytes() == old_util.replace(b"widget", b"gizmo")
    # open clean editors follow the write
    qtbot.waitUntil(lambda: "gizmo" in util_editor.text() and "gizmo" in app_editor.text(), timeout=15000)

    # the checkpoint exists; restore it from the Checkpoints panel
    panel = window.show_panel("checkpoints")
    select_checkpoint(qtbot, panel, "before: replace")
    qtbot.waitUntil(panel.restore_all_button.isEnabled, timeout=15000)
    qtbot.mouseClick(panel.restore_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.status.text().startswith("restored"), timeout=15000)
    assert app_py.read_bytes() == old_app and util.read_bytes() == old_util
    qtbot.waitUntil(lambda: util_editor.text() == old_util.decode(), timeout=15000)
    qtbot.waitUntil(lambda: app_editor.text() == old_app.decode(), timeout=15000)
    assert not util_editor.is_dirty() and not app_editor.is_dirty()

    # now an unsaved edit in module_util.py, then "Undo last restore" changes the file on disk again:
    # the buffer is kept and the conflict bar is shown
    window.tabs.setCurrentWidget(window._page(util_editor))
    util_editor.goto(1, 1)
    type_text(qtbot, util_editor, "# mine\n")
    qtbot.waitUntil(util_editor.is_dirty)
    mine = util_editor.text()
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: b"gizmo" in util.read_bytes(), timeout=15000)
    qtbot.waitUntil(lambda: window.info_bar(util_editor) is not None, timeout=15000)
    assert set(window.info_bar(util_editor).buttons) >= {"Reload", "Keep mine"}
    assert util_editor.text() == mine and util_editor.is_dirty()
    # the clean one simply reloads
    qtbot.waitUntil(lambda: "gizmo" in app_editor.text(), timeout=15000)
    assert not app_editor.is_dirty()
