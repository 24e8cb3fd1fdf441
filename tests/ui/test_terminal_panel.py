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


def test_the_agents_commands_show_in_a_read_only_agent_tab(qtbot, window):
    from marie.agent.events import CommandOutput, ToolFinished, ToolStarted

    panel, shell = open_terminal(qtbot, window)
    events = window.app.events
    events.publish(ToolStarted("s1", 1, "c1", "run_command", '{"command": "pytest -q tests/test_x.py"}'))
    events.publish(CommandOutput("s1", "c1", "collected 3 items\n"))
    events.publish(CommandOutput("s1", "c1", "\x1b[31mtests/test_x.py:12: AssertionError\x1b[0m\n"))
    events.publish(ToolFinished("s1", 1, "c1", "run_command", False, "exit 1: 1 failed", "..."))
    events.publish(ToolStarted("s1", 2, "c2", "read_file", '{"path": "a.py"}'))    # not a command: not shown
    qtbot.waitUntil(lambda: panel.agent_widget is not None, timeout=WAIT_MS)
    agent = panel.agent_widget
    assert panel.tabs.tabText(panel.tabs.indexOf(agent)) == "Agent"
    assert panel.terminals() == [shell]                       # the Agent tab is not a shell
    qtbot.waitUntil(lambda: "\u2717 exit 1: 1 failed" in [r.strip() for r in all_rows(agent)], timeout=WAIT_MS)
    rows = [r.strip() for r in all_rows(agent)]
    assert rows[:3] == ["$ pytest -q tests/test_x.py", "collected 3 items", "tests/test_x.py:12: AssertionError"]
    assert not any("a.py" in r for r in rows)
    runs = agent.model.rows(agent.model.first_id() + 2, 1)[0]
    assert runs[0][2].fg == "red"
    # read-only: keys do not reach anything, and nothing breaks
    panel.tabs.setCurrentWidget(agent)
    qtbot.keyClicks(agent.view, "ls")
    assert [r.strip() for r in all_rows(agent)][:3] == rows[:3]


def test_resize_wheel_copy_and_paste(qtbot, window):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QGuiApplication, QWheelEvent
    from PySide6.QtWidgets import QApplication

    _, term = open_terminal(qtbot, window)
    view = term.view
    # the window grows: the view's cells reach the shell (SIGWINCH) and `stty size` says so
    window.resize(window.width() + 300, window.height() + 200)
    window.resizeDocks([window.docks["terminal"]], [320], Qt.Orientation.Vertical)
    before = term.session.model.size
    qtbot.waitUntil(lambda: term.session.model.size == view.cells() != before, timeout=WAIT_MS)
    type_line(qtbot, view, "stty size")
    qtbot.waitUntil(lambda: f"{view.cells()[0]} {view.cells()[1]}" in [r.strip() for r in all_rows(term)],
                    timeout=WAIT_MS)
    assert term.session.model.size == view.cells()

    type_line(qtbot, view, "seq 1 300; echo SEQ-DONE")
    wait_row(qtbot, view, "SEQ-DONE")
    # the wheel scrolls back through the scrollback; a key brings the view back to the bottom
    event = QWheelEvent(QPointF(10, 10), QPointF(view.mapToGlobal(QPoint(10, 10))), QPoint(0, 0), QPoint(0, 360),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    assert not view.following
    assert "SEQ-DONE" not in [r.strip() for r in view.visible_text()]
    assert term.scrollbar.value() < term.scrollbar.maximum()

    # select a row with the mouse, copy with Ctrl+Shift+C
    top = view.visible_text()
    row = next(i for i, r in enumerate(top) if r.strip().isdigit())
    number = top[row].strip()
    y = int((row + 0.5) * view.cell_h)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(1, y))
    qtbot.mouseMove(view, QPoint(int((len(number) + 0.5) * view.cell_w), y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(int((len(number) + 0.5) * view.cell_w), y))
    assert view.selected_text() == number
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert QGuiApplication.clipboard().text() == number
    # paste it back as part of a command: it lands on the prompt line (bracketed), Enter runs it
    qtbot.keyClicks(view, "echo pasted-")
    assert view.following
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    wait_row(qtbot, view, f"pasted-{number}")


def test_theme_switch_repaints_in_the_new_colours(qtbot, window):
    _, term = open_terminal(qtbot, window)
    view = term.view
    window.set_theme("dark")
    dark = view.colors.background.name()
    window.set_theme("light")
    light = view.colors.background.name()
    assert dark != light
    qtbot.waitUntil(lambda: QColor(view.grab().toImage().pixel(view.width() - 2, view.height() - 2)).name() == light,
                    timeout=WAIT_MS)
