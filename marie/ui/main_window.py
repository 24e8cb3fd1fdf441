"""The main window: the editor area in the centre (split groups of tabs, or the welcome view),
discovered panels in dock areas, the status bar, and the editor features.

``MainWindow(app)`` is the one object other views talk to, through the ``EditorHost`` protocol
(``marie.ui.features``): ``open_file``, ``current_editor``, ``editors``, ``show_panel``,
``show_message``, ``add_status_widget``, ``refresh_editor_title``, ``commands``, ``features`` and the
signals ``editorOpened``/``editorClosed``. Every user action is a command in ``self.commands``; the
menus and shortcuts are made from it. Its parts live in modules named for what they own:
``window_tabs`` (tabs, saving), ``window_panels`` (docks), ``window_commands`` (commands and menus),
``window_session`` (layout and tabs), ``navigation`` (back/forward), ``editor_area`` (groups and
splits), ``welcome``, ``projects`` (open folder, recent, new window). Helpers own the side concerns:
``HotExit`` (backups), ``DiskWatcher`` (files changed on disk), ``themes``.
Everything here runs on the GUI thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QVBoxLayout, QWidget

from marie.core.event_types import Notice, SettingsChanged
from marie.ui import session, themes
from marie.ui.commands import CommandRegistry
from marie.ui.editor_area import EditorArea, EditorPage
from marie.ui.features import FeatureRegistry
from marie.ui.navigation import NavigationMixin
from marie.ui.qt_names import Qt
from marie.ui.statusbar import StatusBar
from marie.ui.window_commands import MENUS, CommandsMixin
from marie.ui.window_panels import PanelsMixin
from marie.ui.window_session import SessionMixin
from marie.ui.window_tabs import DIRTY, TabsMixin  # noqa: F401 (DIRTY: re-exported)

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent   # (its type set-up costs ~2 ms at start-up)


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


class MainWindow(TabsMixin, PanelsMixin, CommandsMixin, SessionMixin, NavigationMixin, QMainWindow):
    editorOpened = Signal(object)
    editorClosed = Signal(object)
    editorSaved = Signal(object)
    currentEditorChanged = Signal(object)     # the current view (None: no editor)
    caretMoved = Signal(object)               # the current view's caret moved (coalesced)
    # Emitted once while the window closes: after editorClosed for every editor, before the window's
    # timers stop and before launch() calls app.close(). Panels stop their timers/workers here.
    closing = Signal()

    def __init__(self, app: Any, restore: bool = True, defer_panels: bool = False, fast_start: bool = False) -> None:
        """``fast_start`` (launch): build only what the first editable paint needs (tabs, status bar,
        theme); menus, commands, features, hot exit, disk watching, background session tabs and
        panels come in ``finish_startup()``, which the caller runs once the window is on screen.
        Without it (tests, screenshots) everything is built here, as before."""
        super().__init__()
        self.app = app
        self.setObjectName("MarieMainWindow")
        self.setWindowTitle(f"{app.root.name} \u2014 MarieIDE")
        self.resize(1280, 800)
        self.setDockNestingEnabled(True)
        self.commands = CommandRegistry()
        self.features = FeatureRegistry(self)
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}
        self._menus: dict[str, QMenu] = {}
        self._actions: dict[str, Any] = {}
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
        self._palette: Any = None
        self._last_diff: Any = None
        self._views: dict[str, QWidget] = {}      # Settings, Keyboard Shortcuts (tabs, made once)
        self._install_navigation()
        from marie.ui.keybindings import Keybindings

        self.keybindings = Keybindings()

        self.welcome: Any = None
        self.area = EditorArea(None, self)
        self.area.currentChanged.connect(self._current_changed)
        self.area.closeRequested.connect(self._close_area_tab)
        self.area.layoutChanged.connect(self._schedule_session_save)
        self.area.tab_actions = self._tab_actions
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self._central_layout = column
        column.addWidget(self.area, 1)
        self.setCentralWidget(central)

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

    def finish_startup(self, panels_now: bool = False) -> None:
        """Everything the first paint does not need. GUI thread; runs once (later calls do nothing).
        ``panels_now`` builds the panels here; otherwise ``load_panels_later()`` does, one per turn."""
        if self._started:
            return
        self._started = True
        from marie.ui.breadcrumbs import Breadcrumbs
        from marie.ui.disk_changes import DiskWatcher
        from marie.ui.hot_exit import HotExit
        from marie.ui.settings_files import SettingsFiles
        from marie.ui.welcome import WelcomeView

        app = self.app
        for name in MENUS:
            self._menus[name] = self.menuBar().addMenu(f"&{name}")
        self.commands.on_register(self._install_action)
        self._register_commands()
        self.settings_files = SettingsFiles(self)
        self.welcome = WelcomeView(self)
        self.area.set_welcome(self.welcome)
        self.breadcrumbs = Breadcrumbs(self)
        self._central_layout.insertWidget(0, self.breadcrumbs)

        self.hot_exit = HotExit(self)
        self.disk_watcher = DiskWatcher(self)
        for editor in self.editors():            # opened before this ran (the file given on the command line)
            self.hot_exit.watch(editor)
        self.features.install()
        self._unsubscribe = [app.events.on(Notice, self._notice),
                             app.events.on(SettingsChanged, self._settings_changed)]
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
            page = self._page(keep) if keep is not None else None
            if page is not None:                     # the file asked for stays in front
                self.area.set_current(page)
        from marie.ui import projects

        projects.remember(self.app.root)

    # ================================================================ EditorHost
    def show_message(self, text: str, level: str = "info") -> None:
        """Tell the user something in the status bar (errors stay longer)."""
        timeout = {"error": 15000, "warning": 10000}.get(level, 5000)
        prefix = {"error": "Error: ", "warning": "Warning: "}.get(level, "")
        self.status_bar.showMessage(prefix + text, timeout)
        (log.warning if level in ("error", "warning") else log.info)("%s", text)

    def add_status_widget(self, widget: QWidget) -> None:
        """A permanent widget in the status bar (git branch, LSP state, AI model ...)."""
        self.status_bar.add_widget(widget)

    @property
    def is_closing(self) -> bool:
        """True once the window has started closing (a cancelled close leaves it False)."""
        return self._closing

    @staticmethod
    def _dialogs() -> Any:
        return dialogs

    # ================================================================ split editors
    def split_editor(self, where: str = "right") -> Any | None:
        """Split the active group right or down; the current file gets a second view there (one
        document: edits, undo and markers are shared)."""
        editor = self.current_editor()
        if editor is None:
            return None
        orientation = Qt.Orientation.Horizontal if where == "right" else Qt.Orientation.Vertical
        group = self.area.split(orientation)
        return self.open_clone(editor, group)

    def move_editor(self, step: int) -> None:
        """Move the current tab into the next (1) or previous (-1) group; past the last group a new
        group is split off to the right."""
        page = self.area.current_page()
        if page is None:
            return
        group = self.area.active
        target = self.area.neighbour(group, step)
        if target is None:
            if group.count() == 1:
                return
            target = self.area.split(Qt.Orientation.Horizontal, group) if step > 0 else None
            if target is None:
                return
        editor = page.editor
        primary = getattr(editor, "primary", None) or editor
        for other in target.pages():      # the file is already shown there: keep one view of it
            if other.editor is primary or getattr(other.editor, "primary", None) is primary:
                if editor is not primary:     # a second view goes; the one there stays
                    self._drop_page(page)
                    self.area.set_current(other)
                    return
                replaced = other              # the primary moves in and replaces the second view
                break
        else:
            replaced = None
        self.area.move_page(page, target, self.tab_title(editor), self._tab_tip(editor))
        if replaced is not None:
            self._drop_page(replaced)
        editor.setFocus()

    # ================================================================ settings views
    def show_settings_view(self) -> Any:
        from marie.ui.settings_view import SettingsView

        return self._show_singleton("settings", lambda: SettingsView(self), "Settings")

    def show_keybindings_view(self) -> Any:
        from marie.ui.keybindings_view import KeybindingsView

        return self._show_singleton("keybindings", lambda: KeybindingsView(self), "Keyboard Shortcuts")

    def _show_singleton(self, key: str, make: Any, title: str) -> Any:
        """A view that is not an editor (Settings, Keyboard Shortcuts) as a tab of the editor area,
        made once and reused (closing its tab keeps it for next time)."""
        widget = self._views.get(key)
        if widget is None:
            widget = self._views[key] = make()
            widget.setObjectName(widget.objectName() or f"view.{key}")
        group = self.area.group_of(widget)
        if group is None:
            group = self.area.active
            group.addTab(widget, title)
            self.area.layoutChanged.emit()
        self.area.active = group
        group.setCurrentWidget(widget)
        self.area.set_current(widget)
        widget.setFocus()
        return widget

    def _tab_actions(self, page: Any) -> list[tuple[str, Any]]:
        """A tab's right-click menu (the mouse way to split and to move a tab between groups)."""
        actions: list[tuple[str, Any]] = [("Close", lambda: self._close_area_tab(page))]
        if isinstance(page, EditorPage):
            actions += [("Split Right", lambda: self.split_editor("right")),
                        ("Split Down", lambda: self.split_editor("down")),
                        ("Move into Next Group", lambda: self.move_editor(1)),
                        ("Move into Previous Group", lambda: self.move_editor(-1))]
        return actions

    def _close_area_tab(self, page: Any) -> None:
        if isinstance(page, EditorPage):
            self.close_page(page)
        else:                              # a view (Settings ...): kept for the next time it is shown
            self.area.remove_page(page)

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

    def _settings_changed(self, event: SettingsChanged) -> None:
        if "ui.theme" in event.keys:
            themes.apply_theme(self.app.settings.get("ui.theme"))
        if any(key.startswith("editor.") for key in event.keys):
            for page in self.area.pages():
                page.editor.set_settings(self.app.settings)

    def _notice(self, event: Notice) -> None:
        self.show_message(event.message, event.level)

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
                page = self._page(editor)
                if page is not None:
                    self.area.set_current(page)
                answer = dialogs.ask_save_changes(self, self.tab_title(editor, plain=True))
                if answer == dialogs.CANCEL or (answer == dialogs.SAVE and not self.save(editor)):
                    event.ignore()
                    return
        self._closing = True
        self._remove_navigation()
        if self.hot_exit is not None:
            self.hot_exit.stop()
        self._session_timer.stop()
        if self._started:            # a window closed before it finished starting keeps the old session
            self.save_session()
        if self.disk_watcher is not None:
            self.disk_watcher.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for page in self.area.pages():      # stop their theme listeners and background loads
            editor = page.editor
            if getattr(editor, "primary", None) is None:
                self._emit_safely(self.editorClosed, editor)   # so other areas drop their per-editor timers too
            try:
                editor.dispose()
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
        stopped = 0
        for timer in self.findChildren(QTimer):
            try:
                if timer.isActive():
                    timer.stop()
                    stopped += 1
            except RuntimeError:   # deleted meanwhile
                pass
        return stopped
