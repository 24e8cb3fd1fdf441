"""An EditorView and its file on disk: saving (what is written is decided by
``marie.text.save_policy``), reloading as one undo step, and noticing the file changed or was
deleted behind the buffer (the bar with Reload / Keep mine / Compare). Mixed into ``EditorView``.
GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pathlib import Path

from marie.text import editorconfig
from marie.text.codec import BinaryFileError
from marie.text.document import DiskState, TextFile
from marie.text.languages import language_for
from marie.text.save_policy import plan_save
from marie.ui.editor.editor_settings import _setting
from marie.ui.editor.loading import _EOL_MODE


class DiskMixin:
    """Saving and disk changes of ``EditorView``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def save(self, path: str | Path | None = None) -> Path:
        """Write the buffer atomically (keeping encoding, BOM and line endings); ``path`` = save as.
        Applies .editorconfig trim_trailing_whitespace / insert_final_newline. Raises OSError or
        UnicodeEncodeError (the text holds a character the file's encoding cannot store)."""
        if self.loading:
            raise RuntimeError("the file is still loading; save when it has finished")
        if path is not None:
            new_path = Path(path).absolute()
            if new_path != self.text_file.path or self._untitled:
                self._untitled = False
                self.text_file.path = new_path
                self.config = editorconfig.resolve(new_path)
                self._apply_indentation()
                if not self.large_file_mode:
                    self._set_language(language_for(new_path))
        if self._untitled:
            raise ValueError("this buffer has no file yet: save it with a path (save as)")
        plan = plan_save(self.text(), self.text_file.format, self.config,
                         exists_on_disk=self.text_file.disk.exists,
                         trim_setting=bool(_setting(self.settings, "editor.trim_trailing_whitespace")),
                         final_newline_setting=bool(_setting(self.settings, "editor.insert_final_newline")))
        if plan.fixed:
            self._replace_keeping_caret(plan.text)
        text, fmt = plan.text, plan.format
        self.text_file.save(text, fmt)
        self.sci.setSavePoint()
        self.deleted_on_disk = False
        if self.info_bar.kind in ("conflict", "deleted"):
            self.info_bar.dismiss()
        self._set_dirty(False)
        return self.text_file.path

    def _replace_keeping_caret(self, text: str) -> None:
        line, column = self.cursor_position()
        first = self.sci.firstVisibleLine()
        self.set_text(text)
        self.goto(line, column)
        self.sci.setFirstVisibleLine(first)

    def reload(self) -> None:
        """Read the file again (as one undo step, so Ctrl+Z brings the old text back); the caret
        stays on its line. Raises like ``open``."""
        if self._untitled:
            return
        tf = TextFile.load(self.text_file.path, _setting(self.settings, "editor.max_file_bytes"))
        line, column = self.cursor_position()
        first = self.sci.firstVisibleLine()
        self.text_file = tf
        self.sci.setEOLMode(_EOL_MODE[tf.format.eol])
        if self.text() != tf.text:
            self.set_text(tf.text)
        self.sci.setSavePoint()
        self.deleted_on_disk = False
        self.info_bar.dismiss()
        self._set_dirty(False)
        self.goto(min(line, self.sci.lineCount()), column)
        self.sci.setFirstVisibleLine(first)

    # -- disk changes ---------------------------------------------------------------------------
    def check_disk(self) -> str:
        """Compare with the disk (call when the window regains focus or the watcher reports the
        file): "unchanged", "reloaded" (the buffer was clean), "conflict" (bar shown) or "deleted"."""
        if self._untitled or self.loading:
            return "unchanged"
        path = self.text_file.path
        if self.text_file.disk.exists and not path.exists():
            self.mark_deleted_on_disk()
            return "deleted"
        if not self.text_file.changed_on_disk():
            return "unchanged"
        if not self.is_dirty():
            try:
                self.reload()
            except (OSError, ValueError) as exc:
                self.info_bar.show_message("error", f"The file changed on disk and could not be re-read: {exc}")
                return "conflict"
            return "reloaded"
        self.show_disk_conflict()
        return "conflict"

    def show_disk_conflict(self) -> None:
        """The file changed on disk while this buffer has unsaved edits: offer the choices."""
        self.info_bar.show_message(
            "conflict", "This file changed on disk, and you have unsaved changes.",
            [("Reload", self._conflict_reload), ("Keep mine", self.keep_mine), ("Compare", self._compare)])

    def _conflict_reload(self) -> None:
        try:
            self.reload()
        except (OSError, ValueError) as exc:
            self.info_bar.show_message("error", f"Could not reload: {exc}")

    def keep_mine(self) -> None:
        """Keep the buffer; the next save overwrites the disk version (we stop warning about it)."""
        self.text_file.disk = DiskState.of(self.text_file.path, self._read_disk_bytes())
        self.info_bar.dismiss()
        self._set_dirty(True)

    def _read_disk_bytes(self) -> bytes | None:
        try:
            return self.text_file.path.read_bytes()
        except OSError:
            return None

    def disk_text(self) -> str | None:
        """What is on disk now, decoded (None when unreadable) — for the compare view."""
        data = self._read_disk_bytes()
        if data is None:
            return None
        from marie.text.codec import decode
        try:
            return decode(data)[0]
        except BinaryFileError:
            return None

    def _compare(self) -> None:
        self.compareRequested.emit(self.disk_text() or "")

    def mark_deleted_on_disk(self) -> None:
        """The file is gone from disk: say so; the buffer counts as unsaved (saving recreates it)."""
        self.deleted_on_disk = True
        self.info_bar.show_message("deleted", "This file was deleted on disk. Save to create it again.",
                                   [("Save", self._save_from_bar)])
        self._set_dirty(True)

    def _save_from_bar(self) -> None:
        try:
            self.save()
        except (OSError, ValueError, UnicodeEncodeError) as exc:
            self.info_bar.show_message("error", f"Could not save: {exc}")
