"""The window's panels: discovered ``PanelSpec``s (``marie.ui.panels``) become docks in their
areas, tabified, sized so the editor keeps most of the room, toggled by commands. On a first
launch (no saved layout) the Files panel is the one in front on the left. Mixed into
``MainWindow``. GUI thread only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QWidget

from marie.ui.commands import Command
from marie.ui.qt_names import Qt

log = logging.getLogger(__name__)

# Where the window puts a panel when that differs from its PanelSpec: the left area holds the
# navigation panels (Files, Search, Git, Checkpoints) as tabs, Composer and helpers go right.
PANEL_AREAS = {"checkpoints": "left"}
# The panel in front of each area on a first launch (when it exists).
FIRST_RUN_FRONT = {"left": "files"}
# Explicit minimum sizes for panel contents (px): a panel's own size hint (a row of buttons, a wide
# table) must not squeeze the editor; the user can still drag a dock wider.
SIDE_MIN_WIDTH, SIDE_MIN_HEIGHT, BOTTOM_MIN_HEIGHT = 160, 120, 60


def dock_area(name: str) -> Qt.DockWidgetArea:
    """The Qt dock area for a PanelSpec area (made on use: the Qt namespace is slow to build first)."""
    areas = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
             "bottom": Qt.DockWidgetArea.BottomDockWidgetArea, "top": Qt.DockWidgetArea.TopDockWidgetArea}
    return areas.get(name, Qt.DockWidgetArea.LeftDockWidgetArea)


class PanelsMixin:
    """Docks of ``MainWindow``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def _add_panels(self) -> None:
        """Create every discovered panel now (tests, screenshots)."""
        from marie.ui.panels import discover

        self._first_in_area = {}
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

    def add_bottom_dock(self, dock: QDockWidget) -> None:
        """A dock a feature makes on demand (References ...): bottom area, tabbed with the panels there."""
        self.addDockWidget(dock_area("bottom"), dock)
        first = self._first_in_area.get("bottom")
        if first is not None and first is not dock:
            self.tabifyDockWidget(first, dock)

    def _panels_done(self) -> None:
        # Plugins load on a worker once the built-in docks exist; their docks then join the areas.
        from marie.ui import plugin_host

        plugin_host.install(self)
        if self._saved_state:
            self.restoreState(QByteArray(self._saved_state))
            return
        # First launch on this project: the navigation side shows the Files panel.
        for area, dock in self._first_in_area.items():
            front = self.docks.get(FIRST_RUN_FRONT.get(area, ""))
            (front or dock).show()
            (front or dock).raise_()
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
