"""The Git panel: changes grouped Staged / Changes / Untracked / Conflicts with per-file stage,
unstage and discard buttons; the commit message editor (subject-length guide at 50/72, amend,
sign-off, AI message); the branch combo with fetch/pull/push; the history list with commit details; the Branches tab (rename, delete with a merged check,
merge with conflicts listed, stashes); a "rebase stopped" bar with Continue / Abort when a pull with
rebase stops on a conflict;
the diff view of the selected file. Branch and ahead/behind also go to the window's status bar.

GUI thread only: every git call is queued on the git worker through ``app.git`` and its answer
comes back through the dispatcher. The panel follows the ``git.status`` event.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMessageBox, QPlainTextEdit, QPushButton, QSplitter, QTabWidget,
                               QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from marie.git.model import DirtyTreeError, HookFailed, StatusSnapshot
from marie.core.event_types import GitStatusChanged
from marie.ui.git_branches import GitBranchesTab
from marie.ui.git_diff_view import GitDiffView
from marie.ui.panels import PanelSpec

GROUPS = (("conflicts", "Conflicts"), ("staged", "Staged Changes"), ("changes", "Changes"), ("untracked", "Untracked"))
PATH_ROLE = Qt.ItemDataRole.UserRole


def message_problems(text: str, subject_limit: int = 50, body_limit: int = 72) -> list[str]:
    """What the subject-length guide says about a commit message (empty: all good)."""
    lines = text.splitlines()
    problems = []
    if lines and len(lines[0]) > subject_limit:
        problems.append(f"subject is {len(lines[0])} characters (keep it to {subject_limit})")
    if len(lines) > 1 and lines[1].strip():
        problems.append("leave the second line blank")
    long = [i + 1 for i, line in enumerate(lines[2:], start=2) if len(line) > body_limit]
    if long:
        problems.append(f"body line {long[0]} is over {body_limit} characters")
    return problems


class GitPanel(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window = window
        self.app = window.app
        self.status: StatusSnapshot | None = None
        self.settings = self.app.settings

        # -- branch row
        self.branch_combo = QComboBox()
        self.branch_combo.setToolTip("Switch branch")
        self.branch_combo.activated.connect(self._branch_chosen)
        self.refresh_button = QToolButton(text="⟳", toolTip="Refresh (full status)")
        self.refresh_button.clicked.connect(self.refresh)
        self.fetch_button = QToolButton(text="Fetch")
        self.pull_button = QToolButton(text="Pull")
        self.push_button = QToolButton(text="Push")
        self.fetch_button.clicked.connect(lambda: self._remote("fetch"))
        self.pull_button.clicked.connect(lambda: self._remote("pull"))
        self.push_button.clicked.connect(lambda: self._remote("push"))
        self.cancel_button = QToolButton(text="Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self._cancel_remote)
        self._remote_task = None
        top = QHBoxLayout()
        top.addWidget(self.branch_combo, 1)
        for button in (self.refresh_button, self.fetch_button, self.pull_button, self.push_button, self.cancel_button):
            top.addWidget(button)
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        # -- rebase in progress (a pull with rebase stopped on a conflict)
        self.rebase_label = QLabel("")
        self.rebase_label.setWordWrap(True)
        self.rebase_continue_button = QPushButton("Continue rebase")
        self.rebase_continue_button.setToolTip("Commit the staged resolution and replay the remaining commits")
        self.rebase_continue_button.clicked.connect(self.continue_rebase)
        self.rebase_abort_button = QPushButton("Abort rebase")
        self.rebase_abort_button.setToolTip("Go back to the branch, files and index as they were before the pull")
        self.rebase_abort_button.clicked.connect(self.abort_rebase)
        self.rebase_bar = QWidget()
        rebase_row = QHBoxLayout(self.rebase_bar)
        rebase_row.setContentsMargins(0, 0, 0, 0)
        rebase_row.addWidget(self.rebase_label, 1)
        rebase_row.addWidget(self.rebase_continue_button)
        rebase_row.addWidget(self.rebase_abort_button)
        self.rebase_bar.hide()

        # -- commit box
        self.message_edit = QPlainTextEdit()
        self.message_edit.setPlaceholderText("Commit message (subject ≤ 50, body lines ≤ 72)")
        self.message_edit.setMaximumHeight(110)
        self.message_edit.textChanged.connect(self._update_guide)
        self.guide_label = QLabel("")
        self.amend_box = QCheckBox("Amend")
        self.signoff_box = QCheckBox("Sign-off")
        self.signoff_box.setChecked(bool(self.settings.get("git.sign_off", False)))
        self.commit_button = QPushButton("Commit")
        self.commit_button.clicked.connect(self.commit)
        self.ai_button = QPushButton("✨ Message")
        self.ai_button.setToolTip("Ask the model for a Conventional Commits message from the staged diff")
        self.ai_button.clicked.connect(self.suggest_message)
        self.ai_button.setVisible(self.app.git.ai_available())
        commit_row = QHBoxLayout()
        for widget in (self.amend_box, self.signoff_box, self.guide_label):
            commit_row.addWidget(widget)
        commit_row.addStretch(1)
        commit_row.addWidget(self.ai_button)
        commit_row.addWidget(self.commit_button)

        # -- changes tree
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(2)
        self.tree.itemClicked.connect(self._file_clicked)
        self.tree.itemDoubleClicked.connect(self._open_file)
        self.groups: dict[str, QTreeWidgetItem] = {}
        for key, title in GROUPS:
            item = QTreeWidgetItem([title])
            item.setData(0, PATH_ROLE, None)
            self.tree.addTopLevelItem(item)
            self.groups[key] = item

        # -- diff view
        self.diff_view = GitDiffView(self.app, self)
        self.diff_view.changed.connect(lambda: None)
        self.diff_view.message.connect(self._say)

        changes = QWidget()
        changes_layout = QVBoxLayout(changes)
        changes_layout.setContentsMargins(0, 0, 0, 0)
        changes_layout.addWidget(self.message_edit)
        changes_layout.addLayout(commit_row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.diff_view)
        changes_layout.addWidget(split, 1)

        # -- history
        self.history_filter = QLineEdit()
        self.history_filter.setPlaceholderText("Filter by path (e.g. src/)")
        self.history_filter.returnPressed.connect(self.load_history)
        self.history_list = QListWidget()
        self.history_list.currentRowChanged.connect(self._commit_selected)
        self.commit_details = QPlainTextEdit()
        self.commit_details.setReadOnly(True)
        history = QWidget()
        history_layout = QVBoxLayout(history)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(self.history_filter)
        hsplit = QSplitter(Qt.Orientation.Vertical)
        hsplit.addWidget(self.history_list)
        hsplit.addWidget(self.commit_details)
        history_layout.addWidget(hsplit, 1)
        self.history: list = []

        # -- branches and stashes
        self.branches_tab = GitBranchesTab(self.app, self._say, self._merged)

        self.tabs = QTabWidget()
        self.tabs.addTab(changes, "Changes")
        self.tabs.addTab(history, "History")
        self.tabs.addTab(self.branches_tab, "Branches")
        self.tabs.currentChanged.connect(self._tab_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.info_label)
        layout.addWidget(self.rebase_bar)
        layout.addWidget(self.tabs, 1)

        self.status_label = QLabel("")
        self.status_label.setObjectName("status.git")
        bar = getattr(window, "status_bar", None)
        if bar is not None and hasattr(bar, "add_widget"):
            bar.add_widget(self.status_label)
        self._unsubscribe = self.app.events.on(GitStatusChanged, lambda event: self._on_status(event.status))
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self._update_guide()
        self.refresh()

    # -- status -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Full status (on the git worker); the ``git.status`` event brings it back."""
        self.app.git.info(on_done=self._got_info)

    def _got_info(self, info: Any) -> None:
        if info.kind == "none":
            self._show_unavailable(info.message)
            return
        if info.kind == "bare":
            self._show_unavailable(info.message)
            return
        extra = f"Submodules: {', '.join(info.submodules)}" if info.submodules else ""
        self.info_label.setText(extra)
        self.info_label.setVisible(bool(extra))
        self.setEnabled(True)
        self.app.git.status(on_error=self._failed)
        self.app.git.branches(on_done=self._got_branches, on_error=self._failed)

    def _show_unavailable(self, message: str) -> None:
        self.info_label.setText(message)
        self.info_label.setVisible(True)
        for widget in (self.tabs, self.branch_combo, self.fetch_button, self.pull_button, self.push_button):
            widget.setEnabled(False)
        self.status_label.setText("")

    def _on_status(self, status: StatusSnapshot) -> None:
        self.status = status
        label = status.branch_label()
        if status.state:
            label += f" — {status.state} in progress"
        self.status_label.setText(f"⎇ {label}")
        rebasing = status.state == "rebase"
        if rebasing:
            conflicts = len(status.group("conflicts"))
            self.rebase_label.setText(
                f"Rebase stopped: {conflicts} conflicted file(s) left. Resolve and stage them, then continue."
                if conflicts else "Rebase stopped: conflicts resolved. Stage the resolution, then continue.")
        self.rebase_bar.setVisible(rebasing)
        for key, _title in GROUPS:
            group = self.groups[key]
            group.takeChildren()
            files = status.group(key)
            group.setText(0, f"{dict(GROUPS)[key]} ({len(files)})")
            group.setHidden(not files)
            for entry in files:
                # a conflicted file says so on its row, not only by its group
                item = QTreeWidgetItem([f"{entry.path}  (conflict)" if key == "conflicts" else entry.path])
                item.setData(0, PATH_ROLE, (key, entry.path))
                item.setToolTip(0, entry.short())
                group.addChild(item)
                self.tree.setItemWidget(item, 1, self._file_buttons(key, entry.path))
            group.setExpanded(True)
        self.tree.resizeColumnToContents(0)
        current = self.branch_combo.currentText()
        if status.branch and current != status.branch and self.branch_combo.findText(status.branch) >= 0:
            self.branch_combo.setCurrentText(status.branch)

    def _file_buttons(self, group: str, path: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)

        def add(text: str, tip: str, fn) -> None:
            button = QToolButton(text=text, toolTip=tip)
            button.setObjectName(f"git.{tip.split()[0].lower()}")
            button.clicked.connect(fn)
            row.addWidget(button)

        if group == "conflicts":
            add("⇲", "Open " + path + " at its first conflict", lambda: self.open_conflict(path))
            add("✓", "Resolved — mark the conflict in " + path + " resolved (stages it)",
                lambda: self.mark_resolved(path))
        elif group == "staged":
            add("−", "Unstage " + path, lambda: self.unstage([path]))
        else:
            add("↺", "Discard changes in " + path, lambda: self.discard([path]))
            add("+", "Stage " + path, lambda: self.stage([path]))
        return box

    def _got_branches(self, branches: list) -> None:
        self.branch_combo.clear()
        for branch in branches:
            self.branch_combo.addItem(branch.name)
        self.branch_combo.insertSeparator(self.branch_combo.count())
        self.branch_combo.addItem("New branch…")
        if self.status and self.status.branch:
            self.branch_combo.setCurrentText(self.status.branch)

    # -- file actions -----------------------------------------------------------------------------
    def stage(self, paths: list[str]) -> None:
        self.app.git.stage(paths, on_error=self._failed)

    def unstage(self, paths: list[str]) -> None:
        self.app.git.unstage(paths, on_error=self._failed)

    def discard(self, paths: list[str], confirm: bool = True) -> None:
        if confirm:
            answer = QMessageBox.question(self, "Discard changes",
                                          f"Discard the changes in {', '.join(paths)}?\n"
                                          "A checkpoint is taken first, so you can get them back.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.app.git.discard(paths, on_done=lambda r: self._say(f"Discarded; checkpoint {r.checkpoint_id}"),
                             on_error=self._failed)

    def open_conflict(self, path: str) -> None:
        """Open a conflicted file in the editor at its first ``<<<<<<<`` marker."""
        def got(result: Any) -> None:
            info, line = result
            if hasattr(self.window, "open_file"):
                self.window.open_file(f"{info.workdir}{path}", line=line or 1, column=1)

        self.app.git.run_on_worker(lambda _ctx, repo: (repo.info, repo.conflict_line(path)), name="git conflict",
                                   on_done=got, on_error=self._failed)

    def mark_resolved(self, path: str) -> None:
        """Stage a conflicted file: git's way of saying its conflict is resolved."""
        def check(result: Any) -> None:
            _info, line = result
            if line is not None:
                self._say(f"{path} still has a conflict marker on line {line}; staged anyway", "warning")
            self.stage([path])

        self.app.git.run_on_worker(lambda _ctx, repo: (repo.info, repo.conflict_line(path)), name="git conflict",
                                   on_done=check, on_error=self._failed)

    def _merged(self, result: Any) -> None:
        """After a merge from the Branches tab: show the conflicts and prepare the merge message."""
        self.refresh()
        if result.kind == "conflicts":
            self.tabs.setCurrentIndex(0)
            self.app.git.merge_message(on_done=lambda text: self.message_edit.setPlainText(text.strip()),
                                       on_error=self._failed)

    def _tab_changed(self, index: int) -> None:
        if index == 1:
            self.load_history()
        elif index == 2:
            self.branches_tab.reload()

    def _file_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        data = item.data(0, PATH_ROLE)
        if not data:
            return
        group, path = data
        staged = group == "staged"
        self.app.git.file_diff(path, staged=staged,
                               on_done=lambda d: self.diff_view.show_diff(d, "staged" if staged else "unstaged"),
                               on_error=self._failed)

    def _open_file(self, item: QTreeWidgetItem, _column: int) -> None:
        data = item.data(0, PATH_ROLE)
        if data and hasattr(self.window, "open_file"):
            self.app.git.info(on_done=lambda info: self.window.open_file(f"{info.workdir}{data[1]}"))

    # -- commit -------------------------------------------------------------------------------------
    def _update_guide(self) -> None:
        text = self.message_edit.toPlainText()
        subject = text.splitlines()[0] if text else ""
        limit = int(self.settings.get("git.subject_guide", 50))
        problems = message_problems(text, limit, int(self.settings.get("git.body_guide", 72)))
        self.guide_label.setText(f"{len(subject)}/{limit}")
        self.guide_label.setToolTip("\n".join(problems) or "Subject length is fine")
        self.guide_label.setStyleSheet("color: #c0392b;" if problems else "")

    def commit(self) -> None:
        message = self.message_edit.toPlainText()
        self.commit_button.setEnabled(False)

        def checked(verdict: tuple[bool, str]) -> None:
            # The pre-commit secret check (marie.governance.precommit, issue 16) ran on a worker.
            ok, note = verdict
            if note:
                self._say(note, "warning" if ok else "error")
                self.app.events.notice(note.splitlines()[0], "warning" if ok else "error")
            if not ok:
                self.commit_button.setEnabled(True)
                return
            self.app.git.commit(message, amend=self.amend_box.isChecked(), sign_off=self.signoff_box.isChecked(),
                                run_hooks=bool(self.settings.get("git.run_hooks", True)),
                                on_done=self._committed, on_error=self._commit_failed)

        from marie.governance import precommit

        self.app.tasks.submit(lambda ctx: precommit.check(self.app.root, self.app.governance.policy.secrets),
                              name="secret check", worker="git-precommit", on_done=checked,
                              on_error=self._commit_failed)

    def _committed(self, result: Any) -> None:
        self.commit_button.setEnabled(True)
        self.message_edit.clear()
        self.amend_box.setChecked(False)
        text = f"Committed {result.id}: {result.summary}"
        if result.hook_output.strip():
            text += "\n" + result.hook_output.strip()
        self._say(text)
        if self.tabs.currentIndex() == 1:
            self.load_history()
        elif self.tabs.currentIndex() == 2:
            self.branches_tab.reload()

    def _commit_failed(self, exc: BaseException) -> None:
        self.commit_button.setEnabled(True)
        if isinstance(exc, HookFailed) and exc.output.strip():
            self._say(f"{exc}\n{exc.output.strip()}", "error")
        else:
            self._failed(exc)

    def suggest_message(self) -> None:
        self.ai_button.setEnabled(False)
        self.message_edit.setPlaceholderText("Asking the model…")

        placeholder = "Commit message (subject ≤ 50, body lines ≤ 72)"

        def done(text: str) -> None:
            self.ai_button.setEnabled(True)
            self.message_edit.setPlaceholderText(placeholder)
            self.message_edit.setPlainText(text)

        def failed(exc: BaseException) -> None:
            self.ai_button.setEnabled(True)
            self.message_edit.setPlaceholderText(placeholder)
            self._failed(exc)

        self.app.git.suggest_commit_message(on_done=done, on_error=failed)

    # -- branches -----------------------------------------------------------------------------------
    def _branch_chosen(self, index: int) -> None:
        name = self.branch_combo.itemText(index)
        if name == "New branch…":
            new, ok = QInputDialog.getText(self, "New branch", "Branch name:")
            if ok and new.strip():
                self.app.git.create_branch(new.strip(), switch=True, on_done=lambda _b: self.refresh(),
                                           on_error=self._failed)
            return
        if self.status and name == self.status.branch:
            return
        self.switch_branch(name)

    def switch_branch(self, name: str, stash: bool = False) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, DirtyTreeError):
                answer = QMessageBox.question(self, "Uncommitted changes",
                                              f"{exc}\n\nStash the changes and switch to {name}?")
                if answer == QMessageBox.StandardButton.Yes:
                    self.switch_branch(name, stash=True)
                    return
            self._failed(exc)
            self.refresh()

        self.app.git.switch(name, stash=stash, on_done=lambda _n: self.refresh(), on_error=failed)

    # -- remotes ------------------------------------------------------------------------------------
    def _remote(self, action: str) -> None:
        def progress(p: Any) -> None:
            total = f"/{p.total}" if p.total else ""
            self.status_label.setText(f"{action}: {p.message} {p.done}{total}")

        def done(result: Any) -> None:
            self.cancel_button.hide()
            self._say(result if isinstance(result, str) else f"{action}: {result.describe()}")
            self.refresh()

        def failed(exc: BaseException) -> None:
            self.cancel_button.hide()
            self._failed(exc)

        self.cancel_button.show()
        self._remote_task = getattr(self.app.git, action)(on_done=done, on_error=failed, on_progress=progress)

    def continue_rebase(self) -> None:
        """Commit the staged resolution and go on with the pull's rebase (on the git worker)."""
        self.app.git.rebase_continue(on_done=self._rebase_step, on_error=self._failed)

    def abort_rebase(self) -> None:
        answer = QMessageBox.question(self, "Abort rebase",
                                      "Abort the rebase? The branch, the index and the files go back to how they "
                                      "were before the pull; edits made since it stopped are lost.")
        if answer == QMessageBox.StandardButton.Yes:
            self.app.git.rebase_abort(on_done=self._rebase_step, on_error=self._failed)

    def _rebase_step(self, result: Any) -> None:
        self._say(result.describe(), "warning" if result.kind == "rebase-conflicts" else "info")
        # the status arrives with the GitStatusChanged event; a full refresh would clear the message
        self.app.git.branches(on_done=self._got_branches, on_error=self._failed)

    def _cancel_remote(self) -> None:
        if self._remote_task is not None:
            self._remote_task.cancel()
        self.cancel_button.hide()

    # -- history ------------------------------------------------------------------------------------
    def load_history(self) -> None:
        path = self.history_filter.text().strip() or None
        limit = int(self.settings.get("git.log_limit", 300))
        self.app.git.log(limit=limit, path=path, on_done=self._got_history, on_error=self._failed)

    def _got_history(self, entries: list) -> None:
        self.history = entries
        self.history_list.clear()
        for entry in entries:
            graph = "".join("●" if i == entry.column else "│" for i in range(entry.lanes))
            refs = f" [{', '.join(entry.refs)}]" if entry.refs else ""
            c = entry.commit
            item = QListWidgetItem(f"{graph} {c.short}{refs} {c.summary} — {c.author}")
            item.setToolTip(f"{c.author} <{c.email}>\n{time.ctime(c.time)}\n\n{c.message}")
            self.history_list.addItem(item)

    def _commit_selected(self, row: int) -> None:
        if not 0 <= row < len(self.history):
            return
        commit_id = self.history[row].commit.id

        def show(result: Any) -> None:
            info, diffs = result
            header = (f"commit {info.id}\nAuthor: {info.author} <{info.email}>\nDate:   {time.ctime(info.time)}\n\n"
                      f"{info.message}\n")
            self.commit_details.setPlainText(header + "\n" + "".join(d.patch for d in diffs))

        self.app.git.commit_diff(commit_id, on_done=show, on_error=self._failed)

    # -- messages -----------------------------------------------------------------------------------
    def _say(self, text: str, level: str = "info") -> None:
        self.info_label.setText(text)
        self.info_label.setVisible(True)
        show = getattr(self.window, "show_message", None)
        if show:
            show(text.splitlines()[0], level)

    def _failed(self, exc: BaseException) -> None:
        self._say(str(exc), "error")


def _factory(window: Any) -> QWidget:
    panel = GitPanel(window)   # (the gutter is an editor feature: marie.ui.git_gutter)
    commands = getattr(window, "commands", None)
    if commands is not None:
        from marie.ui.commands import Command

        commands.register(Command("git.refresh", "Git: Refresh", panel.refresh, None, "Git"))
        commands.register(Command("git.commit", "Git: Commit", panel.commit, None, "Git"))
        commands.register(Command("git.stage_all", "Git: Stage All Changes",
                                  lambda: window.app.git.stage_all(on_error=panel._failed), None, "Git"))
        commands.register(Command("git.history", "Git: Show History",
                                  lambda: (window.show_panel("git"), panel.tabs.setCurrentIndex(1)), None, "Git"))
    return panel


PANEL = PanelSpec(id="git", title="Git", area="left", factory=_factory, shortcut="Ctrl+Shift+G", order=30)
