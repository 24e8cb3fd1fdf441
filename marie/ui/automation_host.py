"""The window's automation endpoint: ``marie remote`` and ``marie PATH`` reach the running window.

Methods (``marie.automation.endpoint`` serves them on its connection threads; each hops to the
GUI thread here through the app's dispatcher and waits for the answer):
- ``ping`` -> version, root, pid;
- ``open`` {path, line?, column?} -> opens the file in this window and raises it;
- ``commands`` -> every registered command; ``command`` {id} -> runs it;
- ``state`` -> root, open files, the current file, diagnostics per file, git status;
- ``subscribe`` {events: [...]} -> a stream of events (files_written, index_changed,
  git_status, diagnostics, notice, model_state).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable

from marie import __version__
from marie.automation.endpoint import AlreadyRunning, Endpoint
from marie.core import event_types as ev

log = logging.getLogger(__name__)

# Event names a client may subscribe to -> (event class, what to send of it).
EVENTS: dict[str, tuple[type, Callable[[Any], dict]]] = {
    "files_written": (ev.FilesWritten, lambda e: {"written": list(e.written), "deleted": list(e.deleted),
                                                   "label": e.label, "checkpoint_id": e.checkpoint_id}),
    "index_changed": (ev.IndexChanged, lambda e: {"generation": getattr(e.snapshot, "generation", None),
                                                   "changes": len(e.changes)}),
    "git_status": (ev.GitStatusChanged, lambda e: {"branch": e.status.branch, "dirty": e.status.dirty,
                                                    "files": len(e.status.files)}),
    "diagnostics": (ev.LspDiagnostics, lambda e: {"path": str(e.path), "count": len(e.diagnostics)}),
    "notice": (ev.Notice, lambda e: {"message": e.message, "level": e.level}),
    "model_state": (ev.ModelState, lambda e: {"state": e.state, "model": e.model}),
}


class WindowEndpoint:
    """Owns the Endpoint of one window. Construct and close on the GUI thread."""

    def __init__(self, window: Any, path: Path | None = None) -> None:
        self.window = window
        self.endpoint = Endpoint({"ping": self.ping, "open": self.open, "commands": self.commands,
                                  "command": self.command, "state": self.state},
                                 subscribe=self.subscribe, path=path)

    def start(self) -> Path | None:
        """Listen, unless another window of this user and display already does (then None)."""
        try:
            return self.endpoint.start()
        except AlreadyRunning as exc:
            log.info("%s; this window has no endpoint", exc)
            return None

    def close(self) -> None:
        self.endpoint.close()

    # -- running on the GUI thread --------------------------------------------------------------
    def _on_gui(self, fn: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Run ``fn`` on the GUI thread and return its result (connection thread, blocking)."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = fn()
            except BaseException as exc:
                box["error"] = exc
            finally:
                done.set()

        self.window.app.dispatcher.post(run)
        if not done.wait(timeout):
            raise TimeoutError("the window did not answer in time (busy?)")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    # -- methods (connection threads) -----------------------------------------------------------
    def ping(self, params: dict) -> dict:
        return {"version": __version__, "root": str(self.window.app.root), "pid": os.getpid()}

    def open(self, params: dict) -> dict:
        path = Path(str(params.get("path", "")))
        if not path.is_absolute():
            raise ValueError("open needs an absolute path")
        line = params.get("line")
        column = params.get("column")

        def run() -> dict:
            editor = self.window.open_file(path, int(line) if line else None, int(column) if column else None)
            self.window.showNormal() if self.window.isMinimized() else None
            self.window.raise_()
            self.window.activateWindow()
            if editor is None:
                raise ValueError(f"{path} could not be opened (see the window's status bar)")
            return {"opened": str(path), "line": line}

        return self._on_gui(run)

    def commands(self, params: dict) -> list[dict]:
        return self._on_gui(lambda: [{"id": c.id, "title": c.label, "shortcut": c.shortcut}
                                     for c in self.window.commands.all()])

    def command(self, params: dict) -> dict:
        command_id = str(params.get("id", ""))

        def run() -> dict:
            if command_id not in self.window.commands:
                raise KeyError(f"no command {command_id!r} (marie remote commands lists them)")
            self.window.commands.run(command_id)
            return {"ran": command_id}

        return self._on_gui(run)

    def state(self, params: dict) -> dict:
        app = self.window.app

        def run() -> dict:
            current = self.window.current_editor()
            return {"root": str(app.root),
                    "open_files": [str(e.path) for e in self.window.editors() if getattr(e, "path", None)],
                    "current": str(current.path) if current is not None and getattr(current, "path", None) else None}

        out = self._on_gui(run)
        # Diagnostics and git status are thread-safe snapshots: read here, off the GUI thread.
        try:
            out["diagnostics"] = {str(path): [{"line": d.line, "column": d.column, "message": d.message,
                                               "severity": d.severity, "source": d.source} for d in items]
                                  for path, items in app.lsp.diagnostics().items() if items}
        except Exception as exc:
            out["diagnostics"] = {"error": str(exc)}
        status = getattr(app.git, "last_status", None)
        out["git"] = None if status is None else {
            "branch": status.branch, "head": status.head, "dirty": status.dirty,
            "files": {p: {"staged": f.staged, "unstaged": f.unstaged, "untracked": f.untracked}
                      for p, f in status.files.items()}}
        return out

    def subscribe(self, names: list[str], send: Callable[[dict], None]) -> Callable[[], None]:
        unknown = [n for n in names if n not in EVENTS]
        if unknown:
            raise ValueError(f"unknown events {unknown}; known: {', '.join(EVENTS)}")
        offs = []
        for name in names or list(EVENTS):
            cls, shape = EVENTS[name]

            def deliver(event: Any, name: str = name, shape: Callable = shape) -> None:
                try:
                    send({"event": name, **shape(event)})
                except OSError:
                    pass  # the client hung up; its connection thread unsubscribes
            offs.append(self.window.app.events.on(cls, deliver))

        def off() -> None:
            for unsubscribe in offs:
                unsubscribe()

        return off


def install(window: Any) -> WindowEndpoint | None:
    """Start the endpoint for ``window`` unless ``MARIE_NO_ENDPOINT`` is set (GUI thread)."""
    if os.environ.get("MARIE_NO_ENDPOINT"):
        return None
    host = WindowEndpoint(window)
    return host if host.start() is not None else None
