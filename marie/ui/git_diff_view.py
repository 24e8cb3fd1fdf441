"""A per-file git diff view: inline or side by side (ScintillaEdit), with hunk and line actions.

Shows one ``FileDiff`` (working tree vs index, index vs HEAD, or a commit). Its buttons act on the
hunk under the caret or the selected lines: stage / unstage / discard, each queued on the git worker
through ``app.git``; the view reloads the diff when the answer comes back. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget
from pyside6_scintilla import ScintillaEdit

from marie.git.model import DiffLine, FileDiff

ADDED, REMOVED, HEADER, FILLER = 20, 21, 22, 23
_COLOURS = {ADDED: 0xD4F5DC, REMOVED: 0xD8D8FC, HEADER: 0xF5E8DC, FILLER: 0xEEEEEE}  # BGR


def _make_sci(parent: QWidget) -> ScintillaEdit:
    sci = ScintillaEdit(parent)
    sci.setCodePage(65001)
    sci.setReadOnly(True)
    sci.setMarginWidthN(1, 0)
    sci.setMarginTypeN(0, 1)
    sci.setMarginWidthN(0, 40)
    sci.styleSetFont(32, "Monospace")  # STYLE_DEFAULT
    sci.styleClearAll()
    for marker, colour in _COLOURS.items():
        sci.markerDefine(marker, 22)  # SC_MARK_BACKGROUND
        sci.markerSetBack(marker, colour)
    return sci


def _set_text(sci: ScintillaEdit, text: str) -> None:
    sci.setReadOnly(False)
    sci.clearAll()
    sci.appendText(len(text.encode("utf-8")), text)
    sci.setReadOnly(True)
    sci.markerDeleteAll(-1)


def sci_text(sci: ScintillaEdit) -> str:
    length = sci.textLength()
    return bytes(sci.getText(length + 1)).rstrip(b"\0").decode("utf-8", "replace") if length else ""


class GitDiffView(QWidget):
    """Diff of one file. ``show_diff(diff, mode)``; mode "unstaged" | "staged" | "commit"."""

    changed = Signal()          # the index or the file changed through one of the buttons
    message = Signal(str, str)  # text, level: for the window's status line

    def __init__(self, app: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.diff: FileDiff | None = None
        self.mode = "unstaged"
        self.rows: list[tuple[int, DiffLine | None]] = []  # per inline line: (hunk index, line or header)

        self.title = QLabel("No file selected")
        self.layout_combo = QComboBox()
        self.layout_combo.addItems(["Inline", "Side by side"])
        self.layout_combo.currentIndexChanged.connect(lambda _i: self._render())
        self.stage_hunk_button = QPushButton("Stage hunk")
        self.stage_lines_button = QPushButton("Stage lines")
        self.discard_hunk_button = QPushButton("Discard hunk")
        self.stage_hunk_button.clicked.connect(lambda: self._act("hunk"))
        self.stage_lines_button.clicked.connect(lambda: self._act("lines"))
        self.discard_hunk_button.clicked.connect(self._discard_hunk)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        for widget in (self.stage_hunk_button, self.stage_lines_button, self.discard_hunk_button, self.layout_combo):
            bar.addWidget(widget)

        self.inline = _make_sci(self)
        self.left = _make_sci(self)
        self.right = _make_sci(self)
        self.split = QSplitter(self)
        self.split.addWidget(self.left)
        self.split.addWidget(self.right)
        self.split.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.inline, 1)
        layout.addWidget(self.split, 1)
        self._update_buttons()

    # -- showing --------------------------------------------------------------------------------
    def show_diff(self, diff: FileDiff | None, mode: str = "unstaged") -> None:
        self.diff, self.mode = diff, mode
        self._render()

    def set_side_by_side(self, on: bool) -> None:
        self.layout_combo.setCurrentIndex(1 if on else 0)

    def _render(self) -> None:
        diff = self.diff
        side = self.layout_combo.currentIndex() == 1
        self.inline.setVisible(not side)
        self.split.setVisible(side)
        self.rows = []
        if diff is None:
            self.title.setText("No file selected")
            _set_text(self.inline, "")
            _set_text(self.left, "")
            _set_text(self.right, "")
            self._update_buttons()
            return
        what = {"unstaged": "working tree vs staged", "staged": "staged vs HEAD", "commit": "commit"}[self.mode]
        self.title.setText(f"{diff.path} — {what}  (+{diff.additions} −{diff.deletions})")
        if diff.binary:
            _set_text(self.inline, "Binary file: no text diff.")
            _set_text(self.left, "")
            _set_text(self.right, "")
            self._update_buttons()
            return
        # inline
        out: list[str] = []
        markers: list[int | None] = []
        for index, hunk in enumerate(diff.hunks):
            out.append(hunk.header)
            markers.append(HEADER)
            self.rows.append((index, None))
            for line in hunk.lines:
                out.append(line.kind + line.text)
                markers.append({"+": ADDED, "-": REMOVED}.get(line.kind))
                self.rows.append((index, line))
        _set_text(self.inline, "\n".join(out))
        for row, marker in enumerate(markers):
            if marker is not None:
                self.inline.markerAdd(row, marker)
        # side by side: old on the left, new on the right, aligned with filler lines
        left: list[tuple[str, int | None]] = []
        right: list[tuple[str, int | None]] = []
        for hunk in diff.hunks:
            left.append((hunk.header, HEADER))
            right.append((hunk.header, HEADER))
            dels: list[DiffLine] = []
            adds: list[DiffLine] = []

            def flush() -> None:
                for i in range(max(len(dels), len(adds))):
                    left.append((dels[i].text, REMOVED) if i < len(dels) else ("", FILLER))
                    right.append((adds[i].text, ADDED) if i < len(adds) else ("", FILLER))
                dels.clear()
                adds.clear()

            for line in hunk.lines:
                if line.kind == "-":
                    dels.append(line)
                elif line.kind == "+":
                    adds.append(line)
                else:
                    flush()
                    left.append((line.text, None))
                    right.append((line.text, None))
            flush()
        for sci, rows in ((self.left, left), (self.right, right)):
            _set_text(sci, "\n".join(text for text, _ in rows))
            for row, (_, marker) in enumerate(rows):
                if marker is not None:
                    sci.markerAdd(row, marker)
        self._update_buttons()

    def _update_buttons(self) -> None:
        editable = self.diff is not None and not self.diff.binary and bool(self.diff.hunks) and self.mode != "commit"
        staged = self.mode == "staged"
        self.stage_hunk_button.setText("Unstage hunk" if staged else "Stage hunk")
        self.stage_lines_button.setText("Unstage lines" if staged else "Stage lines")
        for button in (self.stage_hunk_button, self.stage_lines_button):
            button.setEnabled(editable)
        self.discard_hunk_button.setEnabled(editable and not staged)

    # -- selection -> hunks and lines -------------------------------------------------------------
    def current_hunk_index(self) -> int | None:
        if not self.rows:
            return None
        row = self.inline.lineFromPosition(self.inline.currentPos())
        return self.rows[min(row, len(self.rows) - 1)][0]

    def selected_keys(self) -> set[tuple[str, int]]:
        """Changed-line keys under the inline selection (or the caret line)."""
        if not self.rows:
            return set()
        first = self.inline.lineFromPosition(self.inline.selectionStart())
        last = self.inline.lineFromPosition(self.inline.selectionEnd())
        keys = set()
        for row in range(first, min(last, len(self.rows) - 1) + 1):
            line = self.rows[row][1]
            if line is not None and line.key:
                keys.add(line.key)
        return keys

    def select_rows(self, first: int, last: int) -> None:
        """Select inline rows ``first..last`` (0-based) — what a user's drag does."""
        start = self.inline.positionFromLine(first)
        end = self.inline.lineEndPosition(last)
        self.inline.setSel(start, end)

    # -- actions ------------------------------------------------------------------------------------
    def _act(self, what: str) -> None:
        diff = self.diff
        if diff is None:
            return
        if what == "hunk":
            index = self.current_hunk_index()
            if index is None:
                return
            keys = sorted(diff.hunks[index].keys())
        else:
            keys = sorted(self.selected_keys())
            if not keys:
                self.message.emit("Select changed lines first", "warning")
                return
        op = self.app.git.unstage_lines if self.mode == "staged" else self.app.git.stage_lines
        op(diff.path, keys, on_done=lambda _r: self._reload(), on_error=self._failed)

    def _discard_hunk(self) -> None:
        diff, index = self.diff, self.current_hunk_index()
        if diff is None or index is None:
            return
        self.app.git.discard_hunk(diff.path, diff.hunks[index], on_done=lambda _r: self._reload(),
                                  on_error=self._failed)

    def _reload(self) -> None:
        self.changed.emit()
        if self.diff is None:
            return
        path = self.diff.path
        self.app.git.file_diff(path, staged=self.mode == "staged",
                               on_done=lambda d: self.show_diff(d, self.mode), on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.message.emit(str(exc), "error")
