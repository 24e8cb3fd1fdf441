"""Panels discovered from marie.ui.panels land in dock areas, tabified, toggled by commands."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

import marie.ui.panels as panels
from marie.ui.panels import PanelSpec


def test_discovered_panels_become_docks(make_window, monkeypatch):
    def broken(window):
        raise RuntimeError("kaboom")

    specs = [PanelSpec("alpha", "Alpha", "left", lambda w: QLabel("alpha body"), "Ctrl+Alt+1", 1),
             PanelSpec("beta", "Beta", "left", lambda w: QLabel("beta body"), None, 2),
             PanelSpec("gamma", "Gamma", "bottom", broken, None, 1)]
    window = make_window(show=False)          # a window without panels, then ours through discover()
    monkeypatch.setattr(panels, "discover", lambda: specs)
    window._add_panels()
    window.show()
    assert set(window.docks) == {"alpha", "beta", "gamma"}
    assert window.dockWidgetArea(window.docks["alpha"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(window.docks["gamma"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert window.docks["beta"] in window.tabifiedDockWidgets(window.docks["alpha"])
    assert "kaboom" in window.panels["gamma"].text()                # a broken panel says why, the rest works
    assert window.show_panel("beta").text() == "beta body"
    assert window.action("view.panel.alpha").shortcut().toString() == "Ctrl+Alt+1"
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert "Toggle Alpha" in [a.text() for a in view_menu.actions()]
    window.docks["alpha"].hide()
    window.commands.run("view.panel.alpha")
    assert window.docks["alpha"].isVisible()
    assert window.show_panel("nope") is None


def test_real_panel_modules_load_without_breaking_the_window(make_window):
    # Whatever panels the other areas ship: each becomes a dock (or an error label), never a crash.
    window = make_window(panels_=True)
    assert set(window.docks) == {spec.id for spec in panels.discover()}
