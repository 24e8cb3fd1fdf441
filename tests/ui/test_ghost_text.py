"""Ghost text in a real editor driven by real keys.

The key behaviour tests seed the completion service's prefix cache (the same path a model answer
takes once it arrived), so they do not wait for a model; ``test_a_real_gemma_completion_...`` runs
the whole way through the bundled Gemma in the llama.cpp worker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from marie.completion.service import service_for
from tests.ai.helpers import make_ai_app
from tests.qt_helpers import open_editor_view, type_text


@pytest.fixture
def ghost_env(qtbot, tmp_path):
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.editor.ghost_text import attach

    root = tmp_path / "ws"
    root.mkdir()
    path = root / "calc.py"
    path.write_text("import math\n\n", encoding="utf-8")
    app = make_ai_app(root, dispatcher=QtDispatcher())
    view = open_editor_view(qtbot, path, app.settings)
    ghost = attach(view, app)
    view.sci.gotoPos(view.sci.textLength())
    yield app, view, ghost
    ghost.close()
    app.tasks.shutdown(wait=True)
    app.close()


def seed(app, ghost, suggestion: str) -> None:
    """Put ``suggestion`` in the cache for the caret as it is now (as a model answer would be)."""
    state = ghost.state()
    line_end = state.text.find("\n", state.caret)
    rest = state.text[state.caret: line_end if line_end >= 0 else None]
    service_for(app).cache.put(state.path, state.text[:state.caret], rest, suggestion)


def shown(qtbot, app, view, ghost, typed: str, suggestion: str) -> None:
    """Type ``typed``; the model's answer there is ``suggestion`` (seeded): it shows at the caret."""
    type_text(qtbot, view, typed)
    seed(app, ghost, suggestion)
    ghost.request()
    assert ghost.visible_text() == suggestion


def test_ghost_text_appears_and_tab_accepts_it_as_one_undo_step(qtbot, ghost_env):
    app, view, ghost = ghost_env
    type_text(qtbot, view, "def area(r):\nreturn math.p")   # auto-indent adds the 4 spaces
    seed(app, ghost, "i * r * r")
    type_text(qtbot, view, "i")
    # typing "i" continued the cached answer: the rest shows at once, grey, at the caret's line end
    qtbot.waitUntil(lambda: ghost.visible_text() == " * r * r", timeout=2000)
    line = view.sci.lineFromPosition(view.sci.currentPos())
    assert bytes(view.sci.eOLAnnotationText(line)).decode() == " * r * r"
    before = view.text()
    qtbot.keyClick(view.sci, Qt.Key.Key_Tab)
    assert view.text() == before + " * r * r"
    assert view.cursor_position() == (4, len("    return math.pi * r * r") + 1)
    view.undo()
    assert view.text() == before          # exactly the accepted text went away


def test_typing_a_matching_character_keeps_the_rest_and_another_drops_it(qtbot, ghost_env):
    app, view, ghost = ghost_env
    shown(qtbot, app, view, ghost, "values = [", "1, 2, 3]")
    requests = ghost.engine.requests
    type_text(qtbot, view, "1,")
    qtbot.waitUntil(lambda: ghost.visible_text() == " 2, 3]", timeout=2000)
    assert ghost.engine.requests == requests      # no model request while typing through
    type_text(qtbot, view, "x")
    qtbot.waitUntil(lambda: ghost.visible_text() == "", timeout=2000)


