"""The Git panel's "Branches" tab: local branches (merged or not) with rename, delete and merge into
the current branch, and the stash list with save (with a message), apply, pop and drop.

GUI thread only: every git call is queued on the git worker through ``app.git``; answers come back
through the dispatcher. Dialogs are only shown when a caller does not pass the answer itself, so
the same methods serve the buttons and the tests.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QGroupBox, QHBoxLayout, QInputDialog, QLineEdit, QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from marie.git.model import BranchInfo, DirtyTreeError, MergeResult, StashInfo

NAME_ROLE = Qt.ItemDataRole.UserRole


class GitBranchesTab(QWidget):
    def __init__(self, app: Any, say: Callable[[str, str], None], on_merge: Callable[[MergeResult], None]) -> None:
        super().__init__()
        self.app = app
        self._say = say
        self._on_merge = on_merge
        self.branches: list[BranchInfo] = []
        self.stashes: list[StashInfo] = []

        self.branch_list = QListWidget()
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        self.merge_button = QPushButton("Merge into current")
        for button, fn in ((self.rename_button, lambda: self.rename_selected()),
                           (self.delete_button, lambda: self.delete_selected()),
                           (self.merge_button, lambda: self.merge_selected())):
            button.clicked.connect(fn)
        branch_box = QGroupBox("Branches")
        branch_layout = QVBoxLayout(branch_box)
        branch_layout.addWidget(self.branch_list, 1)
        row = QHBoxLayout()
        for button in (self.rename_button, self.delete_button, self.merge_button):
            row.addWidget(button)
        branch_layout.addLayout(row)

        self.stash_message = QLineEdit()
        self.stash_message.setPlaceholderText("Stash message (optional)")
        self.stash_untracked = QCheckBox("Include untracked")
        self.stash_button = QPushButton("Stash")
        self.stash_button.clicked.connect(self.stash_save)
        self.stash_list = QListWidget()
        self.apply_button = QPushButton("Apply")
        self.pop_button = QPushButton("Pop")
        self.drop_button = QPushButton("Drop")
        self.apply_button.clicked.connect(lambda: self.stash_action("apply"))
        self.pop_button.clicked.connect(lambda: self.stash_action("pop"))
        self.drop_button.clicked.connect(lambda: self.stash_action("drop"))
        stash_box = QGroupBox("Stashes")
        stash_layout = QVBoxLayout(stash_box)
        save_row = QHBoxLayout()
        save_row.addWidget(self.stash_message, 1)
        save_row.addWidget(self.stash_untracked)
        save_row.addWidget(self.stash_button)
        stash_layout.addLayout(save_row)
        stash_layout.addWidget(self.stash_list, 1)
        row = QHBoxLayout()
        for button in (self.apply_button, self.pop_button, self.drop_button):
            row.addWidget(button)
        stash_layout.addLayout(row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(branch_box, 1)
        layout.addWidget(stash_box, 1)

    # -- loading ------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Ask the git worker for the branches and stashes (answers arrive later)."""
        self.app.git.branches(on_done=self._got_branches, on_error=self._failed)
        self.app.git.stashes(on_done=self._got_stashes, on_error=self._failed)

    def _got_branches(self, branches: list[BranchInfo]) -> None:
        self.branches = [b for b in branches if not b.remote]
        self.branch_list.clear()
        for branch in self.branches:
            mark = "● " if branch.current else "  "
            merged = "" if branch.current else ("  (merged)" if branch.merged else "  (not merged)")
            item = QListWidgetItem(f"{mark}{branch.name}  {branch.target}{merged}")
            item.setData(NAME_ROLE, branch.name)
            item.setToolTip("Current branch" if branch.current else
                            "Merged into the current branch: safe to delete" if branch.merged else
                            "Has commits the current branch does not have")
            self.branch_list.addItem(item)

    def _got_stashes(self, stashes: list[StashInfo]) -> None:
        self.stashes = stashes
        self.stash_list.clear()
        for stash in stashes:
            item = QListWidgetItem(f"stash@{{{stash.index}}}  {stash.message}")
            item.setData(NAME_ROLE, stash.index)
            self.stash_list.addItem(item)

    def select_branch(self, name: str) -> None:
        for row in range(self.branch_list.count()):
            if self.branch_list.item(row).data(NAME_ROLE) == name:
                self.branch_list.setCurrentRow(row)
                return
        raise KeyError(name)

    def _selected_branch(self) -> BranchInfo | None:
        item = self.branch_list.currentItem()
        name = item.data(NAME_ROLE) if item is not None else None
        return next((b for b in self.branches if b.name == name), None)

    def _done(self, text: str) -> Callable[[Any], None]:
        def done(_result: Any) -> None:
            self._say(text, "info")
            self.reload()
        return done

    def _failed(self, exc: BaseException) -> None:
        self._say(str(exc), "error")

    # -- branches -----------------------------------------------------------------------------------
    def rename_selected(self, new_name: str | None = None) -> None:
        branch = self._selected_branch()
        if branch is None:
            self._say("choose a branch to rename", "warning")
            return
        if new_name is None:
            new_name, ok = QInputDialog.getText(self, "Rename branch", f"New name for {branch.name}:",
                                                text=branch.name)
            if not ok:
                return
        new_name = new_name.strip()
        if not new_name or new_name == branch.name:
            return
        self.app.git.rename_branch(branch.name, new_name, on_done=self._done(f"Renamed {branch.name} to {new_name}"),
                                   on_error=self._failed)

    def delete_selected(self, confirm: bool | None = None) -> None:
        """Delete the chosen branch. A branch that is not merged into the current one needs a
        confirmation (``confirm``; asked in a dialog when None) and is then force-deleted."""
        branch = self._selected_branch()
        if branch is None:
            self._say("choose a branch to delete", "warning")
            return
        if branch.current:
            self._say(f"{branch.name} is the current branch; switch to another branch first", "error")
            return
        force = False
        if not branch.merged:
            if confirm is None:
                answer = QMessageBox.question(self, "Delete branch",
                                              f"{branch.name} is not merged into the current branch; its commits "
                                              "will only be reachable through the reflog. Delete it anyway?")
                confirm = answer == QMessageBox.StandardButton.Yes
            if not confirm:
                self._say(f"kept {branch.name}: it is not merged", "info")
                return
            force = True
        self.app.git.delete_branch(branch.name, force=force, on_done=self._done(f"Deleted {branch.name}"),
                                   on_error=self._failed)

    def merge_selected(self) -> None:
        branch = self._selected_branch()
        if branch is None:
            self._say("choose a branch to merge into the current one", "warning")
            return
        if branch.current:
            self._say("choose another branch: this one is the current branch", "warning")
            return

        def done(result: MergeResult) -> None:
            self._say(result.describe(), "warning" if result.kind == "conflicts" else "info")
            self.reload()
            self._on_merge(result)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, DirtyTreeError):
                self._say(f"{exc} (use Stash below)", "error")
            else:
                self._failed(exc)

        self.app.git.merge(branch.name, on_done=done, on_error=failed)

    # -- stash --------------------------------------------------------------------------------------
    def stash_save(self) -> None:
        message = self.stash_message.text().strip()

        def done(info: StashInfo) -> None:
            self.stash_message.clear()
            self._say(f"Stashed as stash@{{{info.index}}}: {info.message}", "info")
            self.reload()

        self.app.git.stash_save(message, include_untracked=self.stash_untracked.isChecked(), on_done=done,
                                on_error=self._failed)

    def stash_action(self, action: str, index: int | None = None) -> None:
        """Apply, pop or drop the chosen stash (or stash ``index``)."""
        if index is None:
            item = self.stash_list.currentItem()
            if item is None:
                self._say(f"choose a stash to {action}", "warning")
                return
            index = int(item.data(NAME_ROLE))
        verb = {"apply": "Applied", "pop": "Popped", "drop": "Dropped"}[action]
        getattr(self.app.git, f"stash_{action}")(index, on_done=self._done(f"{verb} stash@{{{index}}}"),
                                                on_error=self._failed)
