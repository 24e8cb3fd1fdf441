"""Helpers for tests that drive the real main window (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path


def open_main_window(qtbot, root: Path, *, restore: bool = False, show: bool = True):
    """A real MainWindow on a fresh App (Qt dispatcher) for ``root``; close it with ``close_main_windows``."""
    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    app = App(root, QtDispatcher())
    window = MainWindow(app, restore=restore)
    qtbot.addWidget(window)
    if show:
        window.show()
        qtbot.waitExposed(window)
    return window


def close_main_windows(*windows) -> None:
    """Close like a user (session and hot-exit backups are saved), let the widgets and their timers
    (the window's and every panel's) die, and only then stop each app's services."""
    from PySide6.QtCore import QCoreApplication, QEvent

    for window in windows:
        window.close()
        window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for window in windows:
        window.app.close()


def type_text(qtbot, editor, text: str) -> None:
    """Type like a user: characters as key clicks, newlines as the Return key."""
    from PySide6.QtCore import Qt

    editor.setFocus()
    for i, chunk in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(editor.sci, Qt.Key.Key_Return)
        if chunk:
            qtbot.keyClicks(editor.sci, chunk)
