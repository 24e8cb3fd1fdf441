"""The project search panel (Ctrl+Shift+F): ripgrep results streamed in, grouped by file; a click
opens the match; replace in files with a checkable preview per match, applied through the single
write path. Searching and replacing run on the "search" worker; rows arrive through the dispatcher
in small batches so the GUI thread never blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from marie.core.tasks import CancelToken
from marie.index.search import SearchOptions, apply_replace, plan_replace
from marie.index.snapshot import display_path
from marie.ui.empty_state import EmptyState
from marie.ui.panels import PanelSpec

ROLE = Qt.ItemDataRole.UserRole


class SearchPanel(QWidget):
    searchFinished = Signal(object)      # SearchSummary (or an exception)
    previewReady = Signal(int)           # number of files in the replace preview
    replaceDone = Signal(object)         # ReplaceResult

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.app = window.app
        self.query = QLineEdit(self)
        self.query.setPlaceholderText("Search")
        self.replacement = QLineEdit(self)
        self.replacement.setPlaceholderText("Replace")
        self.regex = QCheckBox(".*", self)
        self.regex.setToolTip("Regular expression")
        self.case = QCheckBox("Aa", self)
        self.case.setToolTip("Match case")
        self.word = QCheckBox("W", self)
        self.word.setToolTip("Whole word")
        self.include = QLineEdit(self)
        self.include.setPlaceholderText("files to include (globs, comma separated)")
        self.exclude = QLineEdit(self)
        self.exclude.setPlaceholderText("files to exclude")
        self.search_button = QPushButton("Search", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.preview_button = QPushButton("Preview Replace", self)
        self.apply_button = QPushButton("Replace Checked", self)
        self.apply_button.setEnabled(False)
        self.results = QTreeWidget(self)
        self.results.setHeaderHidden(True)
        self.results.setUniformRowHeights(True)
        self.status = QLabel("", self)

        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        for box in (self.regex, self.case, self.word):
            row.addWidget(box)
        replace_row = QHBoxLayout()
        replace_row.addWidget(self.replacement, 1)
        replace_row.addWidget(self.preview_button)
        replace_row.addWidget(self.apply_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addLayout(replace_row)
        layout.addWidget(self.include)
        layout.addWidget(self.exclude)
        layout.addLayout(buttons)
        layout.addWidget(self.results, 1)
        self.empty = EmptyState("Search every file of the project: type a word or a regular expression above "
                                "and press Enter. Results open at their line; Replace previews before it writes.", self)
        layout.addWidget(self.empty, 1)
        self.empty.watch(self.results)
        layout.addWidget(self.status)

        self.query.returnPressed.connect(self.start_search)
        self.search_button.clicked.connect(self.start_search)
        self.cancel_button.clicked.connect(self.cancel)
        self.preview_button.clicked.connect(self.start_preview)
        self.apply_button.clicked.connect(self.apply_checked)
        self.results.itemActivated.connect(self._open_item)
        self.results.itemClicked.connect(self._open_item)
        self._token: CancelToken | None = None
        self._generation = 0
        self._queue: list = []
        self._previews: list = []
        self._flush = QTimer(self)
        self._flush.setInterval(30)
        self._flush.timeout.connect(self._drain)
        self.files_shown = 0
        self.matches_shown = 0

    def setFocus(self) -> None:  # type: ignore[override]
        self.query.setFocus()
        self.query.selectAll()

    def options(self) -> SearchOptions:
        split = lambda text: tuple(g.strip() for g in text.split(",") if g.strip())  # noqa: E731
        return SearchOptions(regex=self.regex.isChecked(), case_sensitive=self.case.isChecked(),
                             whole_word=self.word.isChecked(), include=split(self.include.text()),
                             exclude=split(self.exclude.text()))

    # -- searching ---------------------------------------------------------------------------------
    def start_search(self) -> None:
        pattern = self.query.text()
        self.cancel()
        self._generation += 1
        generation = self._generation
        self.results.clear()
        self._previews = []
        self.apply_button.setEnabled(False)
        self.files_shown = self.matches_shown = 0
        if not pattern:
            self.status.setText("")
            return
        token = self._token = CancelToken()
        self.cancel_button.setEnabled(True)
        self.status.setText("Searching\u2026")
        options = self.options()

        def job(ctx):
            # Worker: each file's matches go to the queue the GUI drains every 30 ms.
            return self.app.index.search(pattern, options,
                                         lambda found: self.app.dispatcher.post(self._enqueue, generation, found), token)

        self._flush.start()
        self.app.tasks.submit(job, name="search", worker="search", token=token,
                              on_done=lambda summary: self._finished(generation, summary),
                              on_error=lambda exc: self._finished(generation, exc))

    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()
        self.cancel_button.setEnabled(False)

    def _enqueue(self, generation: int, found) -> None:
        if generation == self._generation:
            self._queue.append(found)

    def _drain(self) -> None:
        batch, self._queue = self._queue[:200], self._queue[200:]
        for found in batch:
            self._add_file(found)

    def _add_file(self, found) -> None:
        # The engine may hand a file's lines in two parts (it shows a file as soon as rg's pipe is
        # empty): the second part joins the item of the first, which is always the latest one.
        last = self.results.topLevelItem(self.results.topLevelItemCount() - 1)
        if last is not None and last.data(0, ROLE)[0] == found.path:
            top = last
        else:
            top = QTreeWidgetItem([display_path(found.path)])
            top.setData(0, ROLE, (found.path, None, None))
            self.results.addTopLevelItem(top)
            top.setExpanded(True)
            self.files_shown += 1
        for match in found.matches:
            child = QTreeWidgetItem([f"{match.line}: {match.text.strip()[:200]}"])
            child.setData(0, ROLE, (found.path, match.line, match.column))
            top.addChild(child)
        top.setText(0, f"{display_path(found.path)}  ({top.childCount()})")
        self.matches_shown += len(found.matches)

    def _finished(self, generation: int, outcome) -> None:
        if generation != self._generation:
            return
        self._drain_all()
        self.cancel_button.setEnabled(False)
        if isinstance(outcome, BaseException):
            self.status.setText(str(outcome))
        else:
            more = " (limit reached)" if outcome.truncated else ""
            stopped = " (cancelled)" if outcome.cancelled else ""
            self.status.setText(f"{outcome.matches} matches in {outcome.files} files{more}{stopped}")
        self.searchFinished.emit(outcome)

    def _drain_all(self) -> None:
        while self._queue:
            self._drain()
        self._flush.stop()

    def _open_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        data = item.data(0, ROLE)
        if not data:
            return
        rel, line, column = data
        if line is None:
            return
        self.window_.open_file(Path(self.app.root) / rel, line, column)

    # -- replace -----------------------------------------------------------------------------------
    def start_preview(self) -> None:
        pattern, replacement = self.query.text(), self.replacement.text()
        if not pattern:
            return
        self.cancel()
        self._generation += 1
        generation = self._generation
        options = self.options()
        token = self._token = CancelToken()
        self.status.setText("Preparing the preview\u2026")
        self.app.tasks.submit(lambda ctx: plan_replace(self.app.index, pattern, replacement, options, token),
                              name="replace preview", worker="search", token=token,
                              on_done=lambda previews: self._show_preview(generation, previews),
                              on_error=lambda exc: self.status.setText(str(exc)))

    def _show_preview(self, generation: int, previews) -> None:
        if generation != self._generation:
            return
        self.results.clear()
        self._previews = previews
        count = 0
        for preview in previews:
            top = QTreeWidgetItem([f"{display_path(preview.path)}  ({len(preview.items)})"])
            top.setFlags(top.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
            top.setCheckState(0, Qt.CheckState.Checked)
            top.setData(0, ROLE, (preview.path, None, None))
            for item in preview.items:
                child = QTreeWidgetItem([f"{item.line}: {item.before.strip()}  \u2192  {item.after.strip()}"])
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                child.setCheckState(0, Qt.CheckState.Checked)
                child.setData(0, ROLE, (preview.path, item.line, item.column))
                child.setData(0, ROLE + 1, item.index)
                top.addChild(child)
                count += 1
            self.results.addTopLevelItem(top)
            top.setExpanded(True)
        self.apply_button.setEnabled(bool(previews))
        self.status.setText(f"{count} replacements in {len(previews)} files; uncheck any to keep")
        self.previewReady.emit(len(previews))

    def checked(self) -> dict[str, set[int]]:
        chosen: dict[str, set[int]] = {}
        for i in range(self.results.topLevelItemCount()):
            top = self.results.topLevelItem(i)
            rel = top.data(0, ROLE)[0]
            for j in range(top.childCount()):
                child = top.child(j)
                if child.checkState(0) == Qt.CheckState.Checked:
                    chosen.setdefault(rel, set()).add(child.data(0, ROLE + 1))
        return chosen

    def apply_checked(self) -> None:
        previews, chosen = self._previews, self.checked()
        pattern, replacement = self.query.text(), self.replacement.text()
        self.apply_button.setEnabled(False)

        def done(result) -> None:
            skipped = f"; skipped: {', '.join(result.skipped)}" if result.skipped else ""
            self.status.setText(f"Replaced {result.replaced} in {len(result.files)} files{skipped}")
            self.replaceDone.emit(result)

        def failed(exc) -> None:
            self.status.setText(f"Replace failed: {exc}")
            self.replaceDone.emit(exc)

        self.app.tasks.submit(lambda ctx: apply_replace(self.app, previews, pattern, replacement, chosen),
                              name="replace in files", worker="search", on_done=done, on_error=failed)


PANEL = PanelSpec("search", "Search", "left", SearchPanel, "Ctrl+Shift+F", order=20)
