"""Plugins in the real window: loaded on a worker, their commands reach the palette and run, their
panels become docks (the TODOs panel lists real TODOs when its Refresh button is clicked), and the
Plugins panel shows every plugin's state, including a failing one."""

from __future__ import annotations

import textwrap

from PySide6.QtCore import Qt

from tests.qt_helpers import type_text


BROKEN = textwrap.dedent('''
    from marie.plugins.api import PluginInfo
    PLUGIN = PluginInfo("broken_one", "0.1", "1.0")
    def activate(api):
        raise ValueError("this plugin is broken on purpose")
''')


def test_plugins_reach_the_window(qtbot, make_window, workspace, tmp_path):
    (workspace / "notes.py").write_text("a = 1\n# TODO: write the notes\nb = 2  # FIXME later\n", encoding="utf-8")
    extra = tmp_path / "more_plugins"
    extra.mkdir()
    (extra / "broken_one.py").write_text(BROKEN, encoding="utf-8")
    user = workspace / ".marie" / "settings.toml"
    user.parent.mkdir(exist_ok=True)
    user.write_text(f'[plugins]\nfolders = ["{extra}"]\n', encoding="utf-8")
    window = make_window(panels_=True)
    window.finish_startup(panels_now=True)
    qtbot.waitUntil(lambda: "todos" in window.docks and "word_count.current" in window.commands, timeout=30000)
    # The Plugins panel lists the bundled plugins as active and the broken one with its error.
    panel = window.panels["plugins"]
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() >= 5, timeout=15000)
    rows = {panel.tree.topLevelItem(i).text(0): panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())}
    assert rows["todo_finder"].text(2) == "active"
    assert rows["broken_one"].text(2) == "failed" and "broken on purpose" in rows["broken_one"].text(3)
    assert "active" in panel.status.text()
    # A plugin command runs from the registry like any other (and its message shows).
    editor = window.open_file(workspace / "notes.py")
    assert editor is not None
    window.commands.run("word_count.current")
    assert "words" in window.status_bar.currentMessage()
    # The TODOs panel: a real click on Refresh lists the comments found by the project search.
    todos = window.show_panel("todos")
    qtbot.mouseClick(todos.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: todos.list.count() == 2, timeout=30000)
    assert "notes.py:2" in todos.list.item(0).text() and "TODO" in todos.list.item(0).text()
    assert todos.status.text() == "2 comments"


def test_format_on_save_with_the_bundled_formatter(qtbot, make_window, workspace):
    # Real ruff through the formatter plugin: Ctrl+S formats, then saves; undo brings the old text back.
    user = workspace / ".marie" / "settings.toml"
    user.parent.mkdir(exist_ok=True)
    user.write_text("[editor]\nformat_on_save = true\n", encoding="utf-8")
    target = workspace / "messy.py"
    target.write_text("x=[1,2 ,3]\n", encoding="utf-8")
    window = make_window(panels_=True)
    window.finish_startup(panels_now=True)
    qtbot.waitUntil(lambda: window.app.plugins.loaded, timeout=30000)
    editor = window.open_file(target)
    type_text(qtbot, editor, "y=2\n")   # typed at the start: the buffer is dirty, unformatted
    # Ctrl+S's command (the shortcut itself is tested with the window's other keys; a window shortcut
    # needs the window active, which offscreen Qt does not always grant after other windows closed).
    window.commands.run("file.save")
    qtbot.waitUntil(lambda: target.read_text(encoding="utf-8") == "y = 2\nx = [1, 2, 3]\n", timeout=30000)
    assert editor.text() == "y = 2\nx = [1, 2, 3]\n" and not editor.is_dirty()
