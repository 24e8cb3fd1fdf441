"""The command palette lists registry commands, filters as you type and runs one on Enter."""

from __future__ import annotations

from PySide6.QtCore import Qt

from marie.ui.commands import Command, CommandRegistry, match


def test_match_ranks_and_filters():
    reg = CommandRegistry()
    for cid, title in [("file.save", "Save"), ("file.save_all", "Save All"), ("view.theme.dark", "Dark Theme")]:
        reg.register(Command(cid, title, lambda: None, category=cid.split(".")[0].title()))
    found = [c.id for c in match("save all", reg.all())]
    assert found[0] == "file.save_all" and "view.theme.dark" not in found
    assert [c.id for c in match("dkth", reg.all())] == ["view.theme.dark"]   # subsequence
    assert match("", reg.all()) == reg.all()


def test_palette_runs_a_command_with_enter(make_window, qtbot):
    window = make_window()
    ran = []
    window.commands.register(Command("test.frobnicate", "Frobnicate Widgets", lambda: ran.append("yes"), category="Tools"))
    palette = window.show_palette()
    assert palette.isVisible() and palette.list.count() > 10        # every command is listed
    qtbot.keyClicks(palette.input, "frobn")
    assert palette.list.count() == 1 and "Frobnicate Widgets" in palette.list.item(0).text()
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    assert ran == ["yes"] and not palette.isVisible()


def test_palette_arrow_keys_choose_and_theme_command_switches(make_window, qtbot):
    from marie.ui import themes

    window = make_window()
    palette = window.show_palette()
    qtbot.keyClicks(palette.input, "theme")
    labels = [palette.list.item(i).text() for i in range(palette.list.count())]
    dark_row = next(i for i, text in enumerate(labels) if "Dark Theme" in text)
    palette.list.setCurrentRow(0)
    for _ in range(dark_row):
        qtbot.keyClick(palette.input, Qt.Key.Key_Down)
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    assert themes.current_theme().name == "dark"
    assert window.app.settings.get("ui.theme") == "dark"            # remembered in the user settings
    assert window.palette().color(window.palette().ColorRole.Window).name() == themes.current_theme().color("window")
    window.set_theme("light")
    assert themes.current_theme().name == "light"
