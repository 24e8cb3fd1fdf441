"""Settings and keybindings: the Settings view edits a value that reaches the running editor,
shows where values come from and locked keys; settings.toml problems show as diagnostics on save;
the Keyboard Shortcuts view shows conflicts and rebinding works."""

from __future__ import annotations

from PySide6.QtCore import Qt

from marie.core import paths
from marie.ui.keybindings import Keybindings, normalise
from marie.ui.lsp import markers
from marie.ui.settings_catalog import catalog
from tests.ui.conftest import press


def test_the_catalog_is_made_from_the_defaults_comments():
    docs = {d.key: d for d in catalog()}
    assert "tabs vs spaces" in docs["editor.detect_indentation"].description
    assert docs["editor.detect_indentation"].default is True
    assert all(isinstance(d.description, str) for d in docs.values())


def test_the_settings_view_edits_a_value_that_reaches_the_editor(make_window, workspace, qtbot):
    (workspace / "a.py").write_text("x = 1\n", encoding="utf-8")
    window = make_window()
    editor = window.open_file(workspace / "a.py")
    assert editor.sci.viewWS() == 0
    view = window.show_settings_view()
    qtbot.keyClicks(view.search, "show whitespace")
    assert "editor.show_whitespace" in view.visible_keys() and len(view.visible_keys()) < 5
    box = view.editor_for("editor.show_whitespace")
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)                                   # tick it from the keyboard
    qtbot.waitUntil(lambda: editor.sci.viewWS() == 1, timeout=10000)        # the running editor follows
    assert window.app.settings.layer_of("editor.show_whitespace") == "user"
    assert "user" in view.table.item(view.rows["editor.show_whitespace"], 2).text()
    size = view.editor_for("editor.font_size")
    size.setFocus()
    size.selectAll()
    qtbot.keyClicks(size, "oops")
    qtbot.keyClick(size, Qt.Key.Key_Return)
    assert "editor.font_size" in view.message.text() and window.app.settings.get("editor.font_size") != "oops"


def test_locked_keys_are_shown_locked(make_window, marie_home):
    policy = paths.policy_file()
    policy.write_text("[editor]\nword_wrap = true\n", encoding="utf-8")
    try:
        window = make_window()
        view = window.show_settings_view()
        box = view.editor_for("editor.word_wrap")
        assert not box.isEnabled() and "locked" in view.table.item(view.rows["editor.word_wrap"], 2).text()
        assert view.set_value("editor.word_wrap", False) is False
    finally:
        policy.unlink()


def test_settings_toml_problems_show_as_diagnostics_on_save(make_window, qtbot):
    window = make_window()
    editor = window.settings_files.open_user()
    assert editor is not None and editor.path == paths.user_settings_file().resolve()
    editor.set_text("[editor]\nfont_size = \"big\"\ntab_width = 2\n")
    press(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    problems = window.settings_files.problems[editor.path]
    assert [line for line, _ in problems] == [2] and "expected an integer" in problems[0][1]
    sci = editor.sci
    assert sci.markerGet(1) & (1 << markers.M_ERROR)
    assert sci.indicatorValueAt(markers.INDIC_ERROR, sci.positionFromLine(1)) == 1
    assert editor.info_bar.kind == "settings" and "font_size" in editor.info_bar.label.text()
    assert window.app.settings.get("editor.tab_width") == 2                  # the good key applied
    editor.set_text("[editor]\ntab_width = 3\n")
    press(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert window.settings_files.problems[editor.path] == [] and not sci.markerGet(1)
    paths.user_settings_file().unlink()


def test_keyboard_shortcuts_view_shows_conflicts_and_rebinds(make_window, qtbot):
    window = make_window()
    bindings = window.keybindings
    bindings.set("edit.join_lines", "Ctrl+Shift+K")            # the same keys as Delete Line
    window.reinstall_shortcuts()
    try:
        view = window.show_keybindings_view()
        assert {"edit.join_lines", "edit.delete_lines"} <= view.conflicting_ids()
        assert "conflict" in view.summary.text()
        assert view.filter("ctrl+shift+k") >= 2
        view.assign_shortcut("edit.join_lines", "Ctrl+J")
        assert window.action("edit.join_lines").shortcut().toString() == "Ctrl+J"
        assert "edit.join_lines" not in view.conflicting_ids()
        assert Keybindings(bindings.file).overrides["edit.join_lines"] == "Ctrl+J"   # written to the file
        view.assign_shortcut("edit.join_lines", None)
        assert window.action("edit.join_lines").shortcut().toString() == ""
    finally:
        bindings.file.unlink(missing_ok=True)


def test_normalise_compares_key_sequences():
    assert normalise("Shift+Ctrl+K") == normalise("ctrl+shift+k")
    assert normalise("Ctrl+K, Ctrl+O") == "ctrl+k, ctrl+o"
