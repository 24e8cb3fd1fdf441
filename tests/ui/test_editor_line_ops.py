"""Line operations with VS Code's keys, typed as a user would, each undone in one step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import press

ALT, SHIFT, CTRL = Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier
TEXT = "alpha\nbeta\ngamma\n"


@pytest.fixture
def setup(make_window, workspace):
    path = workspace / "notes.txt"
    path.write_text(TEXT, encoding="utf-8")
    window = make_window()
    editor = window.open_file(path, 2, 1)
    return window, editor


def undo_once(qtbot, window, editor) -> str:
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    return editor.text()


@pytest.mark.parametrize("key, mods, expected, caret_line", [
    (Qt.Key.Key_Up, ALT, "beta\nalpha\ngamma\n", 1),                  # move line up
    (Qt.Key.Key_Down, ALT, "alpha\ngamma\nbeta\n", 3),                # move line down
    (Qt.Key.Key_Down, SHIFT | ALT, "alpha\nbeta\nbeta\ngamma\n", 3),  # copy line down
    (Qt.Key.Key_Up, SHIFT | ALT, "alpha\nbeta\nbeta\ngamma\n", 2),    # copy line up
    (Qt.Key.Key_K, CTRL | SHIFT, "alpha\ngamma\n", 2),                # delete line
])
def test_keys_edit_lines_and_undo_in_one_step(qtbot, setup, key, mods, expected, caret_line):
    window, editor = setup
    press(qtbot, window, key, mods)
    assert editor.text() == expected
    assert editor.cursor_position()[0] == caret_line
    assert undo_once(qtbot, window, editor) == TEXT


def test_moving_a_selection_of_lines(qtbot, setup):
    window, editor = setup
    sci = editor.sci
    sci.setSelection(sci.positionFromLine(2) + 2, sci.positionFromLine(1))     # beta..gam
    press(qtbot, window, Qt.Key.Key_Up, ALT)
    assert editor.text() == "beta\ngamma\nalpha\n"
    assert undo_once(qtbot, window, editor) == TEXT


@pytest.mark.parametrize("command, text, expected", [
    ("edit.join_lines", "a\n    b\nc\n", "a b\nc\n"),
    ("edit.sort_lines", "pear\napple\nfig", "apple\nfig\npear"),
    ("edit.sort_lines_desc", "b\nc\na", "c\nb\na"),
    ("edit.trim_whitespace", "x  \ny\t\nz\n", "x\ny\nz\n"),
])
def test_palette_line_commands_are_one_undo_step(qtbot, setup, command, text, expected):
    window, editor = setup
    editor.set_text(text)
    editor.sci.emptyUndoBuffer()
    editor.goto(1, 1)
    window.commands.run(command)
    assert editor.text() == expected
    assert undo_once(qtbot, window, editor) == text


def test_transform_case_of_the_selection(qtbot, setup):
    window, editor = setup
    sci = editor.sci
    sci.setSelection(sci.positionFromLine(1) + 4, sci.positionFromLine(1))
    window.commands.run("edit.upper_case")
    assert editor.text() == "alpha\nBETA\ngamma\n" and editor.selected_text() == "BETA"
    window.commands.run("edit.title_case")
    assert editor.text() == "alpha\nBeta\ngamma\n"
    assert undo_once(qtbot, window, editor) == "alpha\nBETA\ngamma\n"


def test_expand_and_shrink_selection_by_syntax_nodes(qtbot, make_window, workspace):
    path = workspace / "calc.py"
    path.write_text("def f(x):\n    return (x + 1) * 2\n", encoding="utf-8")
    window = make_window()
    editor = window.open_file(path, 2, 13)                     # on the "x" inside (x + 1)
    grow = lambda: press(qtbot, window, Qt.Key.Key_Right, SHIFT | ALT)  # noqa: E731
    shrink = lambda: press(qtbot, window, Qt.Key.Key_Left, SHIFT | ALT)  # noqa: E731
    grow()
    assert editor.selected_text() == "x"
    grow()
    assert editor.selected_text() == "x + 1"
    grow()
    assert editor.selected_text() == "(x + 1)"
    shrink()
    assert editor.selected_text() == "x + 1"


def test_word_wrap_whitespace_and_column_selection(qtbot, setup):
    window, editor = setup
    sci = editor.sci
    assert sci.wrapMode() == 0
    press(qtbot, window, Qt.Key.Key_Z, ALT)                  # Alt+Z
    assert sci.wrapMode() == 1
    window.commands.run("view.render_whitespace")
    assert sci.viewWS() == 1
    editor.goto(1, 1)
    press(qtbot, window, Qt.Key.Key_Down, CTRL | SHIFT | ALT)
    press(qtbot, window, Qt.Key.Key_Right, CTRL | SHIFT | ALT)
    press(qtbot, window, Qt.Key.Key_Right, CTRL | SHIFT | ALT)
    assert sci.selectionMode() == 1 and sci.selections() == 2      # rectangular, one per line
    qtbot.keyClicks(sci, "X")
    assert editor.text() == "Xpha\nXta\ngamma\n"
