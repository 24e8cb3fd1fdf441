"""The editor bridge and the LSP panels in a real MainWindow (offscreen) with a real pylsp server
(one window and one server for the module)."""

from __future__ import annotations

from marie.ui.features import feature_of, feature_state

import textwrap

import pytest

from PySide6.QtCore import Qt

FILES = {
    "pkg/__init__.py": "",
    "pkg/tools.py": '''
        def helper(value):
            """Double the value."""
            return value * 2


        class Greeter:
            def greet(self, name):
                return "hi " + name
        ''',
    "main.py": '''
        import os
        from pkg.tools import Greeter, helper

        result = helper(21)
        greeter = Greeter()
        ''',
}


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    root = tmp_path_factory.mktemp("lspgui") / "ws"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    app = App(root, QtDispatcher())
    win = MainWindow(app, restore=False)
    win.show()
    yield win
    from PySide6.QtCore import QCoreApplication, QEvent

    win.close()
    win.deleteLater()   # timers (ours and other areas') die with it, before the app stops
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.close()


def open_editor(qtbot, window, rel: str):
    editor = window.open_file(window.app.root / rel)
    assert editor is not None
    qtbot.waitUntil(lambda: feature_of(editor, "lsp") is not None, timeout=5000)
    return editor


def caret_to(editor, line: int, column: int) -> None:
    editor.goto(line, column)


def test_completion_popup_inserts_snippets_sensibly(qtbot, window):
    editor = open_editor(qtbot, window, "main.py")
    sci = editor.sci
    sci.documentEnd()
    editor.setFocus()
    qtbot.keyClicks(sci, "os.pa")
    qtbot.waitUntil(sci.autoCActive, timeout=15000)
    ed = feature_of(editor, "lsp")
    assert "path" in ed._items
    sci.autoCSelect("path")
    assert sci.autoCCurrent() >= 0
    sci.autoCComplete()
    assert editor.text().endswith("os.path")
    qtbot.keyClick(sci, Qt.Key.Key_Return)
    qtbot.keyClicks(sci, "greeter.gr")
    qtbot.waitUntil(lambda: sci.autoCActive() and any(k.startswith("greet") for k in ed._items), timeout=15000)
    label = next(k for k in ed._items if k.startswith("greet"))
    sci.autoCSelect(label)
    assert sci.autoCCurrent() >= 0
    sci.autoCComplete()
    assert editor.text().endswith("greeter.greet()") or editor.text().endswith("greeter.greet(name)")
    # the caret (or the selected placeholder) sits inside the parentheses
    line_text = editor.text().splitlines()[-1]
    _, column = editor.cursor_position()
    assert line_text[column - 2] == "(" or editor.selected_text() == "name"
    sci.undo()
    sci.undo()


def test_diagnostics_show_as_squiggles_markers_and_problems(qtbot, window):
    from marie.ui.lsp.markers import INDIC_WARNING, M_WARNING

    path = window.app.root / "diag.py"
    path.write_text("import json\n\nprint(1)\n", encoding="utf-8")
    editor = open_editor(qtbot, window, "diag.py")
    ed = feature_of(editor, "lsp")
    qtbot.waitUntil(lambda: any("json" in d.message for d in ed.diagnostics), timeout=15000)
    sci = editor.sci
    assert sci.indicatorValueAt(INDIC_WARNING, 7) == 1          # under "json"
    assert sci.markerGet(0) & (1 << M_WARNING)
    problems = window.panels["problems"]
    qtbot.waitUntil(lambda: problems.tree.topLevelItemCount() >= 1, timeout=5000)
    texts = [problems.tree.topLevelItem(i).text(0) for i in range(problems.tree.topLevelItemCount())]
    assert any(t.startswith("diag.py") for t in texts)
    # fixing the problem by typing clears the squiggle
    editor.goto(3, 1)
    qtbot.keyClicks(editor.sci, "json.dumps(1)")
    qtbot.keyClick(editor.sci, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not any("json" in d.message and "unused" in d.message for d in ed.diagnostics), timeout=15000)
    assert sci.indicatorValueAt(INDIC_WARNING, 7) == 0


def test_hover_signature_and_highlight(qtbot, window):
    editor = open_editor(qtbot, window, "main.py")
    ed = feature_of(editor, "lsp")
    editor.goto(4, 11)
    ed.hover_at(editor.sci.currentPos())
    qtbot.waitUntil(lambda: "Double the value." in getattr(ed, "last_tip", ""), timeout=15000)
    assert editor.sci.callTipActive()
    ed.highlight()
    qtbot.waitUntil(lambda: len(getattr(ed, "highlights", [])) == 2, timeout=15000)


def test_go_to_definition_opens_the_other_file(qtbot, window):
    editor = open_editor(qtbot, window, "main.py")
    editor.goto(4, 11)
    window.commands.run("lsp.definition")
    qtbot.waitUntil(lambda: window.current_editor() is not None and window.current_editor().path.name == "tools.py",
                    timeout=15000)
    assert window.current_editor().cursor_position() == (1, 5)


