"""Fixtures for the window tests: real MainWindows on a real workspace, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.qt_helpers import close_main_windows, open_main_window, type_text  # noqa: F401 (re-exported)


@pytest.fixture
def make_window(qtbot, workspace: Path, monkeypatch):
    """``make_window(root=workspace, restore=True, panels=False)`` -> a shown MainWindow on a fresh App.

    By default the window gets no panels from other areas (they are tested in their own folders and
    in test_window_panels.py); ``panels=True`` loads the real ones.

    Windows are closed (which saves their session and backups) and their apps shut down after the test."""
    made: list = []

    import marie.ui.panels as panels

    real_discover = panels.discover

    def make(root: Path = workspace, restore: bool = True, show: bool = True, panels_: bool = False):
        monkeypatch.setattr(panels, "discover", real_discover if panels_ else (lambda: []))
        if not panels_:
            # Plugins bring panels and commands of their own (tested in tests/ui/test_plugins_window.py).
            import marie.ui.plugin_host as plugin_host

            monkeypatch.setattr(plugin_host, "install", lambda window: None)
        window = open_main_window(qtbot, root, restore=restore, show=show)
        made.append(window)
        return window

    yield make
    close_main_windows(*made)


def close_window(window) -> None:
    """Close like a user would (hot exit and session save run) and stop its app."""
    window.close()
    window.app.close()


def press(qtbot, window, key, modifiers=None) -> None:
    """Press a key like a user on the focused widget of ``window`` (its QAction shortcuts fire)."""
    from PySide6.QtCore import Qt

    from tests.e2e.conftest import shortcut

    shortcut(qtbot, window, key, modifiers if modifiers is not None else Qt.KeyboardModifier.NoModifier)
