"""The window's tabs: opening files into the editor area, untitled buffers, tab titles, closing
and reopening, saving, and the bars above a tab (a hot-exit backup offer). Mixed into
``MainWindow`` (these methods are the window's contract: ``open_file``, ``current_editor``,
``editors``, ``save`` ...). GUI thread only.

A second view of a file (split editors) is a *clone*: an EditorView sharing the first view's
Scintilla document (one text, one undo stack, one set of markers). ``editors()`` lists the primary
views only (one per file), so hot exit, saving and the editor features see each file once; a clone
is closed with its primary.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marie.core.event_types import FileSaved
from marie.ui.editor_area import EditorGroup, EditorPage

if TYPE_CHECKING:
    from marie.text.backups import Backup
    from marie.ui.editor.info_bar import InfoBar

log = logging.getLogger(__name__)

DIRTY = "\u25cf"          # ● after the name of a tab with unsaved changes
_untitled_numbers = itertools.count(1)


def editor_class():
    """The EditorView class (imported late: the editor package is large)."""
    from marie.ui.editor.view import EditorView

    return EditorView


class TabsMixin:
    """Tabs and files of ``MainWindow`` (see the module docstring)."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    app: Any   # (set by MainWindow.__init__)

    # ================================================================ contract API
    def open_file(self, path: Path | str, line: int | None = None, column: int | None = None) -> Any | None:
        """Open ``path`` in a tab (or focus its tab); optionally move to ``line``/``column`` (1-based).
        A jump to a line is recorded in the navigation history (Go Back / Go Forward).

        Returns the EditorView, or None when the file cannot be opened (binary, too large, unreadable:
        the reason is shown in the status bar)."""
        path = Path(path)
        if not path.is_absolute():
            path = self.app.root / path
        path = path.resolve()
        before = self.navigation_location()
        editor = self._find_view(path)
        if editor is None:
            if path.is_dir():
                self.show_message(f"{path} is a folder", "warning")
                return None
            try:
                editor = editor_class().open(path, self.app.settings)
            except Exception as exc:   # BinaryFileError, FileTooLargeError, OSError, UnicodeError ...
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                self.show_message(f"Cannot open {path.name}: {reason}", "error")
                return None
            self._add_editor(editor)
        self.area.set_current(self._page(editor))
        if line is not None:
            editor.goto(line, column or 1)
            if not self._restoring:
                self.history.record(before, self.navigation_location())
        editor.setFocus()
        return editor

    def current_editor(self) -> Any | None:
        """The editor view of the active group's current tab (a clone in a split, too)."""
        page = self.area.current_page()
        return page.editor if page is not None else None

    def editors(self) -> list[Any]:
        """Open editors (primary views: one per file or buffer), group by group in tab order."""
        return [p.editor for p in self.area.pages() if getattr(p.editor, "primary", None) is None]

    @property
    def tabs(self) -> EditorGroup:
        """The active group's tab widget."""
        return self.area.active

    # ================================================================ tabs
    def new_file(self, text: str = "", title: str = "") -> Any | None:
        """A new untitled buffer (Save asks for a name)."""
        cls = editor_class()
        try:
            editor = cls.new(self.app.settings)
        except Exception as exc:
            self.show_message(f"Cannot create a new file: {exc}", "error")
            return None
        editor.title = title or f"Untitled-{next(_untitled_numbers)}"
        self._add_editor(editor)
        if text:
            editor.set_text(text)
        self.area.set_current(self._page(editor))
        editor.setFocus()
        return editor

    def _add_editor(self, editor: Any, group: EditorGroup | None = None) -> EditorPage:
        page = EditorPage(editor)
        self.area.add_page(page, self.tab_title(editor), self._tab_tip(editor), group)
        self.watch_mouse_buttons(editor)
        editor.dirtyChanged.connect(lambda _d, e=editor: self.refresh_editor_title(e))
        editor.cursorMoved.connect(lambda e=editor: self._cursor_moved(e))
        if hasattr(editor, "indentationChanged"):
            # Detection for files over 1 MiB finishes on the load thread, after the tab is shown.
            editor.indentationChanged.connect(lambda _label, e=editor: self._indentation_changed(e))
        if hasattr(editor, "compareRequested"):   # the editor's own conflict bar asks us for a diff
            editor.compareRequested.connect(lambda disk, e=editor: self.compare_with_disk(e, disk))
        if getattr(editor, "primary", None) is None:
            if self.hot_exit is not None:
                self.hot_exit.watch(editor)
            self.editorOpened.emit(editor)
        self._schedule_session_save()
        return page

    def open_clone(self, editor: Any, group: EditorGroup) -> Any | None:
        """A second view of ``editor``'s document in ``group`` (split editors)."""
        primary = getattr(editor, "primary", None) or editor
        for page in group.pages():
            if page.editor is primary or getattr(page.editor, "primary", None) is primary:
                self.area.set_current(page)
                return page.editor
        try:
            clone = primary.clone_view()
        except Exception as exc:
            self.show_message(f"Cannot split {self.tab_title(primary, plain=True)}: {exc}", "error")
            return None
        self._add_editor(clone, group)
        line, column = editor.cursor_position()
        clone.goto(line, column)
        self.area.set_current(self._page(clone))
        clone.setFocus()
        return clone

    def clones_of(self, editor: Any) -> list[Any]:
        return [p.editor for p in self.area.pages() if getattr(p.editor, "primary", None) is editor]

    def _find_view(self, path: Path) -> Any | None:
        """A view of ``path``: in the active group if it has one, else the primary anywhere."""
        for page in self.area.active.pages():
            if page.editor.path and Path(page.editor.path).resolve() == path:
                return page.editor
        return self._find(path)

    def _find(self, path: Path) -> Any | None:
        for editor in self.editors():
            if editor.path and Path(editor.path).resolve() == path:
                return editor
        return None

    def _page(self, editor: Any) -> EditorPage | None:
        for page in self.area.pages():
            if page.editor is editor:
                return page
        return None

    def tab_title(self, editor: Any, plain: bool = False) -> str:
        primary = getattr(editor, "primary", None) or editor
        name = Path(primary.path).name if primary.path else (getattr(primary, "title", "") or "Untitled")
        if plain:
            return name
        if getattr(primary, "deleted_on_disk", False):
            name += " (deleted)"
        return f"{name} {DIRTY}" if primary.is_dirty() else name

    @staticmethod
    def _tab_tip(editor: Any) -> str:
        return str(editor.path) if editor.path else "Not saved yet"

    def refresh_editor_title(self, editor: Any) -> None:
        """Redraw the tab title (dirty mark, deleted) of ``editor`` and its clones."""
        primary = getattr(editor, "primary", None) or editor
        for view in [primary, *self.clones_of(primary)]:
            page = self._page(view)
            if page is not None:
                self.area.set_title(page, self.tab_title(view), self._tab_tip(view))
        self._update_title()

    def _update_title(self) -> None:
        editor = self.current_editor()
        name = f"{self.tab_title(editor)} \u2014 " if editor is not None else ""
        self.setWindowTitle(f"{name}{self.app.root.name} \u2014 MarieIDE")

    def _current_changed(self) -> None:
        editor = self.current_editor()
        self.status_bar.show_editor(editor)
        self._update_title()
        self.currentEditorChanged.emit(editor)
        self._schedule_session_save()

    def _indentation_changed(self, editor: Any) -> None:
        if editor is self.current_editor():
            self.status_bar.show_editor(editor)

    def _cursor_moved(self, editor: Any) -> None:
        # Coalesced: a keystroke moves the caret several times (and a multi-caret edit once per
        # caret); the status bar is refreshed once, after Qt has repainted the editor.
        self._status_editor = editor
        if not self._status_timer.isActive():
            self._status_timer.start()

    def _refresh_cursor_status(self) -> None:
        editor, self._status_editor = self._status_editor, None
        if editor is not None and editor is self.current_editor():
            try:
                self.status_bar.update_cursor(editor)
                self.caretMoved.emit(editor)
            except RuntimeError:   # the editor was closed meanwhile
                pass

    def close_tab(self, index: int | None = None) -> bool:
        """Close the tab at ``index`` of the active group (default: its current tab), asking about
        unsaved work. False if cancelled."""
        group = self.area.active
        page = group.widget(group.currentIndex() if index is None else index)
        return self.close_page(page) if isinstance(page, EditorPage) else True

    def close_page(self, page: EditorPage) -> bool:
        """Close one tab. A clone just goes; a primary asks about unsaved work and takes its clones."""
        editor = page.editor
        if getattr(editor, "primary", None) is not None:
            self._drop_page(page)
            return True
        if editor.is_dirty():
            answer = self._dialogs().ask_save_changes(self, self.tab_title(editor, plain=True))
            if answer == self._dialogs().CANCEL:
                return False
            if answer == self._dialogs().SAVE and not self.save(editor):
                return False
        if editor.path:
            try:
                line, column = editor.cursor_position()
            except Exception:
                line, column = 1, 1
            self._closed.append((str(editor.path), line, column))
        for clone in self.clones_of(editor):
            self._drop_page(self._page(clone))
        if self.hot_exit is not None:
            self.hot_exit.unwatch(editor)
            self.hot_exit.forget(editor)      # saved or discarded on purpose: the backup must not come back
        if self.disk_watcher is not None:
            self.disk_watcher.forget(editor)
        self.area.remove_page(page)
        self.editorClosed.emit(editor)
        dispose = getattr(editor, "dispose", None)
        if dispose is not None:
            dispose()
        page.deleteLater()
        self._schedule_session_save()
        return True

    def _drop_page(self, page: EditorPage | None) -> None:
        if page is None:
            return
        self.area.remove_page(page)
        page.editor.dispose()
        page.deleteLater()
        self._schedule_session_save()

    def close_all(self) -> bool:
        for page in reversed(self.area.pages()):
            if self._page(page.editor) is page and not self.close_page(page):
                return False
        return True

    def reopen_closed(self) -> Any | None:
        """Reopen the most recently closed tab (Ctrl+Shift+T)."""
        while self._closed:
            path, line, column = self._closed.pop()
            if Path(path).exists():
                return self.open_file(path, line, column)
        self.show_message("No closed tab to reopen")
        return None

    # ================================================================ saving
    def save(self, editor: Any | None = None) -> bool:
        """Save ``editor`` (default: current); asks for a name when it has none. False on failure."""
        editor = editor or self.current_editor()
        if editor is None:
            return False
        editor = getattr(editor, "primary", None) or editor
        if not editor.path:
            return self.save_as(editor)
        try:
            editor.save()
        except Exception as exc:
            self.show_message(f"Could not save {Path(editor.path).name}: {exc}", "error")
            return False
        self._after_save(editor)
        return True

    def save_formatted(self, editor: Any | None = None) -> bool:
        """Save (Ctrl+S): with ``editor.format_on_save`` and a plugin formatter for the language, the
        text is formatted on a worker first, then saved; otherwise a plain ``save``. Only this
        command formats: saves that must finish before something else happens (closing a tab,
        quitting) call ``save`` itself. GUI thread."""
        editor = editor or self.current_editor()
        if editor is None:
            return False
        editor = getattr(editor, "primary", None) or editor
        formatters = []
        if editor.path and self.app.settings.get("editor.format_on_save"):
            formatters = self.app.plugins.available("formatters")
            formatters = [f for f in formatters if editor.language in f.languages]
        if not formatters:
            return self.save(editor)
        text, path, formatter = editor.text(), str(editor.path), formatters[0]

        def formatted(result: str) -> None:
            # Typing during the run wins: the formatted text is used only if nothing changed since.
            if result != text and editor.text() == text:
                editor._replace_keeping_caret(result)
            self.save(editor)

        def failed(exc: BaseException) -> None:
            self.show_message(f"Not formatted ({formatter.name}): {exc}; saved as it was", "warning")
            self.save(editor)

        self.app.tasks.submit(lambda ctx: formatter.format(path, text), name="format on save",
                              on_done=formatted, on_error=failed)
        return True

    def save_as(self, editor: Any | None = None, path: Path | None = None) -> bool:
        editor = editor or self.current_editor()
        if editor is None:
            return False
        editor = getattr(editor, "primary", None) or editor
        if path is None:
            suggestion = Path(editor.path) if editor.path else self.app.root / (getattr(editor, "title", "") or "untitled.txt")
            path = self._dialogs().ask_save_path(self, suggestion)
            if path is None:
                return False
        old_key_editor = editor.path
        try:
            editor.save(Path(path))
        except Exception as exc:
            self.show_message(f"Could not save {Path(path).name}: {exc}", "error")
            return False
        if old_key_editor != editor.path and self.hot_exit is not None:
            self.hot_exit.forget(editor)
        self._after_save(editor)
        return True

    def save_all(self) -> bool:
        ok = True
        for editor in self.editors():
            if editor.is_dirty():
                ok = self.save(editor) and ok
        return ok

    def _after_save(self, editor: Any) -> None:
        if self.disk_watcher is not None:
            self.disk_watcher.forget(editor)
        if self.hot_exit is not None:
            self.hot_exit.forget(editor)
        # the editor wrote the file itself (not through the write path): git status and the disk
        # watcher hear of it now rather than from the file watcher later
        self.app.events.publish(FileSaved(Path(editor.path)))
        self.refresh_editor_title(editor)
        self.status_bar.show_editor(self.current_editor())
        self.show_message(f"Saved {Path(editor.path).name}")
        self.editorSaved.emit(editor)
        self._schedule_session_save()

    # ================================================================ disk changes and backups
    def mark_deleted(self, editor: Any) -> None:
        """The editor says its file is gone from disk: mark the tab (the buffer is kept)."""
        self.refresh_editor_title(editor)
        self.show_message(f"{Path(editor.path).name} was deleted on disk; saving will recreate it", "warning")

    def compare_with_disk(self, editor: Any, disk_text: str | None = None) -> Any:
        """Show the file on disk against the unsaved buffer (the conflict bar's Compare)."""
        if disk_text is None:
            disk_text = editor.disk_text() or ""
        self._last_diff = self._dialogs().show_diff(self, f"{Path(editor.path).name}: disk \u2194 unsaved",
                                                    disk_text, editor.text())
        return self._last_diff

    def offer_backup(self, editor: Any, backup: Backup) -> InfoBar | None:
        """A hot-exit backup exists but the file changed on disk since: offer it, never apply it."""
        page = self._page(editor)
        if page is None:
            return None

        def compare() -> None:
            self._last_diff = self._dialogs().show_diff(self, f"{Path(editor.path).name}: disk \u2194 backup",
                                                        editor.text(), backup.text, "on disk", "unsaved backup")

        def restore() -> None:
            page.clear_bar("backup")
            editor.set_text(backup.text)

        def discard() -> None:
            page.clear_bar("backup")
            self.hot_exit.store.remove(backup.key)

        return page.show_bar("backup", f"Unsaved changes to {Path(editor.path).name} from the last session were "
                             "kept, but the file changed on disk since.",
                             [("Compare", compare), ("Restore backup", restore), ("Discard backup", discard)])

    def info_bar(self, editor: Any) -> Any | None:
        """The bar shown above ``editor``: the window's (backup offers) or the editor's own
        (changed/deleted on disk); None when neither is showing."""
        page = self._page(editor)
        if page is not None and page.showing_bar() is not None:
            return page.bar
        bar = getattr(editor, "info_bar", None)
        if bar is not None and not bar.isHidden() and getattr(bar, "kind", ""):
            return bar
        return None
