"""The first run: the Files panel in front on the left, the welcome view while no editor is open,
every panel of this package saying what it is for while empty."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import press


def test_first_run_shows_files_and_the_welcome_view(make_window, workspace, qtbot):
    (workspace / "main.py").write_text("print('hi')\n", encoding="utf-8")
    window = make_window(panels_=True)
    files = window.docks["files"]
    assert window.dockWidgetArea(files) == Qt.DockWidgetArea.LeftDockWidgetArea
    qtbot.waitUntil(lambda: files.isVisible() and not files.visibleRegion().isEmpty(), timeout=10000)
    assert window.area.stack.currentWidget() is window.welcome
    welcome = window.welcome
    shortcuts = "\n".join(welcome.shortcut_texts())
    for keys in ("Ctrl+P", "Ctrl+Shift+P", "Ctrl+Shift+F", "Ctrl+K, Ctrl+O"):
        assert keys in shortcuts, keys
    assert welcome.model.text().startswith("AI:")
    assert welcome.buttons["Open File\u2026"].isVisible() and welcome.buttons["Open Folder\u2026"].isVisible()
    # New File from the welcome view: the editor takes the area; closing it brings the welcome back
    qtbot.mouseClick(welcome.buttons["New File"], Qt.MouseButton.LeftButton)
    assert window.current_editor() is not None and window.area.stack.currentWidget() is window.area.root
    press(qtbot, window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.area.stack.currentWidget() is window.welcome


def test_a_saved_session_wins_over_the_first_run_layout(make_window, workspace):
    window = make_window(panels_=True)
    window.docks["files"].hide()
    window.close()
    again = make_window(panels_=True)
    assert again.docks["files"].isHidden()


def test_empty_panels_say_what_they_are_for(make_window, qtbot, workspace):
    window = make_window(panels_=True)
    for panel_id in ("problems", "outline", "lsp_log", "checkpoints", "search", "files"):
        if panel_id in window.panels:
            hint = window.panels[panel_id].findChild(type(window.welcome.folder_label), "EmptyState")
            assert hint is not None and len(hint.text()) > 20, panel_id
    files = window.panels["files"]
    hint = files.findChild(type(window.welcome.folder_label), "EmptyState")
    assert not hint.isHidden() and files.view.isHidden()            # an empty folder
    (workspace / "new.txt").write_text("x\n", encoding="utf-8")
    window.app.index.scan()
    qtbot.waitUntil(lambda: hint.isHidden() and not files.view.isHidden(), timeout=15000)
