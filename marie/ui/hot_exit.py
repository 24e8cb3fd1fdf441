"""Hot exit in the window: back up unsaved buffers shortly after typing stops, restore them on start.

``HotExit(window)`` watches each editor's ``textEdited``/``dirtyChanged``; a per-editor single-shot
QTimer (``editor.hot_exit_delay_ms``, ~1.5 s) snapshots the text on the GUI thread and hands the
write to the "hot-exit" worker (``marie.text.backups.BackupStore``, atomic), so typing never waits
on fsync. Saving or discarding removes the backup. ``restore()`` runs at start-up: a backup whose file
is unchanged on disk is put back into a dirty tab; one whose file changed since is only offered (a bar
with Compare / Restore backup / Discard backup), never applied silently.
"""

from __future__ import annotations

import itertools
import weakref
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from marie.text.backups import Backup, BackupStore, key_for

if TYPE_CHECKING:
    from marie.ui.main_window import MainWindow

log = logging.getLogger(__name__)

_untitled_ids = itertools.count(1)
_untitled_keys: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()   # editor -> its id


def backup_key(editor: Any) -> str:
    """The backup key of an editor: its path's hash, or a per-session id for untitled buffers."""
    path = getattr(editor, "path", None)
    if path:
        return key_for(Path(path))
    uid = _untitled_keys.get(editor)
    if uid is None:
        uid = _untitled_keys[editor] = f"{id(editor)}-{next(_untitled_ids)}"
    return key_for(None, uid)


class HotExit(QObject):
    """GUI-thread controller; the only disk I/O it does itself is at start-up and on window close."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.app = window.app
        # Sealed when encryption at rest is on (issue 16); asked on each use, so a key change applies.
        self.store = BackupStore(self.app.data_dir / "backups", cipher=self.app.governance.cipher)
        self._timers: dict[int, QTimer] = {}
        self._keys: dict[int, str] = {}      # editor id -> key of the backup it last wrote
        self._stopped = False

    @property
    def enabled(self) -> bool:
        return bool(self.app.settings.get("editor.hot_exit", True))

    def delay_ms(self) -> int:
        return int(self.app.settings.get("editor.hot_exit_delay_ms", 1500))

    # -- watching editors ----------------------------------------------------------------------
    def watch(self, editor: Any) -> None:
        """Start backing up ``editor`` (called by the window for every new tab)."""
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda e=editor: self.backup_now(e))
        self._timers[id(editor)] = timer
        editor.textEdited.connect(lambda e=editor: self._touched(e))
        editor.dirtyChanged.connect(lambda dirty, e=editor: self._touched(e) if dirty else self._clean(e))

    def stop(self) -> None:
        """The window is closing: no more timed backups (``flush`` already wrote the last ones)."""
        self._stopped = True
        for timer in self._timers.values():
            timer.stop()

    def _submit(self, fn: Any, name: str, **callbacks: Any) -> None:
        # After the window closed the workers are gone: do the (small) write here instead.
        if self._stopped or self.app.closed:
            try:
                fn(None)
            except OSError:
                log.exception("%s failed", name)
            return
        self.app.tasks.submit(fn, name=name, worker="hot-exit", **callbacks)

    def _touched(self, editor: Any) -> None:
        timer = self._timers.get(id(editor))
        if timer is not None and self.enabled and not self._stopped:
            timer.start(self.delay_ms())

    def _clean(self, editor: Any) -> None:
        """Saved or reverted: the backup is no longer needed."""
        timer = self._timers.get(id(editor))
        if timer is not None:
            timer.stop()
        self.forget(editor)

    def backup_now(self, editor: Any, wait: bool = False) -> None:
        """Write ``editor``'s backup (or remove it when the buffer is clean). GUI thread.

        ``wait`` writes synchronously (used on window close, when no worker will outlive us)."""
        if id(editor) not in self._timers:
            return
        if not editor.is_dirty():
            self.forget(editor)
            return
        key = backup_key(editor)
        old_key = self._keys.get(id(editor))
        self._keys[id(editor)] = key
        text = editor.text()
        text_file = getattr(editor, "text_file", None)
        fmt = text_file.format if text_file is not None else None
        disk_sha = text_file.disk.sha256 if text_file is not None else ""
        path = Path(editor.path) if getattr(editor, "path", None) else None
        title = self.window.tab_title(editor, plain=True)
        if fmt is None:
            from marie.text.codec import TextFormat
            fmt = TextFormat()

        def write(_ctx: Any = None) -> None:
            if old_key and old_key != key:
                self.store.remove(old_key)   # the buffer was saved under a new name
            self.store.save(key, path, text, fmt, disk_sha, title=title)

        if wait:
            write()
        else:
            self._submit(write, "hot-exit backup", on_error=lambda exc: self.window.show_message(
                f"Could not back up unsaved changes: {exc}", "warning"))

    def forget(self, editor: Any) -> None:
        """Remove ``editor``'s backup (after save, discard or close without saving)."""
        key = self._keys.pop(id(editor), None) or backup_key(editor)
        self._submit(lambda _ctx: self.store.remove(key), "hot-exit forget")

    def unwatch(self, editor: Any) -> None:
        timer = self._timers.pop(id(editor), None)
        if timer is not None:
            timer.stop()
            timer.deleteLater()
        self._keys.pop(id(editor), None)

    def flush(self) -> None:
        """Back up every dirty editor now and wait for it (window closing / app quitting)."""
        for editor in self.window.editors():
            if editor.is_dirty() and self.enabled:
                self.backup_now(editor, wait=True)
        # Let queued worker writes finish so a later forget() cannot race a final save.
        if not self.app.closed:
            try:
                self.app.tasks.worker("hot-exit").submit(lambda: None).result(timeout=5)
            except Exception:
                log.exception("waiting for hot-exit writes failed")

    # -- restoring -----------------------------------------------------------------------------
    def restore(self) -> list[Backup]:
        """Bring back the backups of the previous session; returns the ones that were found."""
        backups = self.store.all()
        for backup in backups:
            try:
                self._restore_one(backup)
            except Exception:
                log.exception("restoring hot-exit backup %s failed", backup.key)
                self.window.show_message(f"Could not restore unsaved changes of {backup.path or backup.title}", "error")
        return backups

    def _restore_one(self, backup: Backup) -> None:
        window = self.window
        if backup.path is not None and backup.path.exists():
            editor = window.open_file(backup.path)
            if editor is None:
                return
            self._keys[id(editor)] = backup.key
            if not backup.disk_changed:
                if editor.text() != backup.text:
                    editor.set_text(backup.text)
                window.show_message(f"Restored unsaved changes of {backup.path.name}")
            else:
                window.offer_backup(editor, backup)
            return
        # Untitled buffer, or its file is gone: restore into a new buffer, never into a file.
        editor = window.new_file(text=backup.text, title=backup.title or (backup.path.name if backup.path else ""))
        if editor is None:
            return
        self._keys[id(editor)] = backup.key
        if backup.path is not None:
            window.show_message(f"{backup.path} no longer exists; its unsaved changes are in a new tab", "warning")
