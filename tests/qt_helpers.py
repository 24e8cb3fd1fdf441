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


class PanelHost:
    """A stand-in for MainWindow with just what a panel uses (app, commands, editors, messages), for
    testing one panel without the whole window. ``messages`` holds (text, level) pairs."""

    def __init__(self, app):
        from marie.ui.commands import CommandRegistry

        self.app = app
        self.commands = CommandRegistry()
        self.messages: list[tuple[str, str]] = []

    def editors(self):
        return []

    def current_editor(self):
        return None

    def show_message(self, text, level="info"):
        self.messages.append((text, level))


def open_panel(qtbot, root: Path, spec):
    """``spec``'s widget on a PanelHost over a fresh App (Qt dispatcher), shown. Close with ``close_panel``."""
    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher

    widget = spec.factory(PanelHost(App(root, QtDispatcher())))
    qtbot.addWidget(widget)
    widget.show()
    return widget


def close_panel(widget) -> None:
    """Wait for the panel's background work, then stop its app."""
    widget.app.tasks.shutdown(wait=True)
    widget.app.close()


def open_editor_view(qtbot, path: Path, settings=None, size: tuple[int, int] = (700, 400)):
    """A shown EditorView on ``path`` (no window), waiting for a background load to finish."""
    from marie.ui.editor.view import EditorView

    view = EditorView.open(path, settings)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    if view.loading:
        qtbot.waitUntil(lambda: not view.loading, timeout=30000)
    return view
