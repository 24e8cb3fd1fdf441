"""The editor's keys: ``EditorSci`` (ScintillaEdit with our key and Alt+click handling) and the
shortcuts only the editor knows (``KeysMixin``, mixed into ``EditorView``). GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QWidget
from pyside6_scintilla import ScintillaEdit

from marie.ui.editor import multicursor
from marie.ui.qt_names import Qt

# (Qt.* constants are made on first use, not at import: the first use of PySide6's Qt namespace builds
# all its enums, ~30 ms, which start-up then pays after the first paint instead of before it.)
_KEYS: tuple | None = None   # (modifier mask, keys we handle without a modifier)


def _key_constants() -> tuple:
    global _KEYS
    if _KEYS is None:
        mask = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
                | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier)
        _KEYS = (mask, frozenset((Qt.Key.Key_F3, Qt.Key.Key_Escape)))
    return _KEYS


class EditorSci(ScintillaEdit):
    """ScintillaEdit with the editor's own keys and Alt+click; everything else is Scintilla's."""

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self._view = view
        self._alt_press: tuple[Any, list] | None = None

    def setFocus(self, *args) -> None:  # noqa: N802
        """ScintillaEdit's ``setFocus(bool)`` (SCI_SETFOCUS) hides QWidget.setFocus(); callers mean
        the widget one (``sci.setFocus()`` to give it keyboard focus), so both forms work here."""
        if len(args) == 1 and isinstance(args[0], bool):
            ScintillaEdit.setFocus(self, args[0])
        else:
            QWidget.setFocus(self, *args)

    _SHORTCUT_OVERRIDE = QEvent.Type.ShortcutOverride   # looked up once: event() runs for every event

    def event(self, event) -> bool:  # noqa: N802
        # Claim our keys before window-level shortcuts see them, so they act on this editor.
        if event.type() == self._SHORTCUT_OVERRIDE and self._view._claims(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self._view._handle_key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and event.modifiers() == Qt.KeyboardModifier.AltModifier:
            self._alt_press = (event.position().toPoint(), multicursor.selections(self))
        else:
            self._alt_press = None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        press, self._alt_press = self._alt_press, None
        if press is None:
            return
        point, previous = press
        if (event.position().toPoint() - point).manhattanLength() <= 3:
            # a click, not a drag: Alt+drag stays Scintilla's rectangular selection
            pos = self.positionFromPoint(point.x(), point.y())
            multicursor.add_caret(self, pos, previous)


class KeysMixin:
    """Editor-only shortcuts of ``EditorView``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    # -- keys ---------------------------------------------------------------------------------------
    def _claims(self, event) -> bool:
        """Keys that only mean something in the editor win over window shortcuts; Ctrl+F/H/G and
        the like stay with the window's commands when it has them (they call back into us)."""
        mask, _plain = _KEYS or _key_constants()
        if not (event.modifiers() & mask):
            return False      # plain typing (every keystroke comes here first): nothing to claim
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
        return (mods, event.key()) in {(ctrl, Qt.Key.Key_D), (ctrl, Qt.Key.Key_Slash), (ctrl | shift, Qt.Key.Key_L)}

    def _handle_key(self, event, dry_run: bool = False) -> bool:
        """The editor's own shortcuts. ``dry_run`` only says whether the key is ours."""
        key = event.key()
        mask, plain = _KEYS or _key_constants()
        mods = event.modifiers() & mask
        if not mods and key not in plain:
            return False  # ordinary typing: back to Scintilla as fast as possible
        actions = self._key_actions
        if actions is None:
            ctrl = Qt.KeyboardModifier.ControlModifier
            shift = Qt.KeyboardModifier.ShiftModifier
            K = Qt.Key
            actions = self._key_actions = {
                (ctrl, K.Key_D): self.add_next_occurrence,
                (ctrl | shift, K.Key_L): self.select_all_occurrences,
                (ctrl, K.Key_Slash): self.toggle_comment,
                (ctrl, K.Key_F): lambda: self.show_find(False),
                (ctrl, K.Key_H): lambda: self.show_find(True),
                (ctrl, K.Key_G): self.goto_line_dialog,
                (Qt.KeyboardModifier.NoModifier, K.Key_F3): self.find_next,
                (shift, K.Key_F3): self.find_previous,
                (ctrl, K.Key_Equal): self.zoom_in,
                (ctrl, K.Key_Plus): self.zoom_in,
                (ctrl | shift, K.Key_Plus): self.zoom_in,
                (ctrl, K.Key_Minus): self.zoom_out,
                (ctrl, K.Key_0): self.zoom_reset,
            }
        action = actions.get((mods, key))
        if action is None and key == Qt.Key.Key_Escape and not mods:
            if self._find_bar is not None and self._find_bar.isVisible():
                action = self.find_bar.close_bar
            elif self.sci.selections() > 1:
                action = lambda: self.sci.setEmptySelection(self.sci.currentPos())  # noqa: E731
        if action is None:
            return False
        if not dry_run:
            action()
        return True

    def shortcut_help(self) -> dict[str, str]:
        """Editor keys, for the command palette and menus."""
        from PySide6.QtGui import QKeySequence

        return {"Add next occurrence": QKeySequence("Ctrl+D").toString(), "Toggle comment": "Ctrl+/",
                "Find": "Ctrl+F", "Replace": "Ctrl+H", "Go to line": "Ctrl+G", "Zoom in": "Ctrl+=",
                "Zoom out": "Ctrl+-", "Reset zoom": "Ctrl+0", "Select all occurrences": "Ctrl+Shift+L"}
