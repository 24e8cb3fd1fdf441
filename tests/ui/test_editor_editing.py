"""Find/replace (literal, regex, case, whole word, highlight, replace all as one undo step),
multiple cursors (Ctrl+D, Alt+click), toggle comment, auto-indent, zoom, brace matching."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt

from marie.ui.editor import find_bar as fb
from marie.ui.editor.style import INDIC_FIND
from marie.ui.editor.view import EditorView

CTRL = Qt.KeyboardModifier.ControlModifier


def make_view(qtbot, tmp_path: Path, name: str, text: str) -> EditorView:
    path = tmp_path / name
    path.write_text(text)
    view = EditorView.open(path)
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    qtbot.waitExposed(view)
    return view


def highlighted(view) -> list[tuple[int, int]]:
    sci, out, pos = view.sci, [], 0
    length = sci.textLength()
    while pos < length:
        end = sci.indicatorEnd(INDIC_FIND, pos)
        if sci.indicatorValueAt(INDIC_FIND, pos):
            out.append((pos, end))
        if end <= pos:
            break
        pos = end
    return out


def test_find_bar_literal_case_word_regex_and_highlight(qtbot, tmp_path):
    view = make_view(qtbot, tmp_path, "f.py", "foo = Foo()\nfood = foo + foo_bar\n")
    qtbot.keyClick(view.sci, Qt.Key.Key_F, CTRL)
    bar = view.find_bar
    assert bar.isVisible() and not bar.replace_edit.isVisible()
    qtbot.keyClicks(bar.find_edit, "foo")
    assert bar.status.text() == "5 matches" and len(highlighted(view)) == 5
    bar.case_box.setChecked(True)
    assert bar.status.text() == "4 matches"
    bar.word_box.setChecked(True)
    assert bar.status.text() == "2 matches"
    bar.find_next()
    assert view.selected_text() == "foo" and view.cursor_position() == (1, 4)
    bar.find_next()
    assert view.cursor_position() == (2, 11)
    bar.find_next()                                            # wraps around
    assert view.cursor_position() == (1, 4)
    bar.find_previous()
    assert view.cursor_position()[0] == 2
    bar.word_box.setChecked(False)
    bar.regex_box.setChecked(True)
    bar.find_edit.setText(r"fo+d?\b")
    assert bar.status.text() == "3 matches"
    bar.find_edit.setText("nothing here")
    assert bar.status.text() == "No results" and highlighted(view) == []
    qtbot.keyClick(bar.find_edit, Qt.Key.Key_Escape)
    assert not bar.isVisible()


def test_replace_all_is_one_undo_step_and_regex_groups(qtbot, tmp_path):
    text = "".join(f"item_{i} = value_{i}\n" for i in range(200))
    view = make_view(qtbot, tmp_path, "r.py", text)
    view.show_replace()
    bar = view.find_bar
    assert bar.replace_edit.isVisible()
    bar.regex_box.setChecked(True)
    bar.find_edit.setText(r"item_(\d+)")
    bar.replace_edit.setText(r"thing[\1]")
    assert bar.replace_all() == 200
    assert view.text().splitlines()[7] == "thing[7] = value_7"
    assert view.is_dirty()
    view.sci.undo()                                            # ONE step takes all 200 back
    assert view.text() == text and not view.is_dirty()

    bar.regex_box.setChecked(False)
    bar.find_edit.setText("value_1")
    bar.replace_edit.setText("V1")
    bar.case_box.setChecked(True)
    bar.word_box.setChecked(True)
    assert bar.replace_all() == 1                              # whole word: not value_10..19
    assert "item_1 = V1\n" in view.text() and "value_10" in view.text()


def test_replace_one_then_next(qtbot, tmp_path):
    view = make_view(qtbot, tmp_path, "o.txt", "a a a\n")
    view.show_replace()
    bar = view.find_bar
    bar.find_edit.setText("a")
    bar.replace_edit.setText("bb")
    bar.find_next()
    assert bar.replace()
    assert view.text() == "bb a a\n"
    assert bar.replace()
    assert view.text() == "bb bb a\n"


def test_empty_regex_matches_do_not_loop(qtbot, tmp_path):
    view = make_view(qtbot, tmp_path, "e.txt", "ab\ncd\n")
    opts = fb.FindOptions("^", regex=True)
    assert len(fb.find_all(view.sci, opts)) >= 2
    assert fb.replace_all(view.sci, opts, "> ") >= 2
    assert view.text().startswith("> ab\n> cd\n")


def test_ctrl_d_multi_cursor_typing_edits_every_occurrence(qtbot, tmp_path):
    view = make_view(qtbot, tmp_path, "m.py", "count = 1\nprint(count)\ncount += count_other\n")
    view.goto(1, 3)                                            # inside "count"
    qtbot.keyClick(view.sci, Qt.Key.Key_D, CTRL)               # selects the word
    assert view.selected_text() == "count" and view.sci.selections() == 1
    qtbot.keyClick(view.sci, Qt.Key.Key_D, CTRL)
    qtbot.keyClick(view.sci, Qt.Key.Key_D, CTRL)
    assert view.sci.selections() == 3                          # whole words only, not count_other
    qtbot.keyClicks(view.sci, "total")
    assert view.text() == "total = 1\nprint(total)\ntotal += count_other\n"
    view.sci.undo()                                            # one keystroke = one step at every caret
    assert view.text() == "tota = 1\nprint(tota)\ntota += count_other\n"
    qtbot.keyClick(view.sci, Qt.Key.Key_Escape)
    assert view.sci.selections() == 1


def test_alt_click_adds_a_caret_and_typing_goes_to_both(qtbot, tmp_path):
    view = make_view(qtbot, tmp_path, "c.txt", "alpha\nbeta\ngamma\n")
    view.goto(1, 1)
    sci = view.sci
    pos = sci.positionFromLine(2)
    point = QPoint(sci.pointXFromPosition(pos) + 1, sci.pointYFromPosition(pos) + 3)
    qtbot.mousePress(sci.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, point)
    qtbot.mouseRelease(sci.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, point)
    assert sci.selections() == 2
    qtbot.keyClicks(sci, "xy")
    assert view.text() == "xyalpha\nbeta\nxygamma\n"


def test_toggle_comment_per_language(qtbot, tmp_path):
    view = make_view(qtbot, tmp_path, "t.py", "def f():\n    x = 1\n\n    return x\n")
    view.sci.setSelection(view.sci.textLength(), 0)
    qtbot.keyClick(view.sci, Qt.Key.Key_Slash, CTRL)
    assert view.text() == "# def f():\n#     x = 1\n\n#     return x\n"
    qtbot.keyClick(view.sci, Qt.Key.Key_Slash, CTRL)
    assert view.text() == "def f():\n    x = 1\n\n    return x\n"

    js = make_view(qtbot, tmp_path, "t.js", "  let a = 1;\n")
    js.toggle_comment()
    assert js.text() == "  // let a = 1;\n"
    js.sci.undo()                                              # one undo step
    assert js.text() == "  let a = 1;\n"
    html = make_view(qtbot, tmp_path, "t.html", "<p>hi</p>\n")
    html.toggle_comment()
    assert html.text() == "<!-- <p>hi</p> -->\n"
    html.toggle_comment()
    assert html.text() == "<p>hi</p>\n"


def test_auto_indent_and_brace_matching_and_zoom(qtbot, tmp_path):
    view = make_view(qtbot, tmp_path, "i.py", "")
    qtbot.keyClicks(view.sci, "def f(x):")
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    qtbot.keyClicks(view.sci, "if x:")
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    qtbot.keyClicks(view.sci, "return (x)")
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    qtbot.keyClicks(view.sci, "y")
    assert view.text() == "def f(x):\n    if x:\n        return (x)\n        y"

    c = make_view(qtbot, tmp_path, "i.c", "")
    qtbot.keyClicks(c.sci, "int f() {")
    qtbot.keyClick(c.sci, Qt.Key.Key_Return)
    qtbot.keyClicks(c.sci, "return 0;")
    assert c.text() == "int f() {\n    return 0;"
    c.goto(1, 10)                                              # just after "{" (no match yet)
    assert c.sci.braceMatch(c.sci.currentPos() - 1, 0) == -1
    c.zoom_in()
    assert c.sci.zoom() == 1
    c.zoom_reset()
    assert c.sci.zoom() == 0
