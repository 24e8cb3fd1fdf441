"""The Checkpoints panel: list (time, label, files changed, pin), create, diff against now, restore
all or selected files, undo the last restore.

Every store operation runs on the "checkpoints" worker (``app.tasks``); results come back on the GUI
thread through the dispatcher. Restores go through the single write path, whose "files.written" event
makes the window reload open editors (asking first when a buffer has unsaved changes).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit,
                               QPushButton, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from marie.core.event_types import CheckpointsChanged
from marie.text.diff import unified_bytes
from marie.ui.empty_state import EmptyState
from marie.ui.panels import PanelSpec

WORKER = "checkpoints"


def unified_text(path: str, old: bytes | None, new: bytes | None) -> str:
    """A unified diff for the diff view (binary content is summarised, never dumped)."""
    text = unified_bytes(old, new, f"checkpoint/{path}", f"now/{path}")
    if text:
        return text
    return "(only the permission bits differ)" if old == new else "(no text difference)"


class CheckpointsPanel(QWidget):
    """GUI thread only; long work is submitted to the "checkpoints" worker."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window = window
        self.app = window.app
        self.diffs: list = []
        self.busy = False

        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("Label for a new checkpoint")
        self.create_button = QPushButton("Create")
        self.create_button.clicked.connect(self.create_checkpoint)
        self.label_edit.returnPressed.connect(self.create_checkpoint)
        top = QHBoxLayout()
        top.addWidget(self.label_edit, 1)
        top.addWidget(self.create_button)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Time", "Label", "Changed", "Pinned"])
        self.tree.setRootIsDecorated(False)
        self.tree.itemChanged.connect(self._pin_toggled)
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.diff_button = QPushButton("Diff vs now")
        self.restore_all_button = QPushButton("Restore all")
        self.restore_selected_button = QPushButton("Restore selected")
        self.undo_button = QPushButton("Undo last restore")
        self.diff_button.clicked.connect(self.diff_selected)
        self.restore_all_button.clicked.connect(lambda: self.restore(None))
        self.restore_selected_button.clicked.connect(self.restore_selected)
        self.undo_button.clicked.connect(self.undo_restore)
        buttons = QHBoxLayout()
        for button in (self.diff_button, self.restore_all_button, self.restore_selected_button, self.undo_button):
            buttons.addWidget(button)

        self.files = QListWidget()
        self.files.itemDoubleClicked.connect(self.show_diff)
        self.files.itemChanged.connect(lambda *_: self._update_buttons())
        self.diff_view = QPlainTextEdit()
        self.diff_view.setReadOnly(True)
        self.diff_view.setFont(QFont("monospace"))
        self.status = QLabel("")
        self.status.setWordWrap(True)

        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(self.files)
        lower.addWidget(self.diff_view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.empty = EmptyState("Checkpoints are snapshots MarieIDE takes before every change it makes for you "
                                "(composer edits, renames, replace in files, branch switches). None yet: make one "
                                "with the label box above, and restore or diff any of them here.")
        splitter.addWidget(self.empty)
        splitter.addWidget(self.tree)
        splitter.addWidget(lower)
        self.empty.watch(self.tree)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

        self._unsubscribe = self.app.events.on(CheckpointsChanged, lambda event: self.refresh())
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self._update_buttons()
        self.refresh()

    # -- helpers --------------------------------------------------------------------------------
    def _submit(self, fn, *args, on_done=None, name: str = "") -> None:
        self.busy = True
        self._update_buttons()

        def done(result: Any) -> None:
            self.busy = False
            self._update_buttons()
            if on_done:
                on_done(result)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self._update_buttons()
            self.set_status(f"{name} failed: {exc}", "error")

        self.app.tasks.submit(lambda ctx, *a: fn(*a), *args, name=name, worker=WORKER, on_done=done, on_error=failed)

    def set_status(self, text: str, level: str = "info") -> None:
        self.status.setText(text)
        if level == "error":
            try:
                self.window.show_message(text, level)
            except Exception:   # a window without a message area still shows the text here
                pass

    def selected_id(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def _update_buttons(self) -> None:
        has = self.selected_id() is not None and not self.busy
        for button in (self.diff_button, self.restore_all_button):
            button.setEnabled(has)
        self.restore_selected_button.setEnabled(has and bool(self.checked_paths()))
        self.create_button.setEnabled(not self.busy)
        self.undo_button.setEnabled(not self.busy)

    def checked_paths(self) -> list[str]:
        out = []
        for row in range(self.files.count()):
            item = self.files.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    # -- list -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.app.tasks.submit(lambda ctx: self.app.checkpoints.list(), name="list checkpoints", worker=WORKER,
                              on_done=self._show_list, on_error=lambda exc: self.set_status(str(exc), "error"))

    def _show_list(self, infos: list) -> None:
        keep = self.selected_id()
        self.tree.blockSignals(True)
        self.tree.clear()
        for info in infos:
            item = QTreeWidgetItem([info.when, info.label + (f" — {info.note}" if info.note else ""),
                                    str(info.files_changed), ""])
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(1, f"{info.id}\n{'automatic' if info.auto else 'manual'}; {info.files} files")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(3, Qt.CheckState.Checked if info.pinned else Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)
            if info.id == keep:
                item.setSelected(True)
        self.tree.blockSignals(False)
        for column in range(4):
            self.tree.resizeColumnToContents(column)
        self._update_buttons()

    def _pin_toggled(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 3:
            cid = item.data(0, Qt.ItemDataRole.UserRole)
            pinned = item.checkState(3) == Qt.CheckState.Checked
            self._submit(self.app.checkpoints.pin, cid, pinned, name="pin")

    # -- actions --------------------------------------------------------------------------------
    def create_checkpoint(self) -> None:
        label = self.label_edit.text().strip() or "manual checkpoint"
        self.label_edit.clear()
        self._submit(lambda: self.app.checkpoints.create(label=label), name="create checkpoint",
                     on_done=lambda cid: self.set_status(f"checkpoint {cid} created"))

    def diff_selected(self) -> None:
        cid = self.selected_id()
        if cid:
            self._submit(self.app.checkpoints.diff, cid, name="diff", on_done=self._show_diffs)

    def _show_diffs(self, diffs: list) -> None:
        self.diffs = diffs
        self.files.clear()
        self.diff_view.clear()
        for d in diffs:
            item = QListWidgetItem(f"{d.status:<9} {d.path}")
            item.setData(Qt.ItemDataRole.UserRole, d.path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.files.addItem(item)
        self.set_status(f"{len(diffs)} files differ from now" if diffs else "no differences from now")
        self._update_buttons()

    def show_diff(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        d = next((d for d in self.diffs if d.path == path), None)
        if d is None:
            return
        header = f"{d.status}: {d.path}"
        if d.old_mode != d.new_mode and d.old_mode is not None and d.new_mode is not None:
            header += f"  (mode {d.old_mode:o} -> {d.new_mode:o})"
        if d.note:
            header += f"  ({d.note})"
        self.diff_view.setPlainText(header + "\n" + unified_text(d.path, d.old, d.new))

    def restore(self, paths: list[str] | None) -> None:
        cid = self.selected_id()
        if cid:
            self._submit(self.app.checkpoints.restore, cid, paths, name="restore", on_done=self._restored)

    def restore_selected(self) -> None:
        paths = self.checked_paths()
        if paths:
            self.restore(paths)

    def undo_restore(self) -> None:
        self._submit(self.app.checkpoints.undo_last_restore, name="undo restore", on_done=self._restored)

    def _restored(self, result: Any) -> None:
        text = f"restored: {len(result.written)} written, {len(result.deleted)} deleted"
        if result.skipped:
            text += f", {len(result.skipped)} skipped ({result.skipped[0]})"
        self.set_status(text + " — undo with “Undo last restore”", "warning" if result.skipped else "info")
        self.files.clear()
        self.diff_view.clear()
        self.diffs = []


def _factory(window: Any) -> CheckpointsPanel:
    panel = CheckpointsPanel(window)
    try:
        from marie.ui.commands import Command

        window.commands.register(Command(id="checkpoints.create", title="Create Checkpoint",
                                         callback=panel.create_checkpoint, category="Checkpoints"))
        window.commands.register(Command(id="checkpoints.undo_restore", title="Undo Last Restore",
                                         callback=panel.undo_restore, category="Checkpoints"))
    except Exception:   # commands are a convenience; the panel works without them
        pass
    return panel


PANEL = PanelSpec("checkpoints", "Checkpoints", "right", _factory, "Ctrl+Alt+K", 40)
