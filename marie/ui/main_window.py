"""The main window: editor tabs in the centre, discovered panels in dock areas, the status bar.

``MainWindow(app)`` is the one object other views talk to (see the contract in the brief):
``open_file``, ``current_editor``, ``editors``, ``show_panel``, ``show_message``, ``commands`` and the
signals ``editorOpened``/``editorClosed``. Every user action is a command in ``self.commands``; the
menus and shortcuts are made from it. Helpers own the side concerns: ``HotExit`` (backups),
``DiskWatcher`` (files changed on disk), ``session`` (layout and tabs), ``themes``.
Everything here runs on the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (QDockWidget, QHBoxLayout, QLabel, QMainWindow, QMenu, QPushButton,
                               QTabWidget, QVBoxLayout, QWidget)

from marie.core.events import NOTICE, SETTINGS_CHANGED
from marie.ui import session, themes
from marie.ui.qt_names import Qt
from marie.ui.commands import Command, CommandRegistry
from marie.ui.statusbar import StatusBar

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent   # (its type set-up costs ~2 ms at start-up)

    from marie.text.backups import Backup


class _LazyModule:
    """A module imported on first attribute use (dialogs pull in QMessageBox, difflib ...: not needed
    before the first paint). Attributes are looked up on the real module every time, so tests that
    monkeypatch ``marie.ui.dialogs`` still reach us."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


dialogs = _LazyModule("marie.ui.dialogs")

log = logging.getLogger(__name__)

DIRTY = "\u25cf"          # ● after the name of a tab with unsaved changes
MENUS = ("File", "Edit", "View", "Go", "Help")


def dock_area(name: str) -> Qt.DockWidgetArea:
    """The Qt dock area for a PanelSpec area (made on use: the Qt namespace is slow to build first)."""
    areas = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
             "bottom": Qt.DockWidgetArea.BottomDockWidgetArea, "top": Qt.DockWidgetArea.TopDockWidgetArea}
    return areas.get(name, Qt.DockWidgetArea.LeftDockWidgetArea)
_untitled_numbers = itertools.count(1)
# Where the window puts a panel when that differs from its PanelSpec: the left area holds the
# navigation panels (Files, Search, Git, Checkpoints) as tabs, Composer and helpers go right.
PANEL_AREAS = {"checkpoints": "left"}
# Explicit minimum sizes for panel contents (px): a panel's own size hint (a row of buttons, a wide
# table) must not squeeze the editor; the user can still drag a dock wider.
SIDE_MIN_WIDTH, SIDE_MIN_HEIGHT, BOTTOM_MIN_HEIGHT = 160, 120, 60


def editor_class():
    """The EditorView class (imported late: the editor package is large and owned elsewhere)."""
    from marie.ui.editor.view import EditorView

    return EditorView


