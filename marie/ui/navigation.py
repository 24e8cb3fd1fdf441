"""Navigation history: Go Back / Go Forward (Alt+Left / Alt+Right, the mouse's back and forward
buttons) across every jump the window makes: go to definition, quick open, symbol pickers, search
results, problems, references, go to line.

``NavigationHistory`` is plain data (a back and a forward stack of ``Location``); the window
records a jump in ``open_file`` whenever a line is given, and ``NavigationMixin`` walks the stacks.
GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject

from marie.ui.qt_names import Qt

# Jumps closer than this many lines in the same file replace each other (VS Code does the same:
# moving around within a screen is not a navigation).
NEAR_LINES = 10


@dataclass(frozen=True)
class Location:
    path: Path
    line: int
    column: int

    def near(self, other: "Location") -> bool:
        return self.path == other.path and abs(self.line - other.line) < NEAR_LINES


class NavigationHistory:
    """A back stack and a forward stack of locations (at most ``limit`` each)."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self.back: list[Location] = []
        self.forward: list[Location] = []

    def record(self, before: Location | None, after: Location | None) -> None:
        """A jump from ``before`` to ``after``: ``before`` goes on the back stack, forward is cleared."""
        if before is None or after is None or before.near(after):
            return
        if not self.back or self.back[-1] != before:
            self.back.append(before)
            del self.back[:-self.limit]
        self.forward.clear()

    def go_back(self, here: Location | None) -> Location | None:
        if not self.back:
            return None
        target = self.back.pop()
        if here is not None:
            self.forward.append(here)
        return target

    def go_forward(self, here: Location | None) -> Location | None:
        if not self.forward:
            return None
        target = self.forward.pop()
        if here is not None:
            self.back.append(here)
        return target


class _MouseButtons(QObject):
    """The mouse's back and forward buttons anywhere in the window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.MouseButtonPress:
            button = event.button()
            if button in (Qt.MouseButton.BackButton, Qt.MouseButton.ForwardButton):
                widget = watched if hasattr(watched, "window") else None
                if widget is not None and widget.window() is self.window_ and not self.window_.is_closing:
                    (self.window_.go_back if button == Qt.MouseButton.BackButton else self.window_.go_forward)()
                    return True
        return False


class NavigationMixin:
    """Go Back / Go Forward of ``MainWindow``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def _install_navigation(self) -> None:
        self.history = NavigationHistory()
        # The filter sits on the window (presses no child takes bubble up to it) and on every editor's
        # viewport (Scintilla takes its presses), not on the whole application: an application-wide
        # filter would be a Python call for every event the program handles.
        self._mouse_buttons = _MouseButtons(self)
        self.installEventFilter(self._mouse_buttons)

    def watch_mouse_buttons(self, editor: Any) -> None:
        """Let the mouse's back/forward buttons work over ``editor`` (the window calls it per view)."""
        viewport = editor.sci.viewport() if hasattr(editor.sci, "viewport") else editor.sci
        viewport.installEventFilter(self._mouse_buttons)

    def _remove_navigation(self) -> None:
        self.removeEventFilter(self._mouse_buttons)

    def navigation_location(self) -> Location | None:
        """Where the caret is now (None without a saved file)."""
        editor = self.current_editor()
        if editor is None or not editor.path:
            return None
        try:
            line, column = editor.cursor_position()
        except RuntimeError:
            return None
        return Location(Path(editor.path).resolve(), line, column)

    def go_back(self) -> bool:
        return self._go(self.history.go_back)

    def go_forward(self) -> bool:
        return self._go(self.history.go_forward)

    def _go(self, step: Any) -> bool:
        here = self.navigation_location()
        while True:
            target = step(here)
            if target is None:
                return False
            if target.path.is_file():
                break
            here = None                     # a file deleted since: skip it
        was, self._restoring = self._restoring, True   # open_file must not record this jump
        try:
            self.open_file(target.path, target.line, target.column)
        finally:
            self._restoring = was
        return True
