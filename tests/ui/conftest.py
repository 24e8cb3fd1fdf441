"""Fixtures for the window tests: real MainWindows on a real workspace, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def make_window(qtbot, workspace: Path, monkeypatch):
    """``make_window(root=workspace, restore=True, panels=False)`` -> a shown MainWindow on a fresh App.

    By default the window gets no panels from other areas (they are tested in their own folders and
    in test_window_panels.py); ``panels=True`` loads the real ones.

    Windows are closed (which saves their session and backups) and their apps shut down after the test."""
    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    made: list = []

    import marie.ui.panels as panels

    real_discover = panels.discover

    def make(root: Path = workspace, restore: bool = True, show: bool = True, panels_: bool = False):
        monkeypatch.setattr(panels, "discover", real_discover if panels_ else (lambda: []))
        app = App(root, QtDispatcher())
        window = MainWindow(app, restore=restore)
        qtbot.addWidget(window)
        made.append((window, app))
        if show:
            window.show()
            qtbot.waitExposed(window)
        return window

    yield make
    from PySide6.QtCore import QCoreApplication, QEvent

    for window, app in made:
        window.close()
        window.deleteLater()       # its timers (ours and other areas') die with it, before the app stops
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for window, app in made:
        app.close()


def close_window(window) -> None:
    """Close like a user would (hot exit and session save run) and stop its app."""
    window.close()
    window.app.close()


def type_text(qtbot, editor, text: str) -> None:
    """Type like a user: characters via key clicks, newlines as the Return key."""
    from PySide6.QtCore import Qt

    editor.setFocus()
    for i, chunk in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(editor.sci, Qt.Key.Key_Return)
        if chunk:
            qtbot.keyClicks(editor.sci, chunk)
