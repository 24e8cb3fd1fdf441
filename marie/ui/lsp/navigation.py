"""Go to definition / declaration / type definition / implementation and Find References (the
References dock), for ``LspBridge``. Jumps are recorded in the window's navigation history (the
window's ``open_file`` does it). GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem

from marie.lsp.types import Location

if TYPE_CHECKING:
    from marie.ui.lsp.editor_lsp import EditorLsp


class NavigationCommands:
    """Mixed into ``LspBridge``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def _with(self, fn: Callable[[EditorLsp], Any]) -> None:
        ed = self.current()
        if ed is None:
            self.window.show_message("No language server for this file")
            return
        fn(ed)

    def goto(self, kind: str = "definition") -> None:
        """Go to the definition (or declaration, typeDefinition, implementation) under the caret."""
        ed = self.current()
        if ed is None:
            return
        path = ed.path
        words = {"definition": "definition", "declaration": "declaration", "typeDefinition": "type definition",
                 "implementation": "implementation"}

        def arrive(locations: list[Location]) -> None:
            if not locations:
                self.window.show_message(f"No {words[kind]} found")
                return
            if len(locations) > 1:
                self.show_locations(locations, f"{len(locations)} {words[kind]}s")
            first = locations[0]
            self.window.open_file(first.path, first.line, first.column)

        ed.ask(lambda text, line, column: self.app.lsp.definition(path, line, column, text=text, kind=kind),
               arrive, name=f"go to {words[kind]}", same_version=False)

    def find_references(self) -> None:
        ed = self.current()
        if ed is None:
            return
        path = ed.path

        def arrive(locations: list[Location]) -> None:
            if not locations:
                self.window.show_message("No references found")
                return
            self.show_locations(locations, f"{len(locations)} reference(s)")

        ed.ask(lambda text, line, column: self.app.lsp.references(path, line, column, text=text), arrive,
               name="find references", same_version=False)

    def show_locations(self, locations: list[Location], title: str) -> QTreeWidget:
        """The References dock: one row per location, grouped by file; double-click opens it."""
        if self.references_dock is None:
            dock = QDockWidget("References", self.window)
            dock.setObjectName("dock.lsp_references")
            tree = QTreeWidget(dock)
            tree.setHeaderLabels(["Location", "Line"])
            tree.itemActivated.connect(self._open_item)
            tree.itemDoubleClicked.connect(self._open_item)
            dock.setWidget(tree)
            self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            self.references_dock, self.references = dock, tree
        tree = self.references
        assert tree is not None
        tree.clear()
        self.references_dock.setWindowTitle(f"References — {title}")
        groups: dict[Path, QTreeWidgetItem] = {}
        for loc in locations:
            group = groups.get(loc.path)
            if group is None:
                group = QTreeWidgetItem(tree, [self._display(loc.path), ""])
                group.setExpanded(True)
                groups[loc.path] = group
            item = QTreeWidgetItem(group, [self._line_preview(loc), f"{loc.line}:{loc.column}"])
            item.setData(0, Qt.ItemDataRole.UserRole, (str(loc.path), loc.line, loc.column))
        self.references_dock.show()
        self.references_dock.raise_()
        return tree

    def _display(self, path: Path) -> str:
        try:
            return path.relative_to(self.app.root).as_posix()
        except ValueError:
            return str(path)

    def _line_preview(self, loc: Location) -> str:
        try:
            text = self.app.lsp.lines_for(loc.path).line(loc.line - 1)
        except Exception:
            text = ""
        return text.strip()[:200] or f"{loc.path.name}:{loc.line}"

    def _open_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        target = item.data(0, Qt.ItemDataRole.UserRole)
        if target:
            path, line, column = target
            self.window.open_file(path, line, column)
