"""Snippet tab stops in a real EditorView of a real MainWindow (offscreen), driven by real key
presses: a real pylsp call snippet, then snippets as servers send them (mirrors, choices, nesting)."""

from __future__ import annotations

from marie.ui.features import feature_of

import pytest

from PySide6.QtCore import Qt

from marie.lsp.types import CompletionItem


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    root = tmp_path_factory.mktemp("lspsnip") / "ws"
    root.mkdir()
    app = App(root, QtDispatcher())
    win = MainWindow(app, restore=False)
    win.show()
    yield win
    from PySide6.QtCore import QCoreApplication, QEvent

    win.close()
    win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.close()


def open_editor(qtbot, window, name: str, text: str):
    path = window.app.root / name
    path.write_text(text, encoding="utf-8")
    editor = window.open_file(path)
    assert editor is not None
    qtbot.waitUntil(lambda: feature_of(editor, "lsp") is not None, timeout=5000)
    editor.setFocus()
    editor.sci.documentEnd()
    return editor


def insert_snippet(editor, snippet: str):
    """What choosing a completion item carrying ``snippet`` does (the item as a server sends it)."""
    ed = feature_of(editor, "lsp")
    ed.insert_completion(CompletionItem(label="snip", kind="snippet", insert_text=snippet, is_snippet=True))
    return ed.snippet_session


