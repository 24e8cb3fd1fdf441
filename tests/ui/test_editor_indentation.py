"""Indentation detection in the editor: a file without .editorconfig gets the indentation its text
shows (Scintilla's tabs/indent and the status bar), .editorconfig and project settings win, and a
file loaded in the background is detected too."""

from __future__ import annotations


from PySide6.QtCore import Qt

from marie.ui.editor.view import EditorView
from tests.qt_helpers import open_editor_view, type_text



def test_window_shows_and_uses_the_detected_indentation(qtbot, make_window, workspace):
    (workspace / "tabs.py").write_text("def f():\n\tif x:\n\t\treturn 1\n\treturn 2\n")
    (workspace / "two.js").write_text("function f() {\n  if (x) {\n    return 1;\n  }\n}\n")
    (workspace / "flat.txt").write_text("one line\n")
    window = make_window()
    label = window.status_bar.indentation

    tabs = window.open_file(workspace / "tabs.py")
    assert tabs.sci.useTabs() and label.text() == "Tabs: 4"
    tabs.goto(2, 7)                                  # after "\tif x:", then Return: one more tab
    type_text(qtbot, tabs, "\ny")
    assert tabs.text().splitlines()[2] == "\t\ty"

    two = window.open_file(workspace / "two.js")
    assert (two.sci.useTabs(), two.sci.indent() or two.sci.tabWidth()) == (False, 2)
    assert label.text() == "Spaces: 2"

    flat = window.open_file(workspace / "flat.txt")   # nothing to go by: the settings (4 spaces)
    assert label.text() == "Spaces: 4" and not flat.sci.useTabs()

    window.tabs.setCurrentIndex(window.tabs.indexOf(window._page(tabs)))
    assert label.text() == "Tabs: 4"


def test_typing_follows_the_detected_indentation(qtbot, tmp_path):
    path = tmp_path / "two.py"
    path.write_text("def f():\n  if x:\n    return 1\n")
    view = open_editor_view(qtbot, path)
    view.goto(2, 8)                                     # end of "  if x:"
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    qtbot.keyClicks(view.sci, "y")
    qtbot.keyClick(view.sci, Qt.Key.Key_Tab)
    assert view.text().splitlines()[2] == "    y "      # auto-indent one level (2), Tab to column 6
    assert view.indentation_label() == "Spaces: 2"

    tpath = tmp_path / "tabs.go"
    tpath.write_text("func f() {\n\tif x {\n\t\treturn\n\t}\n}\n")
    tview = open_editor_view(qtbot, tpath)
    tview.goto(2, 8)
    qtbot.keyClick(tview.sci, Qt.Key.Key_Return)
    qtbot.keyClicks(tview.sci, "y")
    assert tview.text().splitlines()[2] == "\t\ty"


def test_editorconfig_and_project_settings_win(qtbot, tmp_path, app):
    (tmp_path / "ec").mkdir()
    (tmp_path / "ec" / ".editorconfig").write_text("root = true\n[*]\nindent_style = space\nindent_size = 4\n")
    (tmp_path / "ec" / "tabs.c").write_text("int f() {\n\treturn 1;\n}\nint g() {\n\treturn 2;\n}\n")
    view = open_editor_view(qtbot, tmp_path / "ec" / "tabs.c")
    assert (view.sci.useTabs(), view.sci.indent()) == (False, 4)

    # detection off: the settings' 4 spaces even for a tab-indented file
    app.settings.set_project("editor.detect_indentation", False)
    (app.root / "tabs.c").write_text("int f() {\n\treturn 1;\n}\n")
    view = open_editor_view(qtbot, app.root / "tabs.c", app.settings)
    assert view.indentation_label() == "Spaces: 4"
    # turned back on: the open editor picks it up when the window passes the new settings on
    app.settings.set_project("editor.detect_indentation", True)
    view.set_settings(app.settings)
    assert view.indentation_label() == "Tab size: 4"

    # the project fixes insert_spaces: tabs in the text do not change it, the width still comes from
    # settings; a user-level value would not have stopped detection
    app.settings.set_project("editor.insert_spaces", True)
    view = open_editor_view(qtbot, app.root / "tabs.c", app.settings)
    assert not view.sci.useTabs()


def test_background_load_detects_on_the_worker(qtbot, tmp_path):
    path = tmp_path / "big.py"
    path.write_text("".join(f"def f{i}(x):\n\tif x:\n\t\treturn {i}\n" for i in range(60_000)))
    assert path.stat().st_size > 2**20                  # loaded on a worker thread, fed in slices
    view = EditorView.open(path)
    qtbot.addWidget(view)
    assert view.loading
    with qtbot.waitSignal(view.indentationChanged, timeout=30000) as signal:
        pass
    assert signal.args == ["Tab size: 4"] and view.sci.useTabs()
    qtbot.waitUntil(lambda: not view.loading, timeout=30000)
    assert view.detected_indentation.tab_lines > 1000


def test_window_status_follows_detection_of_a_file_loaded_in_the_background(qtbot, make_window, workspace):
    # Over 1 MiB the text (and the guess) arrive from the load thread after the tab is shown: the
    # status bar must pick the guess up without a tab switch.
    block = "def f():\n\tif x:\n\t\treturn 1\n\treturn 2\n"
    (workspace / "big.py").write_text(block * (1_200_000 // len(block) + 1))
    window = make_window()
    big = window.open_file(workspace / "big.py")
    qtbot.waitUntil(lambda: not big.loading, timeout=30000)
    qtbot.waitUntil(lambda: window.status_bar.indentation.text() == "Tabs: 4", timeout=15000)
    assert big.sci.useTabs()
