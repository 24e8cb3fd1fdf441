"""The Problems panel: every diagnostic the language servers published, for the whole workspace,
grouped by file (errors first). Double-click opens the file at the problem. Creating the panel also
installs the editor bridge (``marie.ui.lsp_bridge``). GUI thread only; it follows the
``lsp.diagnostics`` event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from shiboken6 import Shiboken

from marie.ui.panels import PanelSpec

_ORDER = {"error": 0, "warning": 1, "information": 2, "hint": 3}
_ICON = {"error": "\u2716", "warning": "\u26a0", "information": "\u2139", "hint": "\u2139"}


class ProblemsPanel(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.app = window.app
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("No problems", self)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Problem", "Source", "Position"])
        self.tree.setRootIsDecorated(True)
        self.tree.itemActivated.connect(self._open)
        self.tree.itemDoubleClicked.connect(self._open)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        self._unsubscribe = self.app.events.subscribe("lsp.diagnostics", self._changed)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self.refresh()

    def _changed(self, **_: Any) -> None:
        if not Shiboken.isValid(self):   # deleted by Qt: stop listening
            self._unsubscribe()
            return
        self.refresh()

    def refresh(self) -> None:
        """Rebuild from ``app.lsp.diagnostics()`` (cheap: only files with problems)."""
        try:
            all_diags = self.app.lsp.diagnostics()
        except Exception:
            all_diags = {}
        self.tree.clear()
        errors = warnings = other = 0
        ordered = sorted(all_diags.items(), key=lambda kv: (min(_ORDER.get(d.severity, 3) for d in kv[1]), str(kv[0])))
        for path, diagnostics in ordered:
            group = QTreeWidgetItem(self.tree, [f"{self._display(path)} ({len(diagnostics)})", "", ""])
            group.setExpanded(True)
            group.setData(0, Qt.ItemDataRole.UserRole, (str(path), 1, 1))
            for d in sorted(diagnostics, key=lambda d: (_ORDER.get(d.severity, 3), d.line, d.column)):
                item = QTreeWidgetItem(group, [f"{_ICON.get(d.severity, '')} {d.message}",
                                               d.source + (f" {d.code}" if d.code else ""), f"{d.line}:{d.column}"])
                item.setData(0, Qt.ItemDataRole.UserRole, (str(path), d.line, d.column))
                item.setToolTip(0, f"{d.severity}: {d.message}")
                if d.severity == "error":
                    errors += 1
                elif d.severity == "warning":
                    warnings += 1
                else:
                    other += 1
        total = errors + warnings + other
        self.summary.setText("No problems" if not total else
                             f"{errors} error(s), {warnings} warning(s), {other} other in {len(all_diags)} file(s)")

    def _display(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.app.root).as_posix()
        except ValueError:
            return str(path)

    def _open(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        target = item.data(0, Qt.ItemDataRole.UserRole)
        if target:
            path, line, column = target
            self.window.open_file(path, line, column)


def _factory(window: Any) -> QWidget:
    from marie.ui.lsp_bridge import install

    install(window)
    return ProblemsPanel(window)


PANEL = PanelSpec(id="problems", title="Problems", area="bottom", factory=_factory, shortcut="Ctrl+Shift+M", order=20)
