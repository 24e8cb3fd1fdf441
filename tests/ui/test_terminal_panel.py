"""The Terminal panel in a real window: Ctrl+` opens it with a real bash in the workspace, typed keys
run commands whose output is painted, colours are painted in their colour, Ctrl+` hides it again,
a Ctrl+click on ``path:line:col`` opens the editor at that line, tabs and the find bar work."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

import marie.ui.panels as panels
from marie.ui.panels import terminal as terminal_panel
from tests.qt_helpers import close_main_windows, open_main_window
from tests.terminal.helpers import BASH, PROMPT

WAIT_MS = 30_000


@pytest.fixture
def window(qtbot, workspace, monkeypatch):
    monkeypatch.setattr(panels, "discover", lambda: [terminal_panel.PANEL])
    monkeypatch.setattr(terminal_panel, "default_shell", lambda settings: BASH)
    monkeypatch.setenv("PS1", PROMPT)
    monkeypatch.setenv("HISTFILE", "/dev/null")
    win = open_main_window(qtbot, workspace)
    yield win
    close_main_windows(win)


def open_terminal(qtbot, window):
    window.docks["terminal"].hide()         # alone in the bottom area, it is shown at start
    qtbot.keyClick(window, Qt.Key.Key_QuoteLeft, Qt.KeyboardModifier.ControlModifier)
    panel = window.panels["terminal"]
    qtbot.waitUntil(lambda: panel.current() is not None, timeout=WAIT_MS)
    term = panel.current()
    qtbot.waitUntil(lambda: any(PROMPT.strip() in row for row in term.view.visible_text()), timeout=WAIT_MS)
    return panel, term


def type_line(qtbot, view, text: str) -> None:
    qtbot.keyClicks(view, text)
    qtbot.keyClick(view, Qt.Key.Key_Return)


def wait_row(qtbot, view, text: str) -> int:
    qtbot.waitUntil(lambda: text in [row.strip() for row in view.visible_text()], timeout=WAIT_MS)
    return [row.strip() for row in view.visible_text()].index(text)


def all_rows(term) -> list[str]:
    """Every row of the scrollback and the screen, as text."""
    model = term.model
    return [model.row_text(i).rstrip() for i in range(model.first_id(), model.bottom_id() + model.size[0])]


def painted_colours(view, row: int, first_col: int, count: int) -> set[tuple[int, int, int]]:
    image = view.grab().toImage()
    colours = set()
    y0, y1 = int(row * view.cell_h), int((row + 1) * view.cell_h)
    x0, x1 = int(first_col * view.cell_w), int((first_col + count) * view.cell_w)
    for y in range(y0, min(y1, image.height())):
        for x in range(x0, min(x1, image.width())):
            c = QColor(image.pixel(x, y))
            colours.add((c.red(), c.green(), c.blue()))
    return colours


def test_ctrl_backtick_opens_a_shell_that_runs_typed_commands(qtbot, window, workspace):
    dock = window.docks["terminal"]
    panel, term = open_terminal(qtbot, window)
    assert dock.isVisible()
    view = term.view
    assert view.hasFocus()
    type_line(qtbot, view, "echo hello-$((6*7))")
    row = wait_row(qtbot, view, "hello-42")
    # the row is really painted: pixels other than the background where the text is
    background = view.colors.background
    qtbot.waitUntil(lambda: bool(painted_colours(view, row, 0, 8) - {(background.red(), background.green(), background.blue())}),
                    timeout=WAIT_MS)
    type_line(qtbot, view, "pwd")
    wait_row(qtbot, view, str(workspace))
    # arrows and Ctrl keys go to the shell: recall the last command, change it, run it
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)   # start of line
    qtbot.keyClicks(view, "x=1; ")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    wait_row(qtbot, view, "hello-42")
    qtbot.waitUntil(lambda: all_rows(term).count("hello-42") == 2, timeout=WAIT_MS)
    assert any(row.endswith("x=1; echo hello-$((6*7))") for row in all_rows(term))
    # Ctrl+` with the focus in the terminal hides the panel again
    qtbot.keyClick(view, Qt.Key.Key_QuoteLeft, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=WAIT_MS)
    assert "view.panel.terminal" in window.commands


def test_colours_are_painted(qtbot, window):
    _, term = open_terminal(qtbot, window)
    view = term.view
    type_line(qtbot, view, r"printf '\033[41m      \033[0m\033[38;2;0;0;255m@@@@@@\033[0m\n'; echo DONE")
    row = wait_row(qtbot, view, "DONE") - 1
    red = view.colors.bg("red")
    qtbot.waitUntil(lambda: (red.red(), red.green(), red.blue()) in painted_colours(view, row, 0, 6), timeout=WAIT_MS)
    blues = painted_colours(view, row, 6, 6)
    assert any(b > 150 and r < 100 and g < 100 for r, g, b in blues)
    assert not any(b > 150 and r < 100 and g < 100 for r, g, b in painted_colours(view, row, 0, 6))


def test_ctrl_click_on_a_link_opens_the_file_at_its_line(qtbot, window, workspace):
    (workspace / "pkg").mkdir()
    target = workspace / "pkg" / "mod.py"
    target.write_text("".join(f"line_{i} = {i}\n" for i in range(1, 41)))
    _, term = open_terminal(qtbot, window)
    view = term.view
    type_line(qtbot, view, "echo 'pkg/mod.py:17:4: something is wrong'")
    row = wait_row(qtbot, view, "pkg/mod.py:17:4: something is wrong")
    point = QPoint(int(3.5 * view.cell_w), int((row + 0.5) * view.cell_h))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, point)
    qtbot.waitUntil(lambda: window.current_editor() is not None, timeout=WAIT_MS)
    editor = window.current_editor()
    assert editor.path.resolve() == target.resolve()
    assert editor.cursor_position() == (17, 4)


def test_tabs_exit_code_and_find(qtbot, window):
    panel, first = open_terminal(qtbot, window)
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.terminals()) == 2, timeout=WAIT_MS)
    second = panel.current()
    assert second is not first
    qtbot.waitUntil(lambda: any(PROMPT.strip() in r for r in second.view.visible_text()), timeout=WAIT_MS)
    type_line(qtbot, second.view, "for i in $(seq 1 200); do echo item-$i; done; echo LOOPED")
    wait_row(qtbot, second.view, "LOOPED")
    # find in the scrollback: Ctrl+F, type, the view scrolls back to the match
    qtbot.keyClick(second.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert second.find_bar.isVisible()
    qtbot.keyClicks(second.find_bar.edit, "item-7")
    qtbot.keyClick(second.find_bar.edit, Qt.Key.Key_Return)
    expected = sum("item-7" in f"item-{i}" for i in range(1, 201))          # 7, 70-79, 170-179
    qtbot.waitUntil(lambda: second.find_bar.count.text() == f"{expected} of {expected}", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not second.view.following, timeout=WAIT_MS)
    match = second.find_bar.matches[second.find_bar.index]
    assert "item-7" in second.model.row_text(match.row_id)
    qtbot.keyClick(second.find_bar.edit, Qt.Key.Key_Escape)
    assert not second.find_bar.isVisible()
    # the wheel scrolls back, typing goes back to the bottom
    second.view.scroll_to(None)
    type_line(qtbot, second.view, "exit 3")
    qtbot.waitUntil(lambda: panel.tabs.tabText(panel.tabs.indexOf(second)).endswith("(exit 3)"), timeout=WAIT_MS)
    assert "exited with code 3" in second.banner.text()
    panel.close_terminal(panel.tabs.indexOf(second))
    panel.close_terminal(panel.tabs.indexOf(first))
    assert panel.stack.currentWidget() is panel.empty_page
