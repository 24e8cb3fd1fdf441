"""The Outline panel: the current editor's document symbols (classes, functions, variables) as a
tree from the language server; click to jump. Refreshes when the current tab changes and shortly
after edits. GUI thread only; the symbols are fetched on a worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from marie.ui.empty_state import EmptyState
from marie.ui.panels import PanelSpec


class OutlinePanel(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.app = window.app
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("No symbols", self)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Symbol", "Kind"])
        self.tree.itemActivated.connect(self._open)
        self.tree.itemClicked.connect(self._open)
        layout.addWidget(self.label)
        layout.addWidget(self.tree, 1)
        self.empty = EmptyState("Outline shows the classes, functions and variables of the current file. Open a "
                                "source file (Ctrl+P) and its symbols appear here; click one to jump to it.", self)
        layout.addWidget(self.empty, 1)
        self.empty.watch(self.tree)
        self.symbols: list = []
        self._generation = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(700)
        self._timer.timeout.connect(self.refresh)
        features = getattr(window, "features", None)      # (a test host may have none)
        self.features = features
        self.bridge = features.state("lsp") if features is not None else None
        if self.bridge is not None:
            self.bridge.documentChanged.connect(lambda editor: editor is window.current_editor() and self._timer.start())
        tabs = getattr(window, "tabs", None)
        if tabs is not None:
            tabs.currentChanged.connect(lambda *_: self._timer.start(50))

    def refresh(self) -> None:
        """Ask for the current editor's symbols (answer shown when it arrives)."""
        editor = self.window.current_editor()
        self._generation += 1
        generation = self._generation
        if editor is None or not getattr(editor, "path", None):
            self._show(None, [])
            return
        path = Path(editor.path).resolve()
        lsp = self.features.get("lsp", editor) if self.features is not None else None
        # the bridge's stamped text: an older outline request cannot roll the server's text back
        text = lsp.snapshot() if lsp is not None else editor.text()

        def done(symbols: list) -> None:
            if generation == self._generation:
                self._show(path, symbols)

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._show(path, [])
                self.label.setText(f"No outline: {exc}")

        self.app.tasks.submit(lambda _ctx: self.app.lsp.document_symbols(path, text=text), name="lsp outline",
                              on_done=done, on_error=failed)

    def _show(self, path: Path | None, symbols: list) -> None:
        self.symbols = symbols
        self.tree.clear()
        self.path = path

        def add(parent: Any, symbol: Any) -> None:
            item = QTreeWidgetItem(parent, [symbol.name, symbol.kind])
            item.setData(0, Qt.ItemDataRole.UserRole, (symbol.range.line, symbol.range.column))
            for child in symbol.children:
                add(item, child)
            item.setExpanded(True)

        for symbol in symbols:
            add(self.tree, symbol)
        self.label.setText(f"{path.name}: {len(symbols)} symbol(s)" if path else "No symbols")

    def _open(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        target = item.data(0, Qt.ItemDataRole.UserRole)
        if target and self.path is not None:
            self.window.open_file(self.path, target[0], target[1])


PANEL = PanelSpec(id="outline", title="Outline", area="right", factory=OutlinePanel, shortcut="Ctrl+Shift+O", order=40)
