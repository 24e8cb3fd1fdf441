"""The Problems panel: every diagnostic the language servers published, for the whole workspace,
grouped by file (errors first), updated file by file as the servers publish them (open files as
the user types, others after "Check Workspace"). Double-click opens the file at the problem.
(The editor side is the "lsp" editor feature, ``marie.ui.lsp``.) GUI thread only; it
follows the ``lsp.diagnostics`` event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from shiboken6 import Shiboken

from marie.core.event_types import LspDiagnostics
from marie.ui.empty_state import EmptyState
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
        self.empty = EmptyState("Problems lists the errors and warnings language servers find. Open a source "
                                "file, or run \u201cCheck Workspace (Problems)\u201d from the command palette to check "
                                "every file.", self)
        layout.addWidget(self.empty, 1)
        self.empty.watch(self.tree)
        self._groups: dict[Path, QTreeWidgetItem] = {}      # one top-level item per file with problems
        self._counts: dict[Path, tuple[int, int, int]] = {}  # (errors, warnings, other) per file
        self._unsubscribe = self.app.events.on(LspDiagnostics, lambda event: self._changed(event.path, list(event.diagnostics)))
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self.refresh()

    def _changed(self, path: Any = None, diagnostics: Any = None, **_: Any) -> None:
        """One file's diagnostics arrived (an open file as the user types, or a workspace check):
        only that file's group is rebuilt, so the rest of the list (and its selection) stays put."""
        if not Shiboken.isValid(self):   # deleted by Qt: stop listening
            self._unsubscribe()
            return
        if path is None or diagnostics is None:
            self.refresh()
            return
        self._show_file(Path(path), list(diagnostics))
        self._update_summary()

    def refresh(self) -> None:
        """Rebuild from ``app.lsp.diagnostics()`` (cheap: only files with problems)."""
        try:
            all_diags = self.app.lsp.diagnostics()
        except Exception:
            all_diags = {}
        self.tree.clear()
        self._groups.clear()
        self._counts.clear()
        for path, diagnostics in all_diags.items():
            self._show_file(Path(path), diagnostics)
        self._update_summary()

    def _show_file(self, path: Path, diagnostics: list) -> None:
        old = self._groups.pop(path, None)
        expanded = old.isExpanded() if old is not None else True
        selected = self._selected_target() if old is not None else None
        if old is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(old))
        self._counts.pop(path, None)
        if not diagnostics:
            return
        rank = min(_ORDER.get(d.severity, 3) for d in diagnostics)
        key = (rank, str(path))
        # errors first, then by path: insert before the first group that sorts after this one
        row = next((i for i in range(self.tree.topLevelItemCount())
                    if self._key(self.tree.topLevelItem(i)) > key), self.tree.topLevelItemCount())
        group = QTreeWidgetItem([f"{self._display(path)} ({len(diagnostics)})", "", ""])
        group.setData(0, Qt.ItemDataRole.UserRole, (str(path), 1, 1))
        group.setData(1, Qt.ItemDataRole.UserRole, key)
        errors = warnings = other = 0
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
        self.tree.insertTopLevelItem(row, group)
        group.setExpanded(expanded)
        self._groups[path] = group
        self._counts[path] = (errors, warnings, other)
        if selected is not None:
            for i in range(group.childCount()):
                if group.child(i).data(0, Qt.ItemDataRole.UserRole) == selected:
                    self.tree.setCurrentItem(group.child(i))
                    break

    @staticmethod
    def _key(item: QTreeWidgetItem) -> tuple:
        return tuple(item.data(1, Qt.ItemDataRole.UserRole) or (9, ""))

    def _selected_target(self) -> Any:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _update_summary(self) -> None:
        errors, warnings, other = (sum(c[i] for c in self._counts.values()) for i in range(3))
        total = errors + warnings + other
        self.summary.setText("No problems" if not total else
                             f"{errors} error(s), {warnings} warning(s), {other} other in {len(self._counts)} file(s)")

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
    return ProblemsPanel(window)


PANEL = PanelSpec(id="problems", title="Problems", area="bottom", factory=_factory, shortcut="Ctrl+Shift+M", order=20)
