"""The Checkpoints panel driven like a user: create, diff vs now, view a file diff, restore, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.qt_helpers import close_panel, open_panel


@pytest.fixture
def panel(qtbot, workspace):
    from marie.ui.panels.checkpoints import PANEL

    widget = open_panel(qtbot, workspace, PANEL)
    yield widget
    close_panel(widget)


def rows(panel):
    return [[panel.tree.topLevelItem(i).text(c) for c in range(3)] for i in range(panel.tree.topLevelItemCount())]


def test_panel_create_diff_restore_undo(qtbot, panel, workspace: Path):
    (workspace / "a.py").write_text("print('one')\n")
    (workspace / "b.txt").write_text("keep\n")
    qtbot.keyClicks(panel.label_edit, "before refactor")
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1)
    assert rows(panel)[0][1:] == ["before refactor", "2"]
    assert "checkpoints.create" in panel.window.commands

    (workspace / "a.py").write_text("print('two')\n")
    (workspace / "c.txt").write_text("new\n")
    panel.tree.topLevelItem(0).setSelected(True)
    qtbot.mouseClick(panel.diff_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.files.count() == 2)
    texts = [panel.files.item(i).text() for i in range(2)]
    assert texts[0].split() == ["modified", "a.py"] and texts[1].split() == ["added", "c.txt"]
    panel.files.itemDoubleClicked.emit(panel.files.item(0))
    assert "-print('one')" in panel.diff_view.toPlainText() and "+print('two')" in panel.diff_view.toPlainText()

    assert not panel.restore_selected_button.isEnabled()
    panel.files.item(0).setCheckState(Qt.CheckState.Checked)
    assert panel.restore_selected_button.isEnabled()
    qtbot.mouseClick(panel.restore_selected_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "restored: 1 written" in panel.status.text())
    assert (workspace / "a.py").read_text() == "print('one')\n"
    assert (workspace / "c.txt").exists()       # not selected, so not touched
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)   # the safety checkpoint is listed

    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (workspace / "a.py").read_text() == "print('two')\n")


def test_panel_pin_and_damaged_restore_message(qtbot, panel, workspace: Path):
    (workspace / "a.txt").write_text("x")
    cid = panel.app.checkpoints.create(label="one")
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1)
    panel.tree.topLevelItem(0).setCheckState(3, Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: panel.app.checkpoints.info(cid).pinned)

    obj = panel.app.checkpoints.store.path(panel.app.checkpoints.items(cid)["a.txt"].ref)
    obj.write_bytes(b"rot")
    (workspace / "a.txt").write_text("y")
    panel.tree.topLevelItem(0).setSelected(True)
    qtbot.waitUntil(panel.restore_all_button.isEnabled)   # the pin's job is done (the panel is not busy)
    qtbot.mouseClick(panel.restore_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "damaged" in panel.status.text())
    assert "nothing was restored" in panel.status.text()
    assert panel.window.messages and panel.window.messages[-1][1] == "error"
    assert (workspace / "a.txt").read_text() == "y"
