"""The agent pane's step list and command output view. GUI thread only.

``StepList``: one row per model turn and per tool call (tool, arguments, status, folded result as a
child row, tokens and cost on the turn rows). ``OutputView``: command output as it streams; pieces
are buffered and drawn at most every 50 ms, and only the last ``keep`` characters are shown (the
whole output is in the step's result and the session), so a command printing megabytes never
stalls the window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTreeWidget, QTreeWidgetItem

CALL_ROLE = Qt.ItemDataRole.UserRole


class StepList(QTreeWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setHeaderLabels(["Step", "Status"])
        self.setColumnWidth(0, 380)
        self._calls: dict[str, QTreeWidgetItem] = {}

    def clear_steps(self) -> None:
        self.clear()
        self._calls.clear()

    def add_turn(self, step: int, text: str, calls: tuple[str, ...], tokens: str) -> None:
        label = f"[{step}] model" + (f": {text.strip()[:120]}" if text.strip() else "")
        if calls:
            label += f" -> {', '.join(calls)}"
        item = QTreeWidgetItem([label, tokens])
        item.setToolTip(0, text)
        self.addTopLevelItem(item)
        self.scrollToItem(item)

    def add_call(self, step: int, call_id: str, tool: str, arguments: str) -> None:
        item = QTreeWidgetItem([f"[{step}] {tool} {arguments[:160]}", "running…"])
        item.setData(0, CALL_ROLE, call_id)
        item.setToolTip(0, arguments)
        self.addTopLevelItem(item)
        self._calls[call_id] = item
        self.scrollToItem(item)

    def finish_call(self, call_id: str, ok: bool, summary: str, result: str, checkpoint: str) -> None:
        item = self._calls.get(call_id)
        if item is None:
            return
        item.setText(1, ("ok" if ok else "error") + (f" · {checkpoint}" if checkpoint else ""))
        folded = QTreeWidgetItem([summary or result[:120], ""])
        folded.setToolTip(0, result[:4000])
        detail = QTreeWidgetItem([result[:4000], ""])
        folded.addChild(detail)
        item.addChild(folded)

    def mark_undone(self, call_id: str) -> None:
        item = self._calls.get(call_id)
        if item is not None:
            item.setText(1, "undone")

    def call_item(self, call_id: str) -> QTreeWidgetItem | None:
        return self._calls.get(call_id)

    def current_call(self) -> str:
        item = self.currentItem()
        while item is not None and item.data(0, CALL_ROLE) is None:
            item = item.parent()
        return str(item.data(0, CALL_ROLE)) if item is not None else ""


class OutputView(QPlainTextEdit):
    def __init__(self, keep: int = 16_000, interval_ms: int = 50) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setFont(QFont("monospace"))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.keep = keep
        self._shown = 0
        self._pending: list[str] = []
        self._pending_size = 0
        self.received = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    def feed(self, text: str) -> None:
        """Queue a piece of output (drawn on the next tick)."""
        self.received += len(text)
        self._pending.append(text)
        self._pending_size += len(text)
        if self._pending_size > self.keep * 2:
            # Far more than is ever shown: keep only the tail.
            joined = "".join(self._pending)[-self.keep:]
            self._pending, self._pending_size = [joined], len(joined)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._pending:
            self._timer.stop()
            return
        text = "".join(self._pending)
        self._pending, self._pending_size = [], 0
        # Laying out a large document is what costs (hundreds of ms for 200 KB): the view holds at
        # most ``keep`` characters, replaced whole when a tick brings more than that.
        if len(text) >= self.keep or self._shown + len(text) > 2 * self.keep:
            tail = (self.toPlainText() + text)[-self.keep:] if len(text) < self.keep else text[-self.keep:]
            self.setPlainText(tail)
            self._shown = len(tail)
        else:
            cursor = self.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(text)
            self.setTextCursor(cursor)
            self._shown += len(text)
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.ensureCursorVisible()
