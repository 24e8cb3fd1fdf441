"""Check Workspace (lint every source file the index lists, for the Problems panel) and Restart
Language Server, for ``LspBridge``. The file list comes from the index snapshot; a view never walks
the disk. GUI thread; the check runs on a worker."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any


class WorkspaceCommands:
    """Mixed into ``LspBridge``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def workspace_files(self, limit: int = 2000) -> list[Path]:
        """Source files of the workspace that a configured server can check, from the index
        snapshot (scanned first when the index has not finished its first scan). Worker thread
        (it may scan); the GUI calls it through ``check_workspace``."""
        snapshot = self.app.index.snapshot()
        if not snapshot.complete or not snapshot.entries:
            snapshot = self.app.index.scan()
        out = []
        for rel in snapshot.files():
            path = self.app.root / rel
            language = self.app.lsp.language_for(path)
            if language != "text" and (language == "python" or self.app.lsp.spec(language) is not None):
                out.append(path)
                if len(out) >= limit:
                    break
        return out

    def check_workspace(self) -> None:
        """Lint every source file (not only open ones) so the Problems panel covers the workspace."""
        self.window.show_message("Checking the workspace for problems…")

        def work(ctx: Any) -> dict:
            return self.app.lsp.check_workspace(self.workspace_files(), ctx)

        def done(result: dict) -> None:
            problems = sum(len(v) for v in result.values())
            self.window.show_message(f"Checked {len(result)} file(s): {problems} problem(s)")
            self.workspace_checked = result
            self.window.show_panel("problems")

        def failed(exc: BaseException) -> None:
            self.window.show_message(f"Workspace check failed: {exc}", "error")

        self.app.tasks.submit(work, name="check workspace", on_done=done, on_error=failed)

    def restart_server(self) -> None:
        ed = self.current()
        language = ed.language if ed is not None else "python"
        self.app.tasks.submit(lambda _ctx: self.app.lsp.restart(language), name="restart language server")
        self.window.show_message(f"Restarting the {language} language server")
