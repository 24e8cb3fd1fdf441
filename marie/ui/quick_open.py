"""Quick open (Ctrl+P) and the picker dialog it shares with the symbol pickers.

Each keystroke becomes a request on the "quickopen" worker; only the newest request is computed
(older ones still queued return at once) and only the newest answer is shown, so typing never
waits for matching and a slow answer never overwrites a newer one. GUI thread, except ``compute``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from marie.index.palette_rank import match_positions, positions_in_name
from marie.index.snapshot import display_path
from marie.ui.match_highlight import MatchDelegate, set_row


class PickerDialog(QDialog):
    """A filter box over a result list. Subclasses implement ``compute`` (worker) and ``choose``."""

    resultsShown = Signal(int)          # how many rows the newest answer put on screen
    worker = "quickopen"
    placeholder = ""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.app = window.app
        self.setWindowTitle(self.placeholder)
        self.setModal(False)
        self.resize(640, 420)
        self.query = QLineEdit(self)
        self.query.setPlaceholderText(self.placeholder)
        self.list = QListWidget(self)
        self.list.setItemDelegate(MatchDelegate(self.list))
        self.status = QLabel("", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.query)
        layout.addWidget(self.list)
        layout.addWidget(self.status)
        self._seq = 0
        self.shown_seq = 0
        self.query.textChanged.connect(self.request)
        self.query.returnPressed.connect(self.accept_current)
        self.list.itemActivated.connect(lambda item: self.accept_item(item))
        self.query.installEventFilter(self)

    # -- requests --------------------------------------------------------------------------------
    def request(self, text: str | None = None) -> None:
        """Ask the worker for results for the current text (GUI thread)."""
        self._seq += 1
        seq = self._seq
        query = self.query.text() if text is None else text

        def job(ctx):
            if seq != self._seq:
                return None                       # a newer keystroke is queued: skip this one
            return self.compute(query)

        self.app.tasks.submit(job, name="quick open", worker=self.worker,
                              on_done=lambda rows, s=seq, q=query: self._show(s, rows, q))

    def compute(self, query: str) -> list[tuple[str, str, Any]]:
        """(label, detail, payload) rows for ``query``. Runs on the worker."""
        raise NotImplementedError

    def highlight(self, item: QListWidgetItem, query: str, label: str, detail: str) -> None:
        """The row's look: matched characters in bold, the detail dimmed."""
        set_row(item, label, match_positions(query, label), detail)

    def _show(self, seq: int, rows, query: str = "") -> None:
        if rows is None or seq != self._seq:
            return                                 # stale answer: a newer one is coming
        self.shown_seq = seq
        self.list.clear()
        for label, detail, payload in rows:
            item = QListWidgetItem()
            self.highlight(item, query.strip(), label, detail)
            item.setData(Qt.ItemDataRole.UserRole, payload)
            item.setToolTip(detail or label)
            self.list.addItem(item)
        if rows:
            self.list.setCurrentRow(0)
        self.status.setText(f"{len(rows)} results" if rows else "no results")
        self.resultsShown.emit(len(rows))

    # -- choosing --------------------------------------------------------------------------------
    def accept_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.accept_item(item)

    def accept_item(self, item: QListWidgetItem) -> None:
        payload = item.data(Qt.ItemDataRole.UserRole)
        self.close()
        self.choose(payload)

    def choose(self, payload: Any) -> None:
        raise NotImplementedError

    def eventFilter(self, obj, event) -> bool:
        # Up/Down in the filter box move the selection in the list.
        from PySide6.QtCore import QEvent

        if obj is self.query and event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
            if 0 <= row < self.list.count():
                self.list.setCurrentRow(row)
            return True
        return super().eventFilter(obj, event)

    def open(self) -> None:  # type: ignore[override]
        self.show()
        self.raise_()
        self.query.setFocus()
        self.query.selectAll()
        self.request()


class QuickOpenDialog(PickerDialog):
    placeholder = "Go to file (name, path, or name:line)"

    def compute(self, query: str):
        return [(display_path(m.path).rsplit("/", 1)[-1], display_path(m.path).rpartition("/")[0],
                 (m.path, m.line, m.column))
                for m in self.app.index.find(query, limit=60)]

    def highlight(self, item: QListWidgetItem, query: str, label: str, detail: str) -> None:
        """The file name with its matched characters in bold, its folder dimmed after it."""
        query = query.split(":", 1)[0]             # "name:line" matches the name part
        path = f"{detail}/{label}" if detail else label
        in_name, in_folder = positions_in_name(query, path)
        set_row(item, label, in_name, detail, in_folder)

    def choose(self, payload) -> None:
        rel, line, column = payload
        self.app.index.note_opened(rel)
        self.window_.open_file(Path(self.app.root) / rel, line, column)


def show_quick_open(window: Any) -> QuickOpenDialog:
    """Open (or reuse) the window's quick-open dialog."""
    dialog = window.findChild(QuickOpenDialog) or QuickOpenDialog(window)   # one per window
    dialog.open()
    return dialog
