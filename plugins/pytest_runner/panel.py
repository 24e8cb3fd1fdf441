"""The Tests panel (GUI thread): Run, the results list, jump to a failure, Fix with the agent."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from .runner import RunResult, fix_prompt, run_pytest

MARKS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"}


class TestsPanel(QWidget):
    def __init__(self, window: Any, api: Any) -> None:
        super().__init__()
        self.setObjectName("panel.tests")
        self.window = window
        self.api = api
        self.last: RunResult | None = None
        self.task = None
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.status = QLabel("Run the project's tests with pytest; failures are listed here.")
        self.status.setWordWrap(True)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.fix_button = QPushButton("Fix with the agent")
        self.fix_button.setEnabled(False)
        self.fix_button.clicked.connect(self.fix)
        row.addWidget(self.status, 1)
        row.addWidget(self.run_button)
        row.addWidget(self.fix_button)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.itemActivated.connect(self._open)
        self.list.currentItemChanged.connect(lambda *_: self._selection())
        layout.addWidget(self.list)

    def run(self) -> None:
        if self.task is not None:
            return
        app = self.window.app
        command = str(self.api.setting("command") or "")
        args = [str(a) for a in (self.api.setting("args") or [])]
        self.status.setText("Running pytest…")
        self.run_button.setEnabled(False)
        self.task = app.tasks.submit(lambda ctx: run_pytest(app.root, command, args, cancel=ctx.token),
                                     name="pytest", on_done=self._show, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.run_button.setEnabled(True)
        self.status.setText(f"pytest could not run: {exc}")

    def _show(self, result: RunResult) -> None:
        self.task = None
        self.last = result
        self.run_button.setEnabled(True)
        self.list.clear()
        # Failures first: they are what the user came for.
        ordered = sorted(result.results, key=lambda r: (r.outcome not in ("failed", "error"), r.nodeid))
        for test in ordered:
            where = f"  ({test.path}:{test.line})" if test.path else ""
            item = QListWidgetItem(f"{MARKS.get(test.outcome, '?')} {test.nodeid}{where}"
                                   + (f" — {test.message}" if test.message else ""))
            item.setData(Qt.ItemDataRole.UserRole, test)
            self.list.addItem(item)
        counts = result.counts()
        if not result.results:
            self.status.setText(f"pytest found no tests (exit code {result.exit_code}).")
        else:
            self.status.setText(", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
                                + f" in {result.seconds:.1f} s")
        self._selection()

    def _selected(self) -> Any:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _selection(self) -> None:
        test = self._selected()
        self.fix_button.setEnabled(test is not None and test.outcome in ("failed", "error"))

    def _open(self, item: QListWidgetItem) -> None:
        test = item.data(Qt.ItemDataRole.UserRole)
        if test.path:
            self.window.open_file(self.window.app.root / test.path, test.line or None)

    def fix(self) -> None:
        test = self._selected()
        if test is None or self.last is None:
            return
        agent = self.window.show_panel("agent")
        prompt = fix_prompt(test, self.last.output)
        if agent is not None and hasattr(agent, "start_task"):
            agent.start_task(prompt)
        else:
            self.window.show_message("The agent panel is not available; the task was copied to the clipboard",
                                     "warning")
            from PySide6.QtWidgets import QApplication

            QApplication.clipboard().setText(prompt)
