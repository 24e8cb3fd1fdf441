"""Plugins in the window: load them on a worker, then turn their commands, panels and editor
features into the window's own (GUI thread).

The loading itself (``app.plugins``, ``marie.plugins``) has no Qt and runs on the "plugins" worker,
so a slow plugin never holds the window back; when it is done, each contribution is added here in
containment: a command that raises shows its error, a panel that fails to build shows its error in
its dock (``_add_panel`` does that for every panel), an editor feature that fails is listed by the
feature registry like the built-in ones.
"""

from __future__ import annotations

import logging
from typing import Any

from marie.ui.commands import Command
from marie.ui.features import FeatureSpec
from marie.ui.panels import PanelSpec
from marie.ui.window_commands import MENUS

log = logging.getLogger(__name__)


def install(window: Any) -> Any:
    """Start loading the plugins for ``window``; returns the Task. GUI thread."""
    app = window.app
    return app.tasks.submit(lambda ctx: app.plugins.load(), name="load plugins", worker="plugins",
                            on_done=lambda records: apply(window), on_error=lambda exc: _failed(window, exc))


def _failed(window: Any, exc: BaseException) -> None:
    log.error("plugins failed to load: %s", exc)
    window.show_message(f"Plugins could not be loaded: {exc}", "error")


def _run(window: Any, contribution: Any) -> None:
    try:
        contribution.run(window)
    except Exception as exc:   # a plugin's bug is reported, never a crash of the window
        log.exception("plugin command %s failed", contribution.id)
        window.show_message(f"{contribution.title} failed: {exc}", "error")


def apply(window: Any) -> None:
    """Add every active plugin's contributions to ``window`` (GUI thread, after loading)."""
    if getattr(window, "_closing", False):
        return
    plugins = window.app.plugins
    for contribution in plugins.commands():
        if contribution.id in window.commands:
            window.show_message(f"A plugin's command {contribution.id!r} clashes with an existing one; skipped",
                                "warning")
            continue
        # A plugin's commands go in the Plugins menu (or a standard menu it names), not in a menu of
        # their own each: their titles already say whose they are ("Tests: Run All").
        category = contribution.category if contribution.category in MENUS else "Plugins"
        window.commands.register(Command(contribution.id, contribution.title,
                                         lambda c=contribution: _run(window, c), contribution.shortcut, category))
    for panel in plugins.panels():
        if panel.id in window.docks:
            continue
        dock = window._add_panel(PanelSpec(panel.id, panel.title, panel.area, panel.factory, panel.shortcut, 500))
        if not window.restoreDockWidget(dock):   # a saved session may have it open already
            dock.hide()
    for feature in plugins.editor_features():
        window.features.add(FeatureSpec(f"plugin:{feature.id}", feature.id, setup=lambda host: host,
                                        attach=lambda host, editor, f=feature: f.install(editor, host)))
    failed = [r for r in plugins.records() if r.state in ("failed", "slow", "incompatible")]
    if failed:
        names = ", ".join(f"{r.name} ({r.state})" for r in failed)
        window.show_message(f"Some plugins did not load: {names}. See the Plugins panel.", "warning")
    panel = window.panels.get("plugins")
    if panel is not None and hasattr(panel, "refresh"):
        panel.refresh()