def test_escape_dismisses_and_ctrl_right_accepts_one_word(qtbot, ghost_env):
    app, view, ghost = ghost_env
    type_text(qtbot, view, "total = ")
    seed(app, ghost, "compute_sum(values) + 1")
    ghost.request()
    qtbot.keyClick(view.sci, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert view.text().endswith("total = compute_sum")
    qtbot.waitUntil(lambda: ghost.visible_text() == "(values) + 1", timeout=2000)
    qtbot.keyClick(view.sci, Qt.Key.Key_Escape)
    assert ghost.visible_text() == ""
    assert view.text().endswith("total = compute_sum")


def test_the_lsp_popup_wins_and_multiple_cursors_get_nothing(qtbot, ghost_env):
    app, view, ghost = ghost_env
    shown(qtbot, app, view, ghost, "name = ", "'marie'")
    view.sci.autoCShow(0, "alpha beta")
    assert view.sci.autoCActive()
    qtbot.keyClick(view.sci, Qt.Key.Key_Tab)       # the popup's Tab: it inserts its item
    assert ghost.visible_text() == ""
    assert view.text().endswith("name = alpha")
    # a suggestion arriving while the popup is open is not shown
    view.sci.autoCShow(0, "alpha beta")
    seed(app, ghost, " + 1")
    ghost.request()
    assert ghost.visible_text() == ""
    view.sci.autoCCancel()
    # two carets: no suggestion
    view.sci.addSelection(0, 0)
    assert view.sci.selections() == 2
    ghost.request()
    assert ghost.visible_text() == ""


def test_a_real_gemma_completion_appears_in_the_editor(qtbot, ghost_env, gemma_path):
    app, view, ghost = ghost_env
    type_text(qtbot, view, "def add(a, b):\nreturn a +")
    qtbot.waitUntil(lambda: ghost.visible_text() != "", timeout=90_000)
    qtbot.waitUntil(lambda: not ghost.engine.in_flight, timeout=60_000)    # the whole answer is in
    shown = ghost.text
    assert shown.strip() and ghost.visible_text().split("\n")[0] == shown.split("\n")[0]
    before = view.text()
    qtbot.keyClick(view.sci, Qt.Key.Key_Tab)
    assert view.text() == before + shown
    view.undo()
    assert view.text() == before
    # recorded like every other request, as task "completion"
    assert any(r["task"] == "completion" and r["provider"] == "local" for r in app.ai.usage.rows())


def test_status_bar_toggle_turns_completion_off_and_on(qtbot, ghost_env):
    from marie.ui.editor.ghost_text import CompletionToggle

    app, view, ghost = ghost_env
    toggle = CompletionToggle(app)
    qtbot.addWidget(toggle)
    assert toggle.text() == "AI \u2713"
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert app.settings.get("completion.enabled") is False and toggle.text() == "AI \u2717"
    type_text(qtbot, view, "x = ")
    seed(app, ghost, "1")
    ghost.request()
    assert ghost.visible_text() == "" and "completion.enabled" in ghost.last_skip
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert app.settings.get("completion.enabled") is True
    ghost.request()
    assert ghost.visible_text() == "1"


def test_per_language_and_ignored_files_get_no_suggestion(qtbot, tmp_path):
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.editor.ghost_text import attach

    root = tmp_path / "ws"
    root.mkdir()
    (root / ".marieignore").write_text("private/\n", encoding="utf-8")
    (root / "private").mkdir()
    hidden = root / "private" / "keys.py"
    hidden.write_text("token = ", encoding="utf-8")
    notes = root / "notes.md"
    notes.write_text("# Notes\n", encoding="utf-8")
    app = make_ai_app(root, dispatcher=QtDispatcher())
    try:
        for path, why in ((hidden, ".marieignore"), (notes, "markdown")):
            view = open_editor_view(qtbot, path, app.settings)
            ghost = attach(view, app)
            view.sci.gotoPos(view.sci.textLength())
            seed(app, ghost, "anything")
            ghost.request()
            assert ghost.visible_text() == "" and why in ghost.last_skip
            ghost.close()
    finally:
        app.tasks.shutdown(wait=True)
        app.close()


def test_the_window_installs_it_through_the_feature_registry(make_window, workspace):
    from PySide6.QtWidgets import QToolButton

    from marie.ui.editor.ghost_text import GhostText

    (workspace / "a.py").write_text("x = 1\n", encoding="utf-8")
    window = make_window(workspace)
    editor = window.open_file(workspace / "a.py")
    assert "completion" in window.features.active()
    assert isinstance(window.features.get("completion", editor), GhostText)
    toggle = window.findChild(QToolButton, "status.completion")
    assert toggle is not None and toggle.isVisible() and toggle.text() == "AI \u2713"
    assert window.commands.get("completion.toggle") is not None


def test_a_next_edit_hint_after_a_rename_and_tab_applies_it(qtbot, ghost_env, gemma_path):
    app, view, ghost = ghost_env
    view.set_text("def area(w, height):\n    check(w)\n    return w * height\n")
    qtbot.wait(20)                       # let the editor settle, as between a person's keystrokes
    view.sci.gotoPos(len("def area(w"))
    qtbot.keyClick(view.sci, Qt.Key.Key_Backspace)
    qtbot.wait(20)
    type_text(qtbot, view, "width")
    qtbot.waitUntil(lambda: ghost.next_edit is not None, timeout=90_000)
    edit = ghost.next_edit
    assert edit.line == 1 and edit.original == "    check(w)"
    assert "Tab" in bytes(view.sci.eOLAnnotationText(1)).decode()
    if ghost.text:
        qtbot.keyClick(view.sci, Qt.Key.Key_Escape)     # ghost text first; then the hint's Tab
    qtbot.keyClick(view.sci, Qt.Key.Key_Tab)
    lines = view.text().split("\n")
    assert lines[1] == edit.replacement and "width" in lines[1] and "(w)" not in lines[1]
    assert view.cursor_position()[0] == 2                # the caret went there
    view.undo()
    assert view.text().split("\n")[1] == "    check(w)"
