"""Go Back / Go Forward (Alt+Left / Alt+Right, the mouse's buttons) after go to definition and other
jumps; breadcrumbs; matched characters in quick open and the palette."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from marie.index.palette_rank import match_positions, positions_in_name, rank
from marie.ui.match_highlight import HTML_ROLE
from tests.ui.conftest import press

LIB = "def helper(value):\n    return value * 2\n\n\nclass Greeter:\n    def greet(self, name):\n        return name\n"
MAIN = "from lib import helper\n\n\nresult = helper(21)\n"


@pytest.fixture
def project(workspace):
    (workspace / "lib.py").write_text(LIB, encoding="utf-8")
    (workspace / "main.py").write_text(MAIN, encoding="utf-8")
    return workspace


def test_back_and_forward_after_go_to_definition(make_window, project, qtbot):
    window = make_window()
    main = window.open_file(project / "main.py", 4, 10)
    qtbot.waitUntil(lambda: window.features.get("lsp", main) is not None, timeout=15000)
    press(qtbot, window, Qt.Key.Key_F12)                                   # go to definition
    qtbot.waitUntil(lambda: window.current_editor() is not main, timeout=60000)
    lib = window.current_editor()
    assert lib.path.name == "lib.py" and lib.cursor_position()[0] == 1
    press(qtbot, window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)  # Alt+Left: back
    assert window.current_editor() is main and main.cursor_position() == (4, 10)
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # Alt+Right: forward
    assert window.current_editor() is lib and lib.cursor_position()[0] == 1
    # the mouse's back button goes back too
    sci = window.current_editor().sci
    for kind in (QMouseEvent.Type.MouseButtonPress, QMouseEvent.Type.MouseButtonRelease):
        QApplication.sendEvent(sci.viewport() if hasattr(sci, "viewport") else sci,
                               QMouseEvent(kind, QPointF(5, 5), QPointF(5, 5), Qt.MouseButton.BackButton,
                                           Qt.MouseButton.BackButton, Qt.KeyboardModifier.NoModifier))
    assert window.current_editor() is main


def test_history_skips_small_moves_and_reopens_a_closed_tab(make_window, project):
    window = make_window()
    window.open_file(project / "main.py", 4)
    window.open_file(project / "lib.py", 1)
    window.open_file(project / "lib.py", 3)          # near: not a navigation
    assert [(loc.path.name, loc.line) for loc in window.history.back] == [("main.py", 4)]
    window.close_page(window._page(window._find((project / "main.py").resolve())))
    assert window.go_back() and window.current_editor().path.name == "main.py"      # reopened
    assert window.current_editor().cursor_position()[0] == 4
    assert window.go_forward() and window.current_editor().path.name == "lib.py"
    assert not window.go_forward()


def test_breadcrumbs_show_the_path_and_the_symbols_at_the_caret(make_window, project, qtbot):
    (project / "pkg").mkdir()
    (project / "pkg" / "shapes.py").write_text(LIB, encoding="utf-8")
    window = make_window()
    editor = window.open_file(project / "pkg" / "shapes.py", 7, 9)       # inside Greeter.greet
    crumbs = window.breadcrumbs
    qtbot.waitUntil(lambda: crumbs.crumbs == ["pkg", "shapes.py", "Greeter", "greet"], timeout=15000)
    from PySide6.QtWidgets import QToolButton

    greeter = next(b for b in crumbs.findChildren(QToolButton) if b.text() == "Greeter")
    qtbot.mouseClick(greeter, Qt.MouseButton.LeftButton)                 # a symbol crumb jumps to it
    assert editor.cursor_position()[0] == 5
    editor.goto(2, 5)                                                     # inside helper
    qtbot.waitUntil(lambda: crumbs.crumbs == ["pkg", "shapes.py", "helper"], timeout=15000)


def test_quick_open_and_palette_highlight_matched_characters(make_window, project, qtbot):
    (project / "src").mkdir()
    (project / "src" / "inventory_loader.py").write_text("x = 1\n", encoding="utf-8")
    window = make_window()
    window.app.index.scan()
    from marie.ui.quick_open import show_quick_open

    dialog = show_quick_open(window)
    qtbot.keyClicks(dialog.query, "invload")
    qtbot.waitUntil(lambda: dialog.list.count() > 0 and dialog.shown_seq == dialog._seq, timeout=15000)
    rich = dialog.list.item(0).data(HTML_ROLE)
    assert rich.startswith("<b>inv</b>entory_<b>load</b>er.py")          # matched letters in bold
    assert "<span style='color:" in rich and ">src</span>" in rich         # the folder, dimmed
    dialog.close()
    window.open_file(project / "main.py")
    palette = window.show_palette()
    qtbot.keyClicks(palette.input, "splitright")
    assert palette.selected().id == "view.split_right"
    assert "<b>" in palette.list.item(0).data(HTML_ROLE)
    palette.reject()


def test_match_positions_and_ranking():
    assert match_positions("fb", "foo_bar.py") == [0, 4]
    assert match_positions("bar", "foo_bar.py") == [4, 5, 6]
    assert match_positions("zz", "foo") == []
    assert positions_in_name("main", "src/main.py") == ([0, 1, 2, 3], [])
    assert positions_in_name("srmain", "src/main.py") == ([0, 1, 2, 3], [0, 1])
    items = ["Go to Line", "Git: Commit", "Go Back"]
    assert rank("goback", items, label=str)[0] == "Go Back" and rank("", items, label=str) == items