def press(qtbot, editor, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(editor.sci, key, modifier)


def type_keys(qtbot, editor, text: str) -> None:
    """Type ``text``; a completion popup the typing opened (two word characters ask for one) is
    waited for and closed with Escape, as a user who ignores it would."""
    qtbot.keyClicks(editor.sci, text)
    tasks = feature_of(editor, "lsp").app.tasks
    qtbot.waitUntil(lambda: not any(t.name == "lsp completion" for t in list(tasks.tasks.values())), timeout=15000)
    qtbot.wait(20)    # the answer, posted to the GUI thread, shows the popup (or not)
    if editor.sci.autoCActive():
        press(qtbot, editor, Qt.Key.Key_Escape)


def type_unicode(editor, text: str) -> None:
    """Key presses carrying non-ASCII text (QTest's keyClicks knows ASCII keys only)."""
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    for ch in text:
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(editor.sci, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def test_pylsp_call_snippet_tabs_through_its_parameters(qtbot, window):
    editor = open_editor(qtbot, window, "calls.py", "def greet(name, greeting):\n    return greeting + name\n\n\n")
    sci, ed = editor.sci, feature_of(editor, "lsp")
    qtbot.keyClicks(sci, "gree")
    qtbot.waitUntil(lambda: sci.autoCActive() and any(k.startswith("greet") for k in ed._items), timeout=15000)
    label = next(k for k in ed._items if k.startswith("greet"))
    assert ed._items[label].is_snippet            # pylsp's jedi completion with include_params
    sci.autoCSelect(label)
    press(qtbot, editor, Qt.Key.Key_Tab)          # Tab in the popup chooses the item
    assert editor.text().endswith("greet(name, greeting)")
    assert editor.selected_text() == "name" and ed.snippet_session is not None
    type_keys(qtbot, editor, "who")
    press(qtbot, editor, Qt.Key.Key_Tab)
    assert editor.selected_text() == "greeting"
    type_keys(qtbot, editor, "'hi'")
    press(qtbot, editor, Qt.Key.Key_Tab)          # the final stop ($0): after the call, session over
    assert editor.text().endswith("greet(who, 'hi')")
    assert sci.currentPos() == sci.textLength() and ed.snippet_session is None
    press(qtbot, editor, Qt.Key.Key_Tab)          # Tab is an ordinary Tab again
    assert editor.text().endswith("greet(who, 'hi')    ") or editor.text().endswith("greet(who, 'hi')\t")


def test_tab_shift_tab_mirrors_and_choices(qtbot, window):
    from marie.ui.snippet_session import INDIC_SNIPPET

    editor = open_editor(qtbot, window, "loops.py", "def show(values):\n    ")
    sci = editor.sci
    session = insert_snippet(editor, "for ${1:item} in ${2:values}:\n    print($1, ${3|'a',\"b\"|})\n$0")
    # the second line is indented like the line the snippet went into
    assert editor.text() == "def show(values):\n    for item in values:\n        print(item, 'a')\n    "
    assert editor.selected_text() == "item" and sci.selections() == 2     # the mirror too
    first = editor.text().index("item")
    qtbot.waitUntil(lambda: sci.indicatorValueAt(INDIC_SNIPPET, first) == 1, timeout=2000)
    qtbot.keyClicks(sci, "v")                      # typed into both occurrences
    assert editor.text() == "def show(values):\n    for v in values:\n        print(v, 'a')\n    "
    press(qtbot, editor, Qt.Key.Key_Tab)
    assert editor.selected_text() == "values" and session.number == 2
    press(qtbot, editor, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert editor.selected_text() == "v" and sci.selections() == 2 and session.number == 1
    type_keys(qtbot, editor, "value")
    press(qtbot, editor, Qt.Key.Key_Tab)
    press(qtbot, editor, Qt.Key.Key_Tab)
    assert editor.selected_text() == "'a'" and session.number == 3   # a choice: the first option
    assert sci.autoCActive() and session.choosing   # the options in a list, in the snippet's order
    assert sci.autoCCurrentText() == "'a'"
    sci.autoCSelect('"b"')
    press(qtbot, editor, Qt.Key.Key_Tab)           # Tab takes the option ...
    assert editor.selected_text() == '"b"' and session.number == 3 and not sci.autoCActive()
    press(qtbot, editor, Qt.Key.Key_Tab)           # ... and then goes on to $0: the start of the last line
    assert editor.text() == 'def show(values):\n    for value in values:\n        print(value, "b")\n    '
    assert editor.cursor_position() == (4, 5) and not session.active
    assert sci.indicatorValueAt(INDIC_SNIPPET, first) == 0


def test_edits_before_and_inside_placeholders_keep_the_stops_right(qtbot, window):
    editor = open_editor(qtbot, window, "edits.py", "x = 1\n")
    sci = editor.sci
    session = insert_snippet(editor, "call(${1:first}, ${2:nested(${3:inner})}, é$4)$0")
    assert editor.selected_text() == "first"
    # another edit above the snippet (a formatter, another caret): the stops move with their text
    from marie.lsp.types import Range, TextEdit

    feature_of(editor, "lsp").apply_edits([TextEdit(Range(1, 1, 1, 1), "# héader ✓\n")])
    assert editor.selected_text() == "first"
    press(qtbot, editor, Qt.Key.Key_Backspace)      # placeholder text deleted ...
    type_unicode(editor, "ünï")                    # ... and non-ASCII typed into it
    press(qtbot, editor, Qt.Key.Key_Tab)
    assert editor.selected_text() == "nested(inner)"
    press(qtbot, editor, Qt.Key.Key_Tab)
    assert editor.selected_text() == "inner"
    type_keys(qtbot, editor, "42")
    press(qtbot, editor, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert editor.selected_text() == "nested(42)"   # the outer placeholder grew with its inner one
    press(qtbot, editor, Qt.Key.Key_Tab)
    press(qtbot, editor, Qt.Key.Key_Tab)             # $4: empty, after "é"
    qtbot.keyClicks(sci, "z")
    press(qtbot, editor, Qt.Key.Key_Tab)
    assert editor.text() == "# héader ✓\nx = 1\ncall(ünï, nested(42), éz)"
    assert sci.currentPos() == sci.textLength() and not session.active


def test_escape_or_leaving_the_snippet_ends_the_session(qtbot, window):
    editor = open_editor(qtbot, window, "leave.py", "")
    sci, ed = editor.sci, feature_of(editor, "lsp")
    session = insert_snippet(editor, "pair(${1:a}, ${2:b})")
    press(qtbot, editor, Qt.Key.Key_Escape)
    assert not session.active and ed.snippet_session is None
    assert editor.selected_text() == "a"
    press(qtbot, editor, Qt.Key.Key_Right)
    press(qtbot, editor, Qt.Key.Key_Tab)             # no session: an ordinary Tab
    assert editor.text().startswith("pair(a")
    assert editor.text() != "pair(a, b)"

    sci.setText("x = 1\n")
    sci.documentEnd()
    session = insert_snippet(editor, "pair(${1:a}, ${2:b})")
    press(qtbot, editor, Qt.Key.Key_End)             # still inside the snippet (its end)
    qtbot.waitUntil(lambda: sci.currentPos() == sci.textLength(), timeout=2000)
    assert session.active
    press(qtbot, editor, Qt.Key.Key_Up)              # the caret left the snippet
    qtbot.waitUntil(lambda: not session.active, timeout=2000)
    assert ed.snippet_session is None

    before = editor.text()
    session = insert_snippet(editor, "again(${1:a})")
    assert editor.text() != before
    press(qtbot, editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)   # undo takes the snippet away
    qtbot.waitUntil(lambda: not session.active, timeout=2000)
    assert editor.text() == before


def test_escape_closes_a_completion_popup_and_keeps_the_mirrors(qtbot, window):
    editor = open_editor(qtbot, window, "popup.py", "values = [1]\n")
    sci, ed = editor.sci, feature_of(editor, "lsp")
    session = insert_snippet(editor, "print(${1:x}, len($1))")
    assert sci.selections() == 2
    qtbot.keyClicks(sci, "va")                       # two word characters: pylsp's popup opens ...
    qtbot.waitUntil(lambda: sci.autoCActive() and "values" in ed._items, timeout=15000)
    press(qtbot, editor, Qt.Key.Key_Escape)          # ... Escape closes it, the session goes on
    assert not sci.autoCActive() and session.active and sci.selections() == 2
    qtbot.keyClicks(sci, "r")
    assert editor.text() == "values = [1]\nprint(var, len(var))"
    press(qtbot, editor, Qt.Key.Key_Escape)          # no popup: Escape ends the session
    assert not session.active
