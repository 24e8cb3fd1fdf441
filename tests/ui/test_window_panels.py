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


def test_full_window_with_every_real_panel_shows_each_dock(make_window, qtbot):
    # The whole window as a user gets it: every panel the other areas ship, each in a dock that is
    # either on screen or a tab next to one that is; navigation panels left, Composer right.
    window = make_window(panels_=True)
    ids = {spec.id for spec in panels.discover()}
    assert set(window.docks) == ids
    for panel_id, dock in window.docks.items():
        assert not dock.isHidden(), panel_id
        group = [dock, *window.tabifiedDockWidgets(dock)]
        assert any(d.isVisible() for d in group), f"{panel_id}: neither it nor a tab next to it is shown"
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    for panel_id in {"files", "search", "git", "checkpoints"} & ids:
        assert window.dockWidgetArea(window.docks[panel_id]) == left, panel_id
    if "composer" in ids:
        assert window.dockWidgetArea(window.docks["composer"]) == Qt.DockWidgetArea.RightDockWidgetArea
    # the editor keeps most of a 1280 px window
    editor = window.new_file("x = 1\n")
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: editor.width() > 1280 * 0.45, timeout=15000)


def test_closing_tells_editors_then_panels_and_stops_their_timers(make_window, qtbot, workspace):
    from PySide6.QtCore import QTimer

    events: list[str] = []

    def factory(window):
        widget = QLabel("ticking")
        timer = QTimer(widget)
        timer.setInterval(50)
        timer.timeout.connect(lambda: events.append("tick"))
        timer.start()
        widget.timer = timer
        window.editorClosed.connect(lambda editor: events.append(f"editorClosed {editor.path.name}"))
        window.closing.connect(lambda: events.append(f"closing timer_active={timer.isActive()}"))
        return widget

    (workspace / "a.py").write_text("a = 1\n", encoding="utf-8")
    window = make_window(show=False)
    panels_specs = [PanelSpec("ticker", "Ticker", "bottom", factory)]
    import marie.ui.panels as p

    real = p.discover
    p.discover = lambda: panels_specs
    try:
        window._add_panels()
    finally:
        p.discover = real
    window.show()
    window.open_file(workspace / "a.py")
    timer = window.panels["ticker"].timer
    qtbot.waitUntil(lambda: "tick" in events, timeout=15000)
    window.close()
    order = [e for e in events if e != "tick"]
    assert order == ["editorClosed a.py", "closing timer_active=True"]
    assert not timer.isActive()                       # the window stopped it after `closing`
    ticks = events.count("tick")
    qtbot.wait(200)
    assert events.count("tick") == ticks


def test_a_panel_slot_that_keeps_failing_is_logged_a_few_times_not_forever(caplog):
    import sys

    from marie.ui.launch import SlotErrorHook

    hook = SlotErrorHook(previous=None, repeat_limit=3)

    def failing_slot():
        raise ValueError("panel bug")

    for _ in range(50):                               # a timer firing every 50 ms for 2.5 s
        try:
            failing_slot()
        except ValueError:
            hook(*sys.exc_info())
    logged = [r for r in caplog.records if "unhandled error in a Qt callback" in r.getMessage()]
    assert len(logged) == 3
    assert "further repeats are not logged" in logged[-1].getMessage()
    assert sum(hook.counts.values()) == 50
