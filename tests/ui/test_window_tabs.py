"""Tabs: open, focus, dirty marker, the save/discard/cancel prompt, reopen closed, refused files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from marie.ui import dialogs
from marie.ui.main_window import DIRTY
from tests.ui.conftest import type_text


@pytest.fixture
def files(workspace: Path) -> tuple[Path, Path]:
    a = workspace / "a.py"
    b = workspace / "b.txt"
    a.write_text("import os\nprint(os.getcwd())\n", encoding="utf-8")
    b.write_bytes(b"one\r\ntwo\r\n")
    return a, b



def test_open_focus_and_dirty_marker(make_window, files, qtbot):
    a, b = files
    window = make_window()
    opened = []
    window.editorOpened.connect(opened.append)
    ea = window.open_file(a)
    eb = window.open_file(b)
    assert window.tabs.count() == 2 and opened == [ea, eb]
    assert window.open_file(a) is ea and window.tabs.count() == 2      # no duplicate tab
    assert window.current_editor() is ea
    assert window.tabs.tabText(0) == "a.py"
    type_text(qtbot, ea, "x = 1\n")
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == f"a.py {DIRTY}")
    assert DIRTY in window.windowTitle()
    # the status bar describes the current editor
    window.open_file(b)
    assert window.status_bar.eol.text() == "CRLF"
    assert window.status_bar.encoding.text() == "UTF-8"
    assert window.status_bar.position.text().startswith("Ln 1, Col 1")


def test_close_prompt_cancel_discard_save(make_window, files, qtbot, monkeypatch):
    a, b = files
    window = make_window()
    editor = window.open_file(a)
    type_text(qtbot, editor, "# edited\n")
    qtbot.waitUntil(editor.is_dirty)
    answers = []

    def answer(value):
        def ask(parent, name):
            answers.append(name)
            return value
        monkeypatch.setattr(dialogs, "ask_save_changes", ask)

    answer(dialogs.CANCEL)
    assert window.close_tab() is False
    assert window.tabs.count() == 1 and answers == ["a.py"]

    answer(dialogs.SAVE)
    closed = []
    window.editorClosed.connect(closed.append)
    assert window.close_tab() is True
    assert window.tabs.count() == 0 and closed == [editor]
    assert a.read_text(encoding="utf-8").startswith("# edited\n")

    editor = window.open_file(b)
    type_text(qtbot, editor, "zzz")
    answer(dialogs.DISCARD)
    assert window.close_tab() is True
    assert b.read_bytes() == b"one\r\ntwo\r\n"     # discarded: the file is untouched


def test_reopen_closed_tab_and_clean_close_has_no_prompt(make_window, files, monkeypatch):
    a, b = files
    window = make_window()
    window.open_file(a)
    window.open_file(b, line=2, column=2)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: pytest.fail("clean tabs need no prompt"))
    assert window.close_tab() and window.close_tab()
    assert window.tabs.count() == 0 and window.current_editor() is None
    window.commands.run("file.reopen_closed")
    assert window.current_editor().path == a.resolve()
    window.commands.run("file.reopen_closed")
    editor = window.current_editor()
    assert editor.path == b.resolve() and editor.cursor_position() == (2, 2)


def test_tabs_are_movable_and_closable(make_window, files):
    a, b = files
    window = make_window()
    window.open_file(a)
    window.open_file(b)
    assert window.tabs.isMovable() and window.tabs.tabsClosable()
    window.tabs.tabBar().moveTab(0, 1)
    assert [e.path.name for e in window.editors()] == ["b.txt", "a.py"]


def test_binary_and_missing_files_are_refused_with_a_message(make_window, workspace):
    blob = workspace / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02" * 100)
    window = make_window()
    assert window.open_file(blob) is None
    assert "Cannot open blob.bin" in window.status_bar.currentMessage()
    assert window.open_file(workspace / "nope.py") is None
    assert window.tabs.count() == 0


def test_save_as_and_save_all(make_window, files, qtbot, workspace):
    a, b = files
    window = make_window()
    ea = window.open_file(a)
    eb = window.open_file(b)
    type_text(qtbot, ea, "A")
    type_text(qtbot, eb, "B")
    assert window.save_all()
    assert a.read_text().startswith("A") and b.read_bytes().startswith(b"B")   # CRLF kept below
    assert b.read_bytes().endswith(b"\r\n")
    target = workspace / "copy.py"
    assert window.save_as(ea, target)
    assert target.read_text() == a.read_text() and window.tabs.tabText(window.tabs.indexOf(window._page(ea))) == "copy.py"


def test_go_to_line_command(make_window, files, monkeypatch, qtbot):
    a, _ = files
    window = make_window()
    editor = window.open_file(a)
    monkeypatch.setattr(dialogs, "ask_goto_line", lambda parent, cur, last: (2, 3))
    window.commands.run("go.line")
    assert editor.cursor_position() == (2, 3)
    qtbot.waitUntil(lambda: window.status_bar.position.text() == "Ln 2, Col 3")   # updated on repaint


def test_menus_and_shortcuts_come_from_the_registry(make_window):
    window = make_window()
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles[:5] == ["File", "Edit", "Selection", "View", "Go"] and titles[-1] == "Help"
    save = window.action("file.save")
    assert save.shortcut().toString() == "Ctrl+S"
    assert window.action("palette.show").shortcut().toString() == "Ctrl+Shift+P"
    assert window.action("file.reopen_closed").shortcut().toString() == "Ctrl+Shift+T"
    from marie.ui.commands import Command
    hits = []
    window.commands.register(Command("test.hello", "Say Hello", lambda: hits.append(1), "Ctrl+Alt+H", "Tools"))
    tools = [a for a in window.menuBar().actions() if a.text() == "&Tools"]
    assert tools and [a.text() for a in tools[0].menu().actions()] == ["Say Hello"]
    window.action("test.hello").trigger()
    assert hits == [1]
