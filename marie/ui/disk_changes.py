"""Notice files changed or deleted on disk behind an open editor.

Every second (and at once after ``FilesWritten``/``FileSaved`` events) the window's open
``TextFile``s are checked on the "disk-watch" worker (``TextFile.changed_on_disk`` hashes only when
size or mtime moved). Back on the GUI thread the editor's own ``check_disk`` decides: a clean buffer
reloads by itself, a dirty one shows the editor's bar (Reload / Keep mine / Compare; the window
draws the diff), a deleted file is marked in its tab.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from marie.core.event_types import FileSaved, FilesWritten
from marie.text.document import DiskState

if TYPE_CHECKING:
    from marie.ui.main_window import MainWindow

log = logging.getLogger(__name__)

POLL_MS = 1000


class DiskWatcher(QObject):
    def __init__(self, window: "MainWindow", interval_ms: int = POLL_MS) -> None:
        super().__init__(window)
        self.window = window
        self._busy = False
        self._again = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self._unsubscribe = [window.app.events.on(FilesWritten, lambda event: self.check()),
                             window.app.events.on(FileSaved, lambda event: self.check())]

    def stop(self) -> None:
        self.timer.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def check(self) -> None:
        """Start one check of all open files on the worker (GUI thread; skips if one is running)."""
        if self._busy:
            self._again = True
            return
        files = [(editor, editor.text_file) for editor in self.window.editors()
                 if getattr(editor, "path", None) and getattr(editor, "text_file", None) is not None]
        if not files:
            return
        self._busy = True

        def probe(_ctx: Any) -> list[tuple[Any, bool, DiskState]]:
            changed = []
            for editor, text_file in files:
                try:
                    if text_file.changed_on_disk():
                        gone = not Path(text_file.path).exists()
                        changed.append((editor, gone, DiskState.of(Path(text_file.path))))
                except Exception:   # an unreadable file is reported by the next open/save
                    log.debug("disk check of %s failed", text_file.path, exc_info=True)
            return changed

        self.window.app.tasks.submit(probe, name="disk check", worker="disk-watch",
                                     on_done=self._done, on_error=lambda _exc: self._done([]))

    def _done(self, changed: list[tuple[Any, bool, DiskState]]) -> None:
        self._busy = False
        open_editors = {id(e): e for e in self.window.editors()}
        for editor, _gone, _state in changed:
            if id(editor) not in open_editors:
                continue
            # The editor decides (and shows its own bar): reload when clean, conflict bar when dirty.
            was_deleted = getattr(editor, "deleted_on_disk", False)
            try:
                outcome = editor.check_disk()
            except Exception:
                log.exception("check_disk of %s failed", editor.path)
                continue
            if outcome == "reloaded":
                self.window.show_message(f"{Path(editor.path).name} changed on disk and was reloaded")
                self.window.refresh_editor_title(editor)
            elif outcome == "deleted" and not was_deleted:
                self.window.mark_deleted(editor)
        if self._again:
            self._again = False
            self.check()

    def reload(self, editor: Any) -> None:
        """Reload from disk now (the File menu command)."""
        try:
            editor.reload()
        except Exception as exc:
            self.window.show_message(f"Could not reload {editor.path}: {exc}", "error")
            return
        self.window.refresh_editor_title(editor)

    def forget(self, editor: Any) -> None:
        """Nothing is cached per editor: the editor's TextFile holds the disk state."""
