"""``TerminalView``: paints a terminal screen model with QPainter and sends keys to its session.

Output arrives on the session's parser thread, which only says "changed" (at most once until we
look, through the app's dispatcher); ``pull()`` then takes the set of changed rows and repaints just
those rows' rectangles. So a flood of output costs the GUI thread one small pull per frame, never
the parsing. Rows are cached as runs by absolute row id; the cache is dropped when the scrollback
moves. The view follows the bottom until the user scrolls back (wheel, Shift+PageUp, the scroll
bar); typing jumps back to the bottom.

Keys: everything a shell needs goes to the shell (Ctrl+letters, arrows, Tab, Escape ...), except
the few window shortcuts listed in ``WINDOW_KEYS`` (Ctrl+` toggles the panel, Ctrl+P, Ctrl+Shift+P,
Ctrl+Tab ...). Ctrl+Shift+C/V copy and paste, Ctrl+F opens the find bar (as in VS Code's terminal).
Ctrl+click on ``path:line:col`` emits ``linkActivated``. GUI thread only.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (QFont, QFontDatabase, QFontMetricsF, QGuiApplication, QKeyEvent, QMouseEvent, QPainter,
                           QPaintEvent, QWheelEvent)
from PySide6.QtWidgets import QWidget

from shiboken6 import Shiboken

from marie.terminal.keys import encode_key
from marie.terminal.links import Link, find_links
from marie.ui import themes
from marie.ui.terminal.colors import TerminalColors

_NAMED_KEYS = {
    Qt.Key.Key_Up: "up", Qt.Key.Key_Down: "down", Qt.Key.Key_Left: "left", Qt.Key.Key_Right: "right",
    Qt.Key.Key_Home: "home", Qt.Key.Key_End: "end", Qt.Key.Key_PageUp: "pageup", Qt.Key.Key_PageDown: "pagedown",
    Qt.Key.Key_Insert: "insert", Qt.Key.Key_Delete: "delete", Qt.Key.Key_Backspace: "backspace",
    Qt.Key.Key_Tab: "tab", Qt.Key.Key_Backtab: "backtab", Qt.Key.Key_Return: "enter", Qt.Key.Key_Enter: "enter",
    Qt.Key.Key_Escape: "escape",
    **{getattr(Qt.Key, f"Key_F{i}"): f"f{i}" for i in range(1, 13)},
}
# Ctrl+<key> that stay with the window even while the terminal has the focus.
WINDOW_KEYS = {Qt.Key.Key_QuoteLeft, Qt.Key.Key_P, Qt.Key.Key_Q, Qt.Key.Key_Tab, Qt.Key.Key_Backtab,
               Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}
WHEEL_ROWS = 3


class TerminalView(QWidget):
    """Paints ``model`` (a ``ScreenModel``); ``session`` (optional: None for a read-only view)
    receives the keys. Call ``pull()`` on the GUI thread when the model says it changed."""

    linkActivated = Signal(object)        # marie.terminal.links.Link, plus .row_id set by the panel
    findRequested = Signal()
    sizeChanged = Signal(int, int)        # (lines, columns) in cells
    scrolled = Signal()                   # the first visible row or the scrollback size changed

    def __init__(self, model: Any, session: Any = None, font: QFont | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.session = session
        # called before each look at the model, so the next change notifies again
        self.acknowledge = session.acknowledge if session is not None else None
        self.colors = TerminalColors()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.IBeamCursor)
        self._top: int | None = None                  # first visible row id; None: follow the bottom
        self._cache: dict[int, list] = {}
        self._selection: tuple[tuple[int, int], tuple[int, int]] | None = None
        self._press: tuple[int, int] | None = None
        self.highlights: list[Any] = []               # search matches (row_id, start, end)
        self.current_highlight: Any = None
        self._cursor_row = 0                          # screen row the cursor was painted on
        self.pulls = 0                                # how many pulls ran (tests, the bench)
        self.set_font(font or QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        unsubscribe = themes.on_theme_changed(self._theme_changed)
        self.destroyed.connect(lambda *_: unsubscribe())

    def _theme_changed(self, _theme: Any) -> None:
        if Shiboken.isValid(self):
            self.colors.refresh()
            self.update()

    # ---------------------------------------------------------------- geometry
    def set_font(self, font: QFont) -> None:
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFixedPitch(True)
        self._fonts: dict[tuple[bool, bool, bool, bool], QFont] = {}
        self._base_font = font
        metrics = QFontMetricsF(font)
        self.cell_w = max(1.0, metrics.horizontalAdvance("M"))
        self.cell_h = float(math.ceil(metrics.height()))
        self.ascent = metrics.ascent()
        self.setFont(font)
        self._cache.clear()
        self._fit()
        self.update()

    def _font(self, bold: bool, italic: bool, underline: bool, strike: bool) -> QFont:
        key = (bold, italic, underline, strike)
        font = self._fonts.get(key)
        if font is None:
            font = QFont(self._base_font)
            font.setBold(bold)
            font.setItalic(italic)
            font.setUnderline(underline)
            font.setStrikeOut(strike)
            self._fonts[key] = font
        return font

    def cells(self) -> tuple[int, int]:
        """(lines, columns) that fit in the widget."""
        return max(2, int(self.height() // self.cell_h)), max(10, int(self.width() // self.cell_w))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        self._fit()

    def _fit(self) -> None:
        if not self.isVisible():          # a hidden tab's size means nothing: keep the last one
            return
        lines, columns = self.cells()
        if self.session is not None:
            self.session.resize(lines, columns)
        else:
            self.model.resize(lines, columns)
        self._cache.clear()
        self.sizeChanged.emit(lines, columns)

    # ---------------------------------------------------------------- scrolling
    def top_id(self) -> int:
        bottom = self.model.bottom_id()
        if self._top is None:
            return bottom
        return max(self.model.first_id(), min(self._top, bottom))

    @property
    def following(self) -> bool:
        return self._top is None

    def scroll_to(self, row_id: int | None) -> None:
        """Show from ``row_id`` (None or the screen's first row: follow the bottom)."""
        bottom = self.model.bottom_id()
        self._top = None if row_id is None or row_id >= bottom else max(self.model.first_id(), row_id)
        self.update()
        self.scrolled.emit()

    def scroll_by(self, rows: int) -> None:
        self.scroll_to(self.top_id() + rows)

    def reveal(self, row_id: int) -> None:
        """Scroll so that ``row_id`` is visible (a search match)."""
        top, lines = self.top_id(), self.cells()[0]
        if not top <= row_id < top + lines:
            self.scroll_to(max(self.model.first_id(), row_id - lines // 2))

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.scroll_by(-int(round(steps * WHEEL_ROWS)) or (-1 if steps > 0 else 1))
        event.accept()

    # ---------------------------------------------------------------- updates from the model
    def pull(self) -> None:
        """Take what changed in the model and repaint those rows (GUI thread)."""
        if self.acknowledge is not None:
            self.acknowledge()
        dirty, moved = self.model.take_dirty()
        self.pulls += 1
        if moved:
            self._cache.clear()
            self.update()
            self.scrolled.emit()
            return
        if not dirty or not self.following:
            return
        bottom = self.model.bottom_id()
        for y in dirty:
            self._cache.pop(bottom + y, None)
        cursor_y = self.model.cursor()[0]
        rows = set(dirty) | {cursor_y, self._cursor_row}
        self._cursor_row = cursor_y
        first, last = min(rows), max(rows)
        self.update(QRect(0, int(first * self.cell_h), self.width(), int((last - first + 1) * self.cell_h) + 1))

    def _runs(self, row_id: int) -> list:
        runs = self._cache.get(row_id)
        if runs is None:
            if len(self._cache) > 2000:
                self._cache.clear()
            runs = self._cache[row_id] = self.model.rows(row_id, 1)[0]
        return runs

    # ---------------------------------------------------------------- painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        colors = self.colors
        rect = event.rect()
        painter.fillRect(rect, colors.background)
        top = self.top_id()
        lines = self.cells()[0]
        first = max(0, int(rect.top() // self.cell_h))
        last = min(lines - 1, int(rect.bottom() // self.cell_h))
        cw, ch = self.cell_w, self.cell_h
        for r in range(first, last + 1):
            row_id = top + r
            y = r * ch
            for col, text, attrs in self._runs(row_id):
                fg, bg = colors.fg(attrs.fg), colors.bg(attrs.bg)
                if attrs.reverse:
                    fg, bg = (bg or colors.background), fg
                x = col * cw
                if bg is not None:
                    painter.fillRect(QRectF(x, y, len(text) * cw, ch), bg)
                if text.strip():
                    painter.setFont(self._font(attrs.bold, attrs.italics, attrs.underscore, attrs.strikethrough))
                    painter.setPen(fg)
                    painter.drawText(QPointF(x, y + self.ascent), text)
            self._paint_marks(painter, row_id, y)
        self._paint_cursor(painter, top)
        painter.end()

    def _paint_marks(self, painter: QPainter, row_id: int, y: float) -> None:
        cw, ch = self.cell_w, self.cell_h
        for match in self.highlights:
            if match.row_id == row_id:
                color = self.colors.selection if match == self.current_highlight else self.colors.find_match
                painter.fillRect(QRectF(match.start * cw, y, (match.end - match.start) * cw, ch), _alpha(color, 140))
        span = self._selection_span(row_id)
        if span is not None:
            start, end = span
            painter.fillRect(QRectF(start * cw, y, (end - start) * cw, ch), _alpha(self.colors.selection, 150))

    def _paint_cursor(self, painter: QPainter, top: int) -> None:
        y, x, hidden = self.model.cursor()
        row = self.model.bottom_id() + y - top
        if hidden or not 0 <= row < self.cells()[0]:
            return
        r = QRectF(x * self.cell_w, row * self.cell_h, self.cell_w, self.cell_h)
        if self.hasFocus():
            painter.fillRect(r, _alpha(self.colors.cursor, 160))
        else:
            painter.setPen(self.colors.cursor)
            painter.drawRect(r.adjusted(0.5, 0.5, -0.5, -0.5))

    # ---------------------------------------------------------------- text access (tests, find, links)
    def visible_text(self) -> list[str]:
        """The rows as painted now, as text (trailing blanks stripped)."""
        top, lines = self.top_id(), self.cells()[0]
        return [self.model.row_text(top + r).rstrip() for r in range(lines)]

    def cell_at(self, x: float, y: float) -> tuple[int, int]:
        """(row id, column) under a point of the widget."""
        return self.top_id() + max(0, int(y // self.cell_h)), max(0, int(x // self.cell_w))

    def link_at(self, row_id: int, column: int) -> Link | None:
        text = self.model.row_text(row_id)
        return next((link for link in find_links(text) if link.start <= column < link.end), None)

    # ---------------------------------------------------------------- selection and clipboard
    def _selection_span(self, row_id: int) -> tuple[int, int] | None:
        if self._selection is None:
            return None
        (r0, c0), (r1, c1) = sorted(self._selection)
        if not r0 <= row_id <= r1:
            return None
        start = c0 if row_id == r0 else 0
        end = c1 if row_id == r1 else self.model.size[1]
        return (start, end) if end > start else None

    def selected_text(self) -> str:
        if self._selection is None:
            return ""
        (r0, _), (r1, _) = sorted(self._selection)
        out = []
        for row_id in range(r0, r1 + 1):
            span = self._selection_span(row_id)
            if span is not None:
                out.append(self.model.row_text(row_id)[span[0]:span[1]].rstrip())
        return "\n".join(out)

    def select(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        self._selection = (start, end)
        self.update()

    def copy(self) -> bool:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        return bool(text)

    def paste(self) -> None:
        text = QGuiApplication.clipboard().text()
        if text and self.session is not None:
            self._to_bottom()
            self.session.paste(text)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus()
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = self.cell_at(event.position().x(), event.position().y())
            if self._selection is not None:
                self._selection = None
                self.update()
        elif event.button() == Qt.MouseButton.MiddleButton:
            self.paste()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        cell = self.cell_at(event.position().x(), event.position().y())
        if self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.select(self._press, cell)
            return
        link = self.link_at(*cell)
        self.setCursor(Qt.CursorShape.PointingHandCursor if link else Qt.CursorShape.IBeamCursor)
        self.setToolTip("Ctrl+click to open" if link else "")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        cell = self.cell_at(event.position().x(), event.position().y())
        press, self._press = self._press, None
        if event.button() != Qt.MouseButton.LeftButton or press is None:
            return
        if press == cell and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            link = self.link_at(*cell)
            if link is not None:
                self.linkActivated.emit(link)

    # ---------------------------------------------------------------- keys
    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 - Tab belongs to the shell
        return False

    def event(self, event: Any) -> bool:
        if event.type() == event.Type.ShortcutOverride and isinstance(event, QKeyEvent) and self._keeps(event):
            event.accept()
            return True
        return super().event(event)

    def _keeps(self, event: QKeyEvent) -> bool:
        """Whether a key that is also a window shortcut goes to the terminal instead."""
        mods = event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        key = event.key()
        if not ctrl:
            return True
        if shift:
            return key in (Qt.Key.Key_C, Qt.Key.Key_V)
        return key not in WINDOW_KEYS

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        mods = event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        key = event.key()
        if ctrl and shift and key == Qt.Key.Key_C:
            self.copy()
            return
        if ctrl and shift and key == Qt.Key.Key_V:
            self.paste()
            return
        if ctrl and not shift and key == Qt.Key.Key_F:
            self.findRequested.emit()
            return
        if shift and not ctrl and key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            lines = self.cells()[0]
            self.scroll_by(-lines if key == Qt.Key.Key_PageUp else lines)
            return
        if self.session is None or self.session.exited:
            event.ignore()
            return
        name = _NAMED_KEYS.get(key, "")
        text = event.text()
        if ctrl and not name and Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
            text = chr(key)
        elif ctrl and not name and text and ord(text[0]) < 0x20:
            text = chr(ord(text[0]) + 0x40)          # some platforms give the control character itself
        data = encode_key(name, text, shift=shift, alt=alt, ctrl=ctrl, app_cursor=self.session.app_cursor_keys)
        if not data:
            event.ignore()
            return
        self._to_bottom()
        self.session.write(data)

    def inputMethodEvent(self, event: Any) -> None:  # noqa: N802
        if event.commitString() and self.session is not None:
            self._to_bottom()
            self.session.write(event.commitString().encode("utf-8"))

    def _to_bottom(self) -> None:
        if self._selection is not None:
            self._selection = None
            self.update()
        if not self.following:
            self.scroll_to(None)

    def focusInEvent(self, event: Any) -> None:  # noqa: N802
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: Any) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.update()


def _alpha(color: Any, alpha: int) -> Any:
    from PySide6.QtGui import QColor

    c = QColor(color)
    c.setAlpha(alpha)
    return c