def test_references_panel_and_outline(qtbot, window):
    tools = open_editor(qtbot, window, "pkg/tools.py")
    tools.goto(1, 6)
    bridge = feature_state(window, "lsp")
    window.commands.run("lsp.references")
    qtbot.waitUntil(lambda: bridge.references is not None and bridge.references.topLevelItemCount() == 2, timeout=15000)
    outline = window.panels["outline"]
    outline.refresh()
    qtbot.waitUntil(lambda: [s.name for s in outline.symbols][:2] == ["helper", "Greeter"], timeout=15000)
    assert outline.tree.topLevelItem(1).child(0).text(0) == "greet"


def test_format_document_is_one_undo_step(qtbot, window):
    path = window.app.root / "ugly.py"
    source = "x=[1,2 ,3]\ndef f( a ):\n  return a\n"
    path.write_text(source, encoding="utf-8")
    editor = open_editor(qtbot, window, "ugly.py")
    window.commands.run("lsp.format")
    qtbot.waitUntil(lambda: "x = [1, 2, 3]" in editor.text(), timeout=15000)
    assert "def f(a):\n    return a" in editor.text()
    editor.sci.undo()
    assert editor.text() == source


def test_rename_goes_through_the_write_path_and_reloads_editors(qtbot, window):
    main = open_editor(qtbot, window, "main.py")
    tools = open_editor(qtbot, window, "pkg/tools.py")
    tools.goto(1, 6)
    bridge = feature_state(window, "lsp")
    bridge.rename("doubled")
    qtbot.waitUntil(lambda: getattr(bridge, "last_rename", None) is not None, timeout=20000)
    root = window.app.root
    assert "def doubled(value):" in (root / "pkg" / "tools.py").read_text()
    assert "doubled(21)" in (root / "main.py").read_text()
    assert "def doubled(value):" in tools.text() and "doubled(21)" in main.text()
    assert bridge.last_rename.checkpoint_id in [c.id for c in window.app.checkpoints.list()]


def test_status_bar_shows_the_server_state(qtbot, window):
    label = feature_state(window, "lsp").status
    qtbot.waitUntil(lambda: label.text() == "Python: running", timeout=15000)


def test_log_panel_shows_server_events(qtbot, window):
    handle = window.app.lsp.handle("python")
    panel = window.panels["lsp_log"]
    generation = handle.generation
    window.commands.run("lsp.restart")
    qtbot.waitUntil(lambda: handle.generation > generation and handle.state == "running", timeout=15000)
    qtbot.waitUntil(lambda: "[python] started (pid" in panel.view.toPlainText(), timeout=5000)


def test_check_workspace_fills_problems_for_unopened_files(qtbot, window):
    root = window.app.root
    (root / "pkg" / "unopened.py").write_text("import sys\n", encoding="utf-8")
    bridge = feature_state(window, "lsp")
    window.app.index.scan()
    window.commands.run("lsp.check_workspace")
    qtbot.waitUntil(lambda: getattr(bridge, "workspace_checked", None) is not None, timeout=30000)
    target = (root / "pkg" / "unopened.py").resolve()
    assert any("'sys' imported but unused" in d.message for d in window.app.lsp.diagnostics()[target])
    problems = window.panels["problems"]
    texts = [problems.tree.topLevelItem(i).text(0) for i in range(problems.tree.topLevelItemCount())]
    assert any(t.startswith("pkg/unopened.py") for t in texts)


def test_problems_panel_follows_open_files_and_opens_the_location(qtbot, window):
    """Without "Check Workspace": each open file's diagnostics show up grouped under that file as
    pylsp publishes them, a fixed file's group goes away, and double-clicking a problem opens it."""
    root = window.app.root
    (root / "probs").mkdir()
    (root / "probs" / "first.py").write_text("import json\n\nprint(1)\n", encoding="utf-8")
    (root / "probs" / "second.py").write_text("import os\nimport sys\n", encoding="utf-8")
    problems = window.show_panel("problems")
    assert problems is window.panels["problems"]
    tree = problems.tree

    def group(name: str):
        for i in range(tree.topLevelItemCount()):
            if tree.topLevelItem(i).text(0).startswith(f"probs/{name} ("):
                return tree.topLevelItem(i)
        return None

    open_editor(qtbot, window, "probs/second.py")
    first = open_editor(qtbot, window, "probs/first.py")
    qtbot.waitUntil(lambda: group("first.py") is not None and group("second.py") is not None, timeout=15000)
    second_group = group("second.py")
    assert second_group.text(0) == "probs/second.py (2)"
    messages = [second_group.child(i).text(0) for i in range(second_group.childCount())]
    assert any("'os' imported but unused" in m for m in messages) and any("'sys'" in m for m in messages)
    assert [second_group.child(i).text(2) for i in range(2)] == ["1:1", "2:1"]
    assert "'json' imported but unused" in group("first.py").child(0).text(0)

    # typing a fix in the open editor removes that file's group; the other one stays
    first.goto(3, 1)
    qtbot.keyClicks(first.sci, "json.dumps(1)")
    qtbot.keyClick(first.sci, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: group("first.py") is None, timeout=15000)
    assert group("second.py") is not None

    # double-clicking a problem opens its file at its line
    item = group("second.py").child(1)
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    # a user's double-click: the first click's press/release, then the double-click event
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: str(getattr(window.current_editor(), "path", "")).endswith("second.py"), timeout=5000)
    assert window.current_editor().cursor_position() == (2, 1)