class InfoBar(QWidget):
    """A bar above an editor: a message and a few buttons (file changed on disk, backup found ...)."""

    def __init__(self, kind: str, message: str, buttons: list[tuple[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName("InfoBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel(message, self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.buttons: dict[str, QPushButton] = {}
        for text, callback in buttons:
            button = QPushButton(text, self)
            button.clicked.connect(callback)
            layout.addWidget(button)
            self.buttons[text] = button


class EditorPage(QWidget):
    """One tab: an optional InfoBar above the EditorView."""

    def __init__(self, editor: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.bar: InfoBar | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(0)
        self.layout_.addWidget(editor, 1)

    def show_bar(self, bar: InfoBar) -> InfoBar:
        self.clear_bar()
        self.bar = bar
        self.layout_.insertWidget(0, bar)
        return bar

    def clear_bar(self, kind: str | None = None) -> None:
        if self.bar is not None and (kind is None or self.bar.kind == kind):
            self.bar.hide()
            self.bar.deleteLater()
            self.bar = None


class MainWindow(QMainWindow):
    editorOpened = Signal(object)
    editorClosed = Signal(object)
    # Emitted once while the window closes: after editorClosed for every editor, before the window's
    # timers stop and before launch() calls app.close(). Panels stop their timers/workers here.
    closing = Signal()

    def __init__(self, app: Any, restore: bool = True, defer_panels: bool = False, fast_start: bool = False) -> None:
        """``fast_start`` (launch): build only what the first editable paint needs (tabs, status bar,
        theme); menus, commands, hot exit, disk watching, background session tabs and panels come in
        ``finish_startup()``, which the caller runs once the window is on screen. Without it
        (tests, screenshots) everything is built here, as before."""
        super().__init__()
        self.app = app
        self.setObjectName("MarieMainWindow")
        self.setWindowTitle(f"{app.root.name} \u2014 MarieIDE")
        self.resize(1280, 800)
        self.setDockNestingEnabled(True)
        self.commands = CommandRegistry()
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}
        self._menus: dict[str, QMenu] = {}
        self._actions: dict[str, QAction] = {}
        self._closed: list[tuple[str, int, int]] = []   # reopen-closed-tab stack: (path, line, column)
        self._restoring = False
        self._closing = False
        self._started = False
        self._restore = restore
        self._defer_panels = defer_panels
        self._saved_state = b""        # dock layout from the session, re-applied once panels exist
        self._saved_session: Any = None
        self._first_in_area: dict[str, QDockWidget] = {}
        self._unsubscribe: list[Any] = []

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("EditorTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._current_changed)
        self.tabs.tabBar().tabMoved.connect(lambda *_: self._schedule_session_save())
        self.setCentralWidget(self.tabs)

        self.status_bar = StatusBar(self)
        self.setStatusBar(self.status_bar)

        self._session_timer = QTimer(self)
        self._session_timer.setSingleShot(True)
        self._session_timer.setInterval(1000)
        self._session_timer.timeout.connect(self.save_session)
        self._status_editor: Any = None
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(0)
        self._status_timer.timeout.connect(self._refresh_cursor_status)
        # Editors opened before finish_startup() are watched (hot exit, disk) once it runs.
        self.hot_exit: Any = None
        self.disk_watcher: Any = None

        themes.apply_theme(app.settings.get("ui.theme", "system"), quick=fast_start)
        if restore and app.settings.get("ui.restore_session", True):
            self._saved_session = session.load(app.data_dir)
            self._saved_state = self._saved_session.state if self._saved_session is not None else b""
        if fast_start:
            if self._saved_session is not None and self._saved_session.geometry:
                self.restoreGeometry(QByteArray(self._saved_session.geometry))
            return
        self.finish_startup(panels_now=not defer_panels)

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

    def finish_startup(self, panels_now: bool = False) -> None:
        """Everything the first paint does not need. GUI thread; runs once (later calls do nothing).
        ``panels_now`` builds the panels here; otherwise ``load_panels_later()`` does, one per turn."""
        if self._started:
            return
        self._started = True
        from marie.ui.disk_changes import DiskWatcher
        from marie.ui.hot_exit import HotExit

        app = self.app
        for name in MENUS:
            self._menus[name] = self.menuBar().addMenu(f"&{name}")
        self.commands.on_register(self._install_action)
        self._register_commands()

        self.hot_exit = HotExit(self)
        self.disk_watcher = DiskWatcher(self)
        for editor in self.editors():            # opened before this ran (the file given on the command line)
            self.hot_exit.watch(editor)
        self._unsubscribe = [app.events.subscribe(NOTICE, self._notice),
                             app.events.subscribe(SETTINGS_CHANGED, self._settings_changed)]
        themes.recheck_system()
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._system_scheme_changed)
        if panels_now:
            self._add_panels()
        for error in getattr(app.settings, "errors", []):
            self.show_message(f"Settings: {error}", "warning")
        if self._restore:
            keep = self.current_editor()
            self.restore_session()
            if keep is not None and self._page(keep) is not None:   # the file asked for stays in front
                self.tabs.setCurrentWidget(self._page(keep))

    # ================================================================ contract API
    def open_file(self, path: Path | str, line: int | None = None, column: int | None = None) -> Any | None:
        """Open ``path`` in a tab (or focus its tab); optionally move to ``line``/``column`` (1-based).

        Returns the EditorView, or None when the file cannot be opened (binary, too large, unreadable:
        the reason is shown in the status bar)."""
        path = Path(path)
        if not path.is_absolute():
            path = self.app.root / path
        path = path.resolve()
        editor = self._find(path)
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
        self.tabs.setCurrentWidget(self._page(editor))
        if line is not None:
            editor.goto(line, column or 1)
        editor.setFocus()
        return editor

    def current_editor(self) -> Any | None:
        page = self.tabs.currentWidget()
        return page.editor if isinstance(page, EditorPage) else None

    def editors(self) -> list[Any]:
        """Open editors in tab order."""
        pages = (self.tabs.widget(i) for i in range(self.tabs.count()))
        return [p.editor for p in pages if isinstance(p, EditorPage)]

    def show_panel(self, panel_id: str) -> QWidget | None:
        """Show, raise and focus a panel's dock; returns the panel widget (None if unknown)."""
        dock = self.docks.get(panel_id)
        if dock is None:
            self.show_message(f"No panel named {panel_id!r}", "warning")
            return None
        dock.show()
        dock.raise_()
        widget = dock.widget()
        if widget is not None:
            widget.setFocus()
        return widget

    def show_message(self, text: str, level: str = "info") -> None:
        """Tell the user something in the status bar (errors stay longer)."""
        timeout = {"error": 15000, "warning": 10000}.get(level, 5000)
        prefix = {"error": "Error: ", "warning": "Warning: "}.get(level, "")
        self.status_bar.showMessage(prefix + text, timeout)
        (log.warning if level in ("error", "warning") else log.info)("%s", text)

    # ================================================================ tabs
    def new_file(self, text: str = "", title: str = "") -> Any | None:
        """A new untitled buffer (Save asks for a name)."""
        cls = editor_class()
        try:
            editor = cls.new(self.app.settings)
        except Exception as exc:
            self.show_message(f"Cannot create a new file: {exc}", "error")
            return None
        editor._marie_title = title or f"Untitled-{next(_untitled_numbers)}"
        self._add_editor(editor)
        if text:
            editor.set_text(text)
        self.tabs.setCurrentWidget(self._page(editor))
        editor.setFocus()
        return editor

    def _add_editor(self, editor: Any) -> None:
        page = EditorPage(editor, self.tabs)
        index = self.tabs.addTab(page, self.tab_title(editor))
        self.tabs.setTabToolTip(index, str(editor.path) if editor.path else "Not saved yet")
        editor.dirtyChanged.connect(lambda _d, e=editor: self._refresh_title(e))
        editor.cursorMoved.connect(lambda e=editor: self._cursor_moved(e))
        if hasattr(editor, "indentationChanged"):
            # Detection for files over 1 MiB finishes on the load thread, after the tab is shown.
            editor.indentationChanged.connect(lambda _label, e=editor: self._indentation_changed(e))
        if hasattr(editor, "compareRequested"):   # the editor's own conflict bar asks us for a diff
            editor.compareRequested.connect(lambda disk, e=editor: self.compare_with_disk(e, disk))
        if self.hot_exit is not None:
            self.hot_exit.watch(editor)
        self.editorOpened.emit(editor)
        self._schedule_session_save()

    def _find(self, path: Path) -> Any | None:
        for editor in self.editors():
            if editor.path and Path(editor.path).resolve() == path:
                return editor
        return None

    def _page(self, editor: Any) -> EditorPage | None:
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            if isinstance(page, EditorPage) and page.editor is editor:
                return page
        return None

    def tab_title(self, editor: Any, plain: bool = False) -> str:
        name = Path(editor.path).name if editor.path else getattr(editor, "_marie_title", "Untitled")
        if plain:
            return name
        if getattr(editor, "deleted_on_disk", False):
            name += " (deleted)"
        return f"{name} {DIRTY}" if editor.is_dirty() else name

    def _refresh_title(self, editor: Any) -> None:
        page = self._page(editor)
        if page is not None:
            index = self.tabs.indexOf(page)
            self.tabs.setTabText(index, self.tab_title(editor))
            self.tabs.setTabToolTip(index, str(editor.path) if editor.path else "Not saved yet")
        if editor is self.current_editor():
            self._update_title()

    def _update_title(self) -> None:
        editor = self.current_editor()
        name = f"{self.tab_title(editor)} \u2014 " if editor is not None else ""
        self.setWindowTitle(f"{name}{self.app.root.name} \u2014 MarieIDE")

    def _current_changed(self, _index: int) -> None:
        editor = self.current_editor()
        self.status_bar.show_editor(editor)
        self._update_title()
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
            except RuntimeError:   # the editor was closed meanwhile
                pass

    def close_tab(self, index: int | None = None) -> bool:
        """Close the tab at ``index`` (default: current), asking about unsaved work. False if cancelled."""
        if index is None:
            index = self.tabs.currentIndex()
        page = self.tabs.widget(index)
        if not isinstance(page, EditorPage):
            return True
        editor = page.editor
        if editor.is_dirty():
            answer = dialogs.ask_save_changes(self, self.tab_title(editor, plain=True))
            if answer == dialogs.CANCEL:
                return False
            if answer == dialogs.SAVE and not self.save(editor):
                return False
        if editor.path:
            try:
                line, column = editor.cursor_position()
            except Exception:
                line, column = 1, 1
            self._closed.append((str(editor.path), line, column))
        if self.hot_exit is not None:
            self.hot_exit.unwatch(editor)
            self.hot_exit.forget(editor)      # saved or discarded on purpose: the backup must not come back
        if self.disk_watcher is not None:
            self.disk_watcher.forget(editor)
        self.tabs.removeTab(self.tabs.indexOf(page))
        self.editorClosed.emit(editor)
        dispose = getattr(editor, "dispose", None)
        if dispose is not None:
            dispose()
        page.deleteLater()
        self._schedule_session_save()
        return True

    def close_all(self) -> bool:
        while self.tabs.count():
            if not self.close_tab(self.tabs.count() - 1):
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
        if not editor.path:
            return self.save_as(editor)
        try:
            editor.save()
        except Exception as exc:
            self.show_message(f"Could not save {Path(editor.path).name}: {exc}", "error")
            return False
        self._after_save(editor)
        return True

    def save_as(self, editor: Any | None = None, path: Path | None = None) -> bool:
        editor = editor or self.current_editor()
        if editor is None:
            return False
        if path is None:
            suggestion = Path(editor.path) if editor.path else self.app.root / getattr(editor, "_marie_title", "untitled.txt")
            path = dialogs.ask_save_path(self, suggestion)
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
        self._refresh_title(editor)
        self.status_bar.show_editor(self.current_editor())
        self.show_message(f"Saved {Path(editor.path).name}")
        self._schedule_session_save()

    # ================================================================ disk changes and backups
    def mark_deleted(self, editor: Any) -> None:
        """The editor says its file is gone from disk: mark the tab (the buffer is kept)."""
        self._refresh_title(editor)
        self.show_message(f"{Path(editor.path).name} was deleted on disk; saving will recreate it", "warning")

    def compare_with_disk(self, editor: Any, disk_text: str | None = None) -> Any:
        """Show the file on disk against the unsaved buffer (the conflict bar's Compare)."""
        if disk_text is None:
            disk_text = editor.disk_text() or ""
        self._last_diff = dialogs.show_diff(self, f"{Path(editor.path).name}: disk \u2194 unsaved",
                                            disk_text, editor.text())
        return self._last_diff

    def offer_backup(self, editor: Any, backup: Backup) -> InfoBar | None:
        """A hot-exit backup exists but the file changed on disk since: offer it, never apply it."""
        page = self._page(editor)
        if page is None:
            return None

        def compare() -> None:
            self._last_diff = dialogs.show_diff(self, f"{Path(editor.path).name}: disk \u2194 backup",
                                                editor.text(), backup.text, "on disk", "unsaved backup")

        def restore() -> None:
            page.clear_bar("backup")
            editor.set_text(backup.text)

        def discard() -> None:
            page.clear_bar("backup")
            self.hot_exit.store.remove(backup.key)

        bar = InfoBar("backup", f"Unsaved changes to {Path(editor.path).name} from the last session were kept, "
                      "but the file changed on disk since.",
                      [("Compare", compare), ("Restore backup", restore), ("Discard backup", discard)], page)
        return page.show_bar(bar)

    def info_bar(self, editor: Any) -> Any | None:
        """The bar shown above ``editor``: the window's (backup offers) or the editor's own
        (changed/deleted on disk); None when neither is showing."""
        page = self._page(editor)
        if page is not None and page.bar is not None:
            return page.bar
        bar = getattr(editor, "info_bar", None)
        if bar is not None and not bar.isHidden() and getattr(bar, "kind", ""):
            return bar
        return None

    # ================================================================ panels
    def _add_panels(self) -> None:
        """Create every discovered panel now (tests, screenshots)."""
        from marie.ui.panels import discover

        self._first_in_area: dict[str, QDockWidget] = {}
        for spec in discover():
            self._add_panel(spec)
        self._panels_done()

    def load_panels_later(self) -> None:
        """Create the panels after the window is already on screen and editable, one per event-loop
        turn, so start-up is not held back by panels (git, models ...). Docks placed later get their
        saved position back through ``restoreDockWidget``."""
        from marie.ui.panels import discover

        self._first_in_area = {}
        pending = list(discover())

        def step() -> None:
            if self._closing:
                return
            if not pending:
                self._panels_done()
                return
            spec = pending.pop(0)
            dock = self._add_panel(spec)
            self.restoreDockWidget(dock)
            QTimer.singleShot(0, step)

        QTimer.singleShot(0, step)

    def _add_panel(self, spec: Any) -> QDockWidget:
        try:
            widget = spec.factory(self)
        except Exception as exc:   # one broken panel must not keep the window from opening
            log.exception("panel %s failed to start", spec.id)
            widget = QLabel(f"The {spec.title} panel failed to start:\n{exc}")
            widget.setWordWrap(True)
        dock = QDockWidget(spec.title, self)
        dock.setObjectName(f"dock.{spec.id}")
        area_name = PANEL_AREAS.get(spec.id, spec.area)
        if area_name == "bottom":
            widget.setMinimumHeight(BOTTOM_MIN_HEIGHT)
        else:
            widget.setMinimumSize(SIDE_MIN_WIDTH, SIDE_MIN_HEIGHT)
        dock.setWidget(widget)
        self.addDockWidget(dock_area(area_name), dock)
        first = self._first_in_area
        if area_name in first:
            self.tabifyDockWidget(first[area_name], dock)
        else:
            first[area_name] = dock
        self.docks[spec.id] = dock
        self.panels[spec.id] = widget
        self.commands.register(Command(f"view.panel.{spec.id}", f"Toggle {spec.title}",
                                       lambda pid=spec.id: self.toggle_panel(pid), spec.shortcut, "View"))
        return dock

    def _panels_done(self) -> None:
        if self._saved_state:
            self.restoreState(QByteArray(self._saved_state))
            return
        for dock in self._first_in_area.values():
            dock.raise_()
        # Give the editor most of the room until the user (or a restored session) says otherwise:
        # now, and again after the next layout pass, when the window has its real size.
        self._size_docks()
        QTimer.singleShot(0, self._size_docks)

    def _size_docks(self) -> None:
        if self._closing:
            return
        width, height = self.width(), self.height()
        sizes = {"left": max(SIDE_MIN_WIDTH, min(int(width * 0.22), 320)),
                 "right": max(SIDE_MIN_WIDTH, min(int(width * 0.26), 420)),
                 "bottom": max(BOTTOM_MIN_HEIGHT, min(int(height * 0.18), 240))}
        for area, dock in self._first_in_area.items():
            if area in sizes:
                horizontal = area in ("left", "right")
                self.resizeDocks([dock], [sizes[area]], Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical)

    def toggle_panel(self, panel_id: str) -> None:
        dock = self.docks.get(panel_id)
        if dock is None:
            return
        if dock.isVisible() and dock.widget() is not None and dock.widget().isAncestorOf(self.focusWidget() or self):
            dock.hide()
            editor = self.current_editor()
            if editor is not None:
                editor.setFocus()
        else:
            self.show_panel(panel_id)

    # ================================================================ commands
    def _install_action(self, command: Command) -> None:
        """Turn a registered command into a QAction in its menu, with its shortcut."""
        old = self._actions.pop(command.id, None)
        if old is not None:
            self.removeAction(old)
            old.deleteLater()
        action = QAction(command.title, self)
        action.setObjectName(f"action.{command.id}")
        if command.shortcut:
            from PySide6.QtGui import QKeySequence   # after the first paint (menus are built then)

            action.setShortcut(QKeySequence(command.shortcut))
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

    def _with_editor(self, method: str, *args: Any):
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

    def _register_commands(self) -> None:
        add = self.commands.register
        has_editor = lambda: self.current_editor() is not None  # noqa: E731
        add(Command("file.new", "New File", self.new_file, "Ctrl+N", "File"))
        add(Command("file.open", "Open File\u2026", self._open_dialog, "Ctrl+O", "File"))
        add(Command("file.save", "Save", self.save, "Ctrl+S", "File", has_editor))
        add(Command("file.save_as", "Save As\u2026", self.save_as, "Ctrl+Shift+S", "File", has_editor))
        add(Command("file.save_all", "Save All", self.save_all, "Ctrl+Alt+S", "File"))
        add(Command("file.close", "Close Tab", self.close_tab, "Ctrl+W", "File", has_editor))
        add(Command("file.close_all", "Close All Tabs", self.close_all, None, "File"))
        add(Command("file.reopen_closed", "Reopen Closed Tab", self.reopen_closed, "Ctrl+Shift+T", "File"))
        add(Command("file.reload", "Reload From Disk", lambda: self.current_editor() and self.disk_watcher.reload(self.current_editor()),
                    None, "File", has_editor))
        add(Command("app.quit", "Quit", self.close, "Ctrl+Q", "File"))
        add(Command("edit.undo", "Undo", self._with_editor("undo"), "Ctrl+Z", "Edit", has_editor))
        add(Command("edit.redo", "Redo", self._with_editor("redo"), "Ctrl+Y", "Edit", has_editor))
        add(Command("edit.find", "Find", self._with_editor("show_find"), "Ctrl+F", "Edit", has_editor))
        add(Command("edit.replace", "Replace", lambda: self.current_editor() and self.current_editor().show_find(True),
                    "Ctrl+H", "Edit", has_editor))
        add(Command("edit.next_occurrence", "Add Next Occurrence", self._with_editor("add_next_occurrence"), "Ctrl+D",
                    "Edit", has_editor))
        add(Command("edit.toggle_comment", "Toggle Comment", self._with_editor("toggle_comment"), "Ctrl+/", "Edit",
                    has_editor))
        add(Command("view.zoom_in", "Zoom In", self._with_editor("zoom_in"), "Ctrl+=", "View", has_editor))
        add(Command("view.zoom_out", "Zoom Out", self._with_editor("zoom_out"), "Ctrl+-", "View", has_editor))
        add(Command("view.zoom_reset", "Reset Zoom", self._with_editor("zoom_reset"), "Ctrl+0", "View", has_editor))
        add(Command("palette.show", "Command Palette\u2026", self.show_palette, "Ctrl+Shift+P", "View"))
        add(Command("view.theme.light", "Light Theme", lambda: self.set_theme("light"), None, "View"))
        add(Command("view.theme.dark", "Dark Theme", lambda: self.set_theme("dark"), None, "View"))
        add(Command("view.theme.system", "Theme Follows System", lambda: self.set_theme("system"), None, "View"))
        add(Command("go.line", "Go to Line\u2026", self.goto_line_dialog, "Ctrl+G", "Go", has_editor))
        add(Command("go.next_tab", "Next Tab", lambda: self._cycle_tab(1), "Ctrl+Tab", "Go"))
        add(Command("go.previous_tab", "Previous Tab", lambda: self._cycle_tab(-1), "Ctrl+Shift+Tab", "Go"))
        add(Command("help.about", "About MarieIDE", self._about, None, "Help"))

    def _open_dialog(self) -> None:
        path = dialogs.ask_open_file(self, self.app.root)
        if path is not None:
            self.open_file(path)

    def goto_line_dialog(self) -> None:
        editor = self.current_editor()
        if editor is None:
            return
        line, _ = editor.cursor_position()
        answer = dialogs.ask_goto_line(self, line, max(1, editor.sci.lineCount()))
        if answer is not None:
            editor.goto(answer[0], answer[1] or 1)
            editor.setFocus()

    def _cycle_tab(self, step: int) -> None:
        if self.tabs.count():
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def _about(self) -> None:
        from marie import __version__

        self.show_message(f"MarieIDE {__version__} \u2014 {self.app.root}")

    def show_palette(self) -> Any:
        from marie.ui.palette import CommandPalette

        palette = getattr(self, "_palette", None)
        if palette is None:
            palette = self._palette = CommandPalette(self.commands, self)
        palette.popup()
        return palette

    # ================================================================ themes and settings
    def set_theme(self, mode: str) -> None:
        """Switch theme and remember it in the user settings (``ui.theme``)."""
        themes.apply_theme(mode)
        try:
            if self.app.settings.get("ui.theme") != mode:
                self.app.settings.set_user("ui.theme", mode)
        except Exception as exc:
            self.show_message(f"Theme applied but not remembered: {exc}", "warning")

    def _system_scheme_changed(self, *_args: Any) -> None:
        if themes.current_mode() == "system":
            themes.apply_theme("system")

    def _settings_changed(self, keys: set[str]) -> None:
        if "ui.theme" in keys:
            themes.apply_theme(self.app.settings.get("ui.theme"))

    def _notice(self, message: str, level: str = "info", **_: Any) -> None:
        self.show_message(message, level)

    # ================================================================ session
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
        with_path = [e for e in self.editors() if e.path]
        hidden = [pid for pid, dock in self.docks.items() if dock.isHidden()]
        return session.Session(geometry=bytes(self.saveGeometry().data()), state=bytes(self.saveState().data()),
                               tabs=tabs, current=with_path.index(current) if current in with_path else -1,
                               hidden_panels=hidden)

    def save_session(self) -> None:
        try:
            session.save(self.app.data_dir, self.current_session())
        except OSError as exc:
            self.show_message(f"Could not save the window layout: {exc}", "warning")

    def restore_session(self) -> None:
        """Reopen the last session's layout and tabs, then put back hot-exit backups."""
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
                        self.tabs.setCurrentWidget(self._page(target))
            if self.app.settings.get("editor.hot_exit", True) and self.hot_exit is not None:
                self.hot_exit.restore()
        finally:
            self._restoring = False

    # ================================================================ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Hot exit: unsaved buffers are backed up instead of asking (when ``editor.hot_exit`` is on).

        Order on close: backups and session saved, ``editorClosed`` for every editor, ``closing``,
        then every timer inside the window (panels' included) is stopped, so nothing fires into an
        app that ``launch()`` closes next."""
        if self._closing:            # already closed once (e.g. close() then the test harness)
            event.accept()
            return
        if self.app.settings.get("editor.hot_exit", True):
            if self.hot_exit is not None:
                self.hot_exit.flush()
        else:
            for editor in [e for e in self.editors() if e.is_dirty()]:
                self.tabs.setCurrentWidget(self._page(editor))
                answer = dialogs.ask_save_changes(self, self.tab_title(editor, plain=True))
                if answer == dialogs.CANCEL or (answer == dialogs.SAVE and not self.save(editor)):
                    event.ignore()
                    return
        self._closing = True
        if self.hot_exit is not None:
            self.hot_exit.stop()
        self._session_timer.stop()
        if self._started:            # a window closed before it finished starting keeps the old session
            self.save_session()
        if self.disk_watcher is not None:
            self.disk_watcher.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for editor in self.editors():      # stop their theme listeners and background loads
            self._emit_safely(self.editorClosed, editor)   # so other areas drop their per-editor timers too
            dispose = getattr(editor, "dispose", None)
            if dispose is not None:
                try:
                    dispose()
                except Exception:
                    log.exception("disposing an editor failed")
        self._emit_safely(self.closing)
        self.stop_timers()
        event.accept()
        super().closeEvent(event)

    def _emit_safely(self, signal: Any, *args: Any) -> None:
        # A panel's slot that raises must not keep the window from closing (PySide6 reports slot
        # exceptions through sys.excepthook, which launch() routes to the log).
        try:
            signal.emit(*args)
        except Exception:
            log.exception("a closing handler failed")

    def stop_timers(self) -> int:
        """Stop every QTimer that lives inside the window (docks and panels included); returns how many
        were running. Called while closing, before the app and its services close."""
        from PySide6.QtCore import QTimer as _QTimer

        stopped = 0
        for timer in self.findChildren(_QTimer):
            try:
                if timer.isActive():
                    timer.stop()
                    stopped += 1
            except RuntimeError:   # deleted meanwhile
                pass
        return stopped
