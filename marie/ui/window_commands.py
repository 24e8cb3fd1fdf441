"""The window's commands: every built-in user action (File, Edit, Selection, View, Go, Help) as a
``Command``, and how a command becomes a menu item with its shortcut (the default, or the one
``keybindings.toml`` gives it: ``marie.ui.keybindings``). Mixed into ``MainWindow``. GUI thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from marie.ui.commands import Command
from marie.ui.qt_names import Qt

log = logging.getLogger(__name__)

MENUS = ("File", "Edit", "Selection", "View", "Go", "Help")


class CommandsMixin:
    """Commands and menus of ``MainWindow``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def _install_action(self, command: Command) -> None:
        """Turn a registered command into a QAction in its menu, with its shortcut."""
        old = self._actions.pop(command.id, None)
        if old is not None:
            self.removeAction(old)
            old.deleteLater()
        action = QAction(command.title, self)
        action.setObjectName(f"action.{command.id}")
        shortcut = self.keybindings.shortcut_for(command)
        if shortcut:
            from PySide6.QtGui import QKeySequence   # after the first paint (menus are built then)

            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False, c=command: self._run_command(c))
        self.addAction(action)   # shortcuts work even while the menu bar is hidden
        menu = self._menus.get(command.category)
        if menu is None:
            if command.category:
                menu = QMenu(f"&{command.category}", self)
                self.menuBar().insertMenu(self._menus["Help"].menuAction(), menu)
                self._menus[command.category] = menu
            else:
                menu = self._menus["View"]
        menu.addAction(action)
        self._actions[command.id] = action

    def reinstall_shortcuts(self) -> None:
        """Apply ``keybindings.toml`` again to every command (after it was saved)."""
        from PySide6.QtGui import QKeySequence

        self.keybindings.reload()
        for command in self.commands.all():
            action = self._actions.get(command.id)
            if action is not None:
                action.setShortcut(QKeySequence(self.keybindings.shortcut_for(command) or ""))

    def _run_command(self, command: Command) -> None:
        if not command.is_enabled():
            return
        try:
            command.callback()
        except Exception as exc:
            log.exception("command %s failed", command.id)
            self.show_message(f"{command.title} failed: {exc}", "error")

    def action(self, command_id: str) -> QAction | None:
        return self._actions.get(command_id)

    def _with_editor(self, method: str, *args: Any) -> Callable[[], None]:
        def run() -> None:
            editor = self.current_editor()
            if editor is None:
                return
            target = getattr(editor, method, None) or getattr(editor.sci, method, None)
            if target is None:
                self.show_message(f"The editor cannot {method.replace('_', ' ')} yet", "warning")
                return
            target(*args)
        return run

    def _line_op(self, name: str, *args: Any) -> Callable[[], None]:
        """A line operation (``marie.ui.editor.line_ops``) on the current editor, as one undo step."""
        def run() -> None:
            from marie.ui.editor import line_ops

            editor = self.current_editor()
            if editor is not None and not editor.sci.readOnly():
                getattr(line_ops, name)(editor, *args)
        return run

    def _register_commands(self) -> None:
        add = self.commands.register
        has_editor = lambda: self.current_editor() is not None  # noqa: E731
        from marie.ui import projects

        # -- File
        add(Command("file.new", "New File", self.new_file, "Ctrl+N", "File"))
        add(Command("file.open", "Open File\u2026", self._open_dialog, "Ctrl+O", "File"))
        add(Command("file.open_folder", "Open Folder\u2026", lambda: projects.open_folder_dialog(self), "Ctrl+K, Ctrl+O", "File"))
        add(Command("file.open_recent", "Open Recent\u2026", lambda: projects.show_recent(self), "Ctrl+R", "File"))
        add(Command("file.close_folder", "Close Folder", lambda: projects.close_folder(self), None, "File"))
        add(Command("file.new_window", "New Window", lambda: projects.new_window(self), "Ctrl+Shift+N", "File"))
        add(Command("file.save", "Save", self.save_formatted, "Ctrl+S", "File", has_editor))
        add(Command("file.save_as", "Save As\u2026", self.save_as, "Ctrl+Shift+S", "File", has_editor))
        add(Command("file.save_all", "Save All", self.save_all, "Ctrl+Alt+S", "File"))
        add(Command("file.close", "Close Tab", self.close_tab, "Ctrl+W", "File", has_editor))
        add(Command("file.close_all", "Close All Tabs", self.close_all, None, "File"))
        add(Command("file.reopen_closed", "Reopen Closed Tab", self.reopen_closed, "Ctrl+Shift+T", "File"))
        add(Command("file.reload", "Reload From Disk", lambda: self.current_editor() and self.disk_watcher.reload(self.current_editor()),
                    None, "File", has_editor))
        add(Command("settings.open", "Preferences: Open Settings (TOML)", lambda: self.settings_files.open_user(), "Ctrl+,", "File"))
        add(Command("settings.open_project", "Preferences: Open Project Settings (TOML)",
                    lambda: self.settings_files.open_project(), None, "File"))
        add(Command("settings.view", "Preferences: Settings", self.show_settings_view, None, "File"))
        add(Command("keybindings.view", "Preferences: Keyboard Shortcuts", self.show_keybindings_view, "Ctrl+K, Ctrl+S", "File"))
        add(Command("keybindings.open", "Preferences: Open Keyboard Shortcuts (TOML)",
                    lambda: self.settings_files.open_keybindings(), None, "File"))
        add(Command("app.quit", "Quit", self.close, "Ctrl+Q", "File"))
        # -- Edit
        add(Command("edit.undo", "Undo", self._with_editor("undo"), "Ctrl+Z", "Edit", has_editor))
        add(Command("edit.redo", "Redo", self._with_editor("redo"), "Ctrl+Y", "Edit", has_editor))
        add(Command("edit.find", "Find", self._with_editor("show_find"), "Ctrl+F", "Edit", has_editor))
        add(Command("edit.replace", "Replace", lambda: self.current_editor() and self.current_editor().show_find(True),
                    "Ctrl+H", "Edit", has_editor))
        add(Command("edit.toggle_comment", "Toggle Comment", self._with_editor("toggle_comment"), "Ctrl+/", "Edit",
                    has_editor))
        for cid, title, op, args, key in (
                ("edit.move_lines_up", "Move Line Up", "move_lines", (-1,), "Alt+Up"),
                ("edit.move_lines_down", "Move Line Down", "move_lines", (1,), "Alt+Down"),
                ("edit.copy_lines_up", "Copy Line Up", "copy_lines", (-1,), "Shift+Alt+Up"),
                ("edit.copy_lines_down", "Copy Line Down", "copy_lines", (1,), "Shift+Alt+Down"),
                ("edit.delete_lines", "Delete Line", "delete_lines", (), "Ctrl+Shift+K"),
                ("edit.join_lines", "Join Lines", "join_lines", (), None),
                ("edit.sort_lines", "Sort Lines Ascending", "sort_lines", (False,), None),
                ("edit.sort_lines_desc", "Sort Lines Descending", "sort_lines", (True,), None),
                ("edit.upper_case", "Transform to Uppercase", "transform_case", ("upper",), None),
                ("edit.lower_case", "Transform to Lowercase", "transform_case", ("lower",), None),
                ("edit.title_case", "Transform to Title Case", "transform_case", ("title",), None),
                ("edit.trim_whitespace", "Trim Trailing Whitespace", "trim_trailing_whitespace", (), "Ctrl+K, Ctrl+X")):
            add(Command(cid, title, self._line_op(op, *args), key, "Edit", has_editor))
        # -- Selection
        add(Command("edit.next_occurrence", "Add Next Occurrence", self._with_editor("add_next_occurrence"), "Ctrl+D",
                    "Selection", has_editor))
        add(Command("selection.expand", "Expand Selection", self._line_op("expand_selection"), "Shift+Alt+Right",
                    "Selection", has_editor))
        add(Command("selection.shrink", "Shrink Selection", self._line_op("shrink_selection"), "Shift+Alt+Left",
                    "Selection", has_editor))
        for cid, title, direction, key in (("selection.column_up", "Column Select Up", "up", "Ctrl+Shift+Alt+Up"),
                                           ("selection.column_down", "Column Select Down", "down", "Ctrl+Shift+Alt+Down"),
                                           ("selection.column_left", "Column Select Left", "left", "Ctrl+Shift+Alt+Left"),
                                           ("selection.column_right", "Column Select Right", "right", "Ctrl+Shift+Alt+Right")):
            add(Command(cid, title, self._line_op("column_select", direction), key, "Selection", has_editor))
        # -- View
        add(Command("view.zoom_in", "Zoom In", self._with_editor("zoom_in"), "Ctrl+=", "View", has_editor))
        add(Command("view.zoom_out", "Zoom Out", self._with_editor("zoom_out"), "Ctrl+-", "View", has_editor))
        add(Command("view.zoom_reset", "Reset Zoom", self._with_editor("zoom_reset"), "Ctrl+0", "View", has_editor))
        add(Command("view.word_wrap", "Toggle Word Wrap", self._line_op("toggle_word_wrap"), "Alt+Z", "View", has_editor))
        add(Command("view.render_whitespace", "Toggle Render Whitespace", self._line_op("toggle_whitespace"), None,
                    "View", has_editor))
        add(Command("view.split_right", "Split Editor Right", lambda: self.split_editor("right"), "Ctrl+\\", "View", has_editor))
        add(Command("view.split_down", "Split Editor Down", lambda: self.split_editor("down"), "Ctrl+K, Ctrl+\\", "View",
                    has_editor))
        add(Command("view.move_editor_next", "Move Editor into Next Group", lambda: self.move_editor(1),
                    "Ctrl+Alt+Right", "View", has_editor))
        add(Command("view.move_editor_previous", "Move Editor into Previous Group", lambda: self.move_editor(-1),
                    "Ctrl+Alt+Left", "View", has_editor))
        add(Command("palette.show", "Command Palette\u2026", self.show_palette, "Ctrl+Shift+P", "View"))
        add(Command("view.theme.light", "Light Theme", lambda: self.set_theme("light"), None, "View"))
        add(Command("view.theme.dark", "Dark Theme", lambda: self.set_theme("dark"), None, "View"))
        add(Command("view.theme.system", "Theme Follows System", lambda: self.set_theme("system"), None, "View"))
        # -- Go
        add(Command("go.back", "Go Back", self.go_back, "Alt+Left", "Go"))
        add(Command("go.forward", "Go Forward", self.go_forward, "Alt+Right", "Go"))
        add(Command("go.line", "Go to Line\u2026", self.goto_line_dialog, "Ctrl+G", "Go", has_editor))
        add(Command("go.next_tab", "Next Tab", lambda: self._cycle_tab(1), "Ctrl+Tab", "Go"))
        add(Command("go.previous_tab", "Previous Tab", lambda: self._cycle_tab(-1), "Ctrl+Shift+Tab", "Go"))
        # -- Help
        add(Command("help.features", "Editor Features", self._show_features, None, "Help"))
        add(Command("help.about", "About MarieIDE", self._about, None, "Help"))

    def _open_dialog(self) -> None:
        path = self._dialogs().ask_open_file(self, self.app.root)
        if path is not None:
            self.open_file(path)

    def goto_line_dialog(self) -> None:
        editor = self.current_editor()
        if editor is None:
            return
        line, _ = editor.cursor_position()
        answer = self._dialogs().ask_goto_line(self, line, max(1, editor.sci.lineCount()))
        if answer is not None:
            before = self.navigation_location()
            editor.goto(answer[0], answer[1] or 1)
            self.history.record(before, self.navigation_location())
            editor.setFocus()

    def _cycle_tab(self, step: int) -> None:
        tabs = self.tabs
        if tabs.count():
            tabs.setCurrentIndex((tabs.currentIndex() + step) % tabs.count())

    def _about(self) -> None:
        from marie import __version__

        self.show_message(f"MarieIDE {__version__} \u2014 {self.app.root}")

    def _show_features(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        self._features_box = QMessageBox(QMessageBox.Icon.Information, "Editor Features", self.features.describe(),
                                         QMessageBox.StandardButton.Ok, self)
        self._features_box.open()

    def show_palette(self) -> Any:
        from marie.ui.palette import CommandPalette

        if self._palette is None:
            self._palette = CommandPalette(self.commands, self)
        self._palette.popup()
        return self._palette
