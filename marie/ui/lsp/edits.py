"""Rename symbol (a workspace edit written through ``app.writes``, checkpointed), format document
or selection, code actions, and reloading the editors the write path changed; for ``LspBridge``.
GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QInputDialog, QMenu

from marie.lsp.types import Range, TextEdit


class EditCommands:
    """Mixed into ``LspBridge``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def rename(self, new_name: str | None = None) -> None:
        """Rename the symbol under the caret in every file (asks for the name when not given)."""
        ed = self.current()
        if ed is None:
            return
        sci = ed.sci
        pos = sci.currentPos()
        old = bytes(sci.textRange(sci.wordStartPosition(pos, True), sci.wordEndPosition(pos, True))).decode("utf-8", "replace")
        if new_name is None:
            new_name, ok = QInputDialog.getText(self.window, "Rename Symbol", f"Rename {old!r} to:", text=old)
            if not ok:
                return
        new_name = new_name.strip()
        if not new_name or new_name == old:
            return
        path = ed.path
        label = f"rename {old} to {new_name}"

        def work(text: str, line: int, column: int) -> Any:
            edit = self.app.lsp.rename(path, line, column, new_name, text=text)
            if not edit:
                from marie.lsp.service import LspError
                raise LspError(f"nothing to rename at {line}:{column}")
            return self.app.lsp.apply_workspace_edit(edit, label)

        def written(result: Any) -> None:
            self.reload_written(result.written)
            files = len(result.written)
            self.window.show_message(f"Renamed {old} to {new_name} in {files} file(s) (checkpoint {result.checkpoint_id})")
            self.last_rename = result

        text = ed._latest = ed.snapshot()
        line, column = ed.editor.cursor_position()
        self.request(lambda: work(text, line, column), written, name="rename", quiet=False)

    def reload_written(self, rel_paths: list[str]) -> None:
        """Editors showing files the write path just changed take the new text (one undo step)."""
        targets = {(self.app.root / rel).resolve() for rel in rel_paths}
        for editor in self.window.editors():
            if editor.path and Path(editor.path).resolve() in targets:
                try:
                    editor.reload()
                except Exception as exc:
                    self.window.show_message(f"Could not reload {Path(editor.path).name}: {exc}", "warning")

    def format(self) -> None:
        """Format the selection when there is one, else the whole document."""
        ed = self.current()
        if ed is None:
            return
        sci = ed.sci
        path = ed.path
        tab = sci.tabWidth()
        spaces = not sci.useTabs()
        if sci.selectionEmpty():
            fn = lambda text, line, column: self.app.lsp.formatting(path, text=text, tab_size=tab, insert_spaces=spaces)  # noqa: E731
        else:
            a, b = sci.selectionStart(), sci.selectionEnd()
            la, lb = sci.lineFromPosition(a), sci.lineFromPosition(b)
            rng = Range(la + 1, sci.countCharacters(sci.positionFromLine(la), a) + 1,
                        lb + 1, sci.countCharacters(sci.positionFromLine(lb), b) + 1)
            fn = lambda text, line, column: self.app.lsp.range_formatting(path, rng, text=text, tab_size=tab, insert_spaces=spaces)  # noqa: E731

        def arrive(edits: list[TextEdit]) -> None:
            if not edits:
                self.window.show_message("Already formatted")
                return
            ed.apply_edits(edits)

        ed.ask(fn, arrive, name="format")

    def code_actions(self) -> QMenu | None:
        ed = self.current()
        if ed is None:
            return None
        sci = ed.sci
        path = ed.path
        a, b = sci.selectionStart(), sci.selectionEnd()
        la, lb = sci.lineFromPosition(a), sci.lineFromPosition(b)
        rng = Range(la + 1, sci.countCharacters(sci.positionFromLine(la), a) + 1,
                    lb + 1, sci.countCharacters(sci.positionFromLine(lb), b) + 1)

        def arrive(actions: list) -> None:
            if not actions:
                self.window.show_message("No code actions here")
                return
            menu = QMenu(self.window)
            for action in actions:
                menu.addAction(action.title, lambda act=action: self.run_code_action(act))
            self.code_action_menu = menu
            point = QPoint(sci.pointXFromPosition(sci.currentPos()), sci.pointYFromPosition(sci.currentPos()))
            menu.popup(sci.mapToGlobal(point))

        ed.ask(lambda text, line, column: self.app.lsp.code_actions(path, rng, text=text), arrive, name="code actions")
        return None

    def run_code_action(self, action: Any) -> None:
        if action.edit:
            def written(result: Any) -> None:
                self.reload_written(result.written)
                self.window.show_message(f"{action.title}: {len(result.written)} file(s) changed")

            self.request(lambda: self.app.lsp.apply_workspace_edit(action.edit, action.title), written,
                         name="code action", quiet=False)
        elif action.command:
            ed = self.current()
            if ed is not None:
                self.request(lambda: self.app.lsp.execute_command(ed.path, action.command), lambda _r: None,
                             name="code action", quiet=False)
