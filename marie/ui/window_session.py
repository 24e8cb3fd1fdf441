"""The window's session: geometry, dock layout, open tabs and the split editor groups, saved a
second after a change and on close, restored on start (``marie.ui.session`` is the file format).
Mixed into ``MainWindow``. GUI thread only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray

from marie.ui import session
from marie.ui.editor_area import EditorGroup, EditorPage


class SessionMixin:
    """Session of ``MainWindow``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def _schedule_session_save(self) -> None:
        if not self._restoring and not self._closing:
            self._session_timer.start()

    def current_session(self) -> session.Session:
        tabs = []
        for editor in self.editors():
            if editor.path:
                try:
                    line, column = editor.cursor_position()
                except Exception:
                    line, column = 1, 1
                tabs.append(session.TabState(str(editor.path), line, column))
        current = self.current_editor()
        current = getattr(current, "primary", None) or current
        with_path = [e for e in self.editors() if e.path]
        hidden = [pid for pid, dock in self.docks.items() if dock.isHidden()]

        def key(page: EditorPage) -> Any:
            return str(page.editor.path) if page.editor.path else None

        layout = self.area.layout_state(key) if len(self.area.groups) > 1 else {}
        return session.Session(geometry=bytes(self.saveGeometry().data()), state=bytes(self.saveState().data()),
                               tabs=tabs, current=with_path.index(current) if current in with_path else -1,
                               hidden_panels=hidden, layout=layout)

    def save_session(self) -> None:
        try:
            session.save(self.app.data_dir, self.current_session())
        except OSError as exc:
            self.show_message(f"Could not save the window layout: {exc}", "warning")

    def open_session_current(self) -> Any | None:
        """Open only the last session's front tab (fast start: the rest open in finish_startup)."""
        saved = self._saved_session
        if saved is None or not (0 <= saved.current < len(saved.tabs)):
            return None
        tab = saved.tabs[saved.current]
        if not Path(tab.path).is_file():
            return None
        self._restoring = True
        try:
            return self.open_file(tab.path, tab.line, tab.column)
        finally:
            self._restoring = False

    def restore_session(self) -> None:
        """Reopen the last session's layout, tabs and split groups, then put back hot-exit backups."""
        self._restoring = True
        try:
            saved = session.load(self.app.data_dir) if self.app.settings.get("ui.restore_session", True) else None
            if saved is not None:
                if saved.geometry:
                    self.restoreGeometry(QByteArray(saved.geometry))
                if saved.state:
                    self.restoreState(QByteArray(saved.state))
                opened = []
                for tab in saved.tabs:
                    if Path(tab.path).is_file():
                        editor = self.open_file(tab.path, tab.line, tab.column)
                        if editor is not None:
                            opened.append(editor)
                for index, editor in enumerate(opened):   # a tab opened early (fast start) goes back in place
                    at = self.tabs.indexOf(self._page(editor))
                    if at != index and at >= 0:
                        self.tabs.tabBar().moveTab(at, index)
                if 0 <= saved.current < len(saved.tabs):
                    target = self._find(Path(saved.tabs[saved.current].path).resolve())
                    if target is not None:
                        self.area.set_current(self._page(target))
                if saved.layout:
                    self._restore_groups(saved.layout)
            if self.app.settings.get("editor.hot_exit", True) and self.hot_exit is not None:
                self.hot_exit.restore()
        finally:
            self._restoring = False

    def _restore_groups(self, layout: dict) -> None:
        """Put the opened tabs back into their split groups: the first group keeps the primaries,
        a file shown in a later group too gets a clone there (a file only in a later group moves)."""
        seen: set[str] = set()
        first = self.area.active

        def place(path: Any, group: EditorGroup) -> None:
            editor = self._find(Path(str(path)).resolve()) if path else None
            if editor is None:
                return
            if group is first:
                seen.add(str(path))
                return
            if str(path) in seen:
                self.open_clone(editor, group)
            else:
                seen.add(str(path))
                page = self._page(editor)
                self.area.move_page(page, group, self.tab_title(editor), self._tab_tip(editor))

        self.area.build_layout(layout, place)
