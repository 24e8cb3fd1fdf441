"""The index views in a real MainWindow (offscreen): file tree, quick open, symbol pickers, search."""

from __future__ import annotations

from marie.ui.quick_open import QuickOpenDialog
from marie.ui.symbol_picker import FileSymbolPicker, WorkspaceSymbolPicker

from pathlib import Path

import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def window(qtbot, workspace: Path):
    (workspace / "src").mkdir()
    (workspace / "src" / "main.py").write_text("class Engine:\n    def start(self):\n        return 'go'\n\n"
                                               "def helper():\n    return Engine()\n")
    (workspace / "src" / "util.py").write_text("def helper_two():\n    return 'go'\n")
    (workspace / "README.md").write_text("# Demo\n")
    win = open_window(qtbot, workspace)
    yield win
    close_window(qtbot, win)


def open_window(qtbot, workspace: Path):
    """A real MainWindow (offscreen, Qt dispatcher) on ``workspace``, once its file tree is shown."""
    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    app = App(workspace, QtDispatcher())
    win = MainWindow(app, restore=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    files = win.panels["files"]
    qtbot.waitUntil(lambda: app.index.snapshot().complete and files.model.snapshot.complete, timeout=10000)
    return win


def close_window(qtbot, win) -> None:
    win.close()
    qtbot.wait(100)      # let other panels' pending timers run while the app is still open
    win.app.close()


def tree_paths(files) -> set[str]:
    return {e.path for e in files.model.snapshot.entries.values()}


def row_names(files, parent_rel: str = "") -> list[str]:
    model = files.model
    parent = model.index_for(parent_rel) if parent_rel else None
    from PySide6.QtCore import QModelIndex

    parent = parent or QModelIndex()
    return [model.data(model.index(r, 0, parent)) for r in range(model.rowCount(parent))]


def test_file_tree_lists_and_follows_the_disk(window, qtbot, workspace: Path) -> None:
    files = window.panels["files"]
    assert row_names(files) == ["src", "README.md"]            # folders first
    assert row_names(files, "src") == ["main.py", "util.py"]
    (workspace / "src" / "added.py").write_text("x\n")
    qtbot.waitUntil(lambda: "added.py" in row_names(files, "src"), timeout=15000)

    files.new_file("src", "fresh.py")
    qtbot.waitUntil(lambda: "fresh.py" in row_names(files, "src"), timeout=15000)
    assert (workspace / "src" / "fresh.py").read_bytes() == b""

    files.duplicate("src/util.py")
    qtbot.waitUntil(lambda: "util copy.py" in row_names(files, "src"), timeout=15000)
    assert (workspace / "src" / "util copy.py").read_text() == (workspace / "src" / "util.py").read_text()

    files.rename("src/added.py", "renamed.py")
    qtbot.waitUntil(lambda: "renamed.py" in row_names(files, "src") and "added.py" not in row_names(files, "src"),
                    timeout=15000)
    files.delete("src/renamed.py")
    qtbot.waitUntil(lambda: "renamed.py" not in row_names(files, "src"), timeout=15000)
    assert not (workspace / "src" / "renamed.py").exists()
    # Each of those went through the write path, so each made a checkpoint.
    labels = [c.label for c in window.app.checkpoints.list()]
    assert any("delete src/renamed.py" in label for label in labels)

    editor = window.open_file(workspace / "src" / "main.py")
    assert editor is not None
    assert files.reveal()
    assert files.selected_path() == "src/main.py"


def test_quick_open_opens_at_line(window, qtbot, workspace: Path) -> None:
    window.commands.run("go.file")
    dialog = window.findChild(QuickOpenDialog)
    with qtbot.waitSignal(dialog.resultsShown, timeout=15000):
        qtbot.keyClicks(dialog.query, "main:5")
    qtbot.waitUntil(lambda: dialog.list.count() > 0 and "main.py" in dialog.list.item(0).text(), timeout=15000)
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    editor = window.current_editor()
    assert editor is not None and Path(editor.path).name == "main.py"
    assert editor.cursor_position()[0] == 5
    assert window.app.index.quick_open.recent[0] == "src/main.py"


def test_symbol_pickers(window, qtbot, workspace: Path) -> None:
    window.open_file(workspace / "src" / "main.py")
    window.commands.run("go.symbol_in_file")
    picker = window.findChild(FileSymbolPicker)
    qtbot.waitUntil(lambda: picker.list.count() == 3, timeout=15000)
    assert picker.list.item(1).text().startswith("start  (Engine)")
    qtbot.keyClicks(picker.query, "help")
    qtbot.waitUntil(lambda: picker.list.count() == 1, timeout=15000)
    qtbot.keyClick(picker.query, Qt.Key.Key_Return)
    assert window.current_editor().cursor_position()[0] == 5

    window.commands.run("go.symbol_in_workspace")
    ws = window.findChild(WorkspaceSymbolPicker)
    qtbot.waitUntil(lambda: window.app.index.symbol_index.ready, timeout=10000)
    qtbot.keyClicks(ws.query, "helper_two")
    qtbot.waitUntil(lambda: ws.list.count() >= 1 and ws.list.item(0).text().startswith("helper_two"), timeout=15000)
    qtbot.keyClick(ws.query, Qt.Key.Key_Return)
    assert Path(window.current_editor().path).name == "util.py"


def test_search_panel_streams_opens_and_replaces(window, qtbot, workspace: Path) -> None:
    window.commands.run("view.panel.search")
    panel = window.panels["search"]
    qtbot.keyClicks(panel.query, "'go'")
    with qtbot.waitSignal(panel.searchFinished, timeout=10000):
        qtbot.keyClick(panel.query, Qt.Key.Key_Return)
    assert panel.results.topLevelItemCount() == 2
    assert "2 matches in 2 files" in panel.status.text()
    top = [panel.results.topLevelItem(i) for i in range(2)]
    main_item = next(t for t in top if t.text(0).startswith("src/main.py"))
    child = main_item.child(0)
    panel.results.itemClicked.emit(child, 0)
    editor = window.current_editor()
    assert Path(editor.path).name == "main.py" and editor.cursor_position()[0] == 3

    qtbot.keyClicks(panel.replacement, "'stop'")
    with qtbot.waitSignal(panel.previewReady, timeout=10000):
        panel.preview_button.click()
    util_item = next(panel.results.topLevelItem(i) for i in range(2)
                     if panel.results.topLevelItem(i).text(0).startswith("src/util.py"))
    util_item.child(0).setCheckState(0, Qt.CheckState.Unchecked)     # keep util.py as it is
    with qtbot.waitSignal(panel.replaceDone, timeout=10000) as done:
        panel.apply_button.click()
    assert done.args[0].replaced == 1
    assert "return 'stop'" in (workspace / "src" / "main.py").read_text()
    assert "return 'go'" in (workspace / "src" / "util.py").read_text()
