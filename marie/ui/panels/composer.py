"""The Composer pane: type an instruction (with @-mention completion), watch the answer stream in with
token counts and cost, cancel, review the change set hunk by hunk, apply, undo the apply; plan mode;
sessions saved, reopened and continued from a summary.

GUI thread only. The model, the context building and the writes run on the "composer" worker through
``app.tasks``; streamed text and results come back through the app's dispatcher.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit,
                               QPushButton, QSplitter, QVBoxLayout, QWidget)

from marie.core.event_types import PromptProgress
from marie.ui.composer_review import ReviewView
from marie.ui.panels import PanelSpec

WORKER = "composer"
_LAST_WORD = re.compile(r"(@[\w\-.:/]*)$")


class ComposerPanel(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window = window
        self.app = window.app
        self.composer = self.app.composer
        self.session = None
        self.proposal = None
        self.last_apply = None
        self.task = None
        self._waiting_message = ""
        # The local model's prompt reading (the wait before the first token) shows while busy.
        self._unsubscribe_prompt = self.app.events.on(PromptProgress, self._prompt_progress)
        self.destroyed.connect(lambda *_: self._unsubscribe_prompt())

        # sessions
        self.sessions = QComboBox()
        self.sessions.activated.connect(self._open_selected_session)
        self.new_button = QPushButton("New")
        self.new_button.setToolTip("Start a new session")
        self.new_button.clicked.connect(lambda: self.new_session(False))
        self.continue_button = QPushButton("New from summary")
        self.continue_button.clicked.connect(lambda: self.new_session(True))
        top = QHBoxLayout()
        top.addWidget(self.sessions, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.continue_button)

        # instruction with mention completion
        self.instruction = QLineEdit()
        self.instruction.setPlaceholderText("Describe the change… (@file:, @folder:, @symbol:, @selection, @problems, @git-diff)")
        self.instruction.textEdited.connect(self._update_mentions)
        self.instruction.returnPressed.connect(self.send)
        self.mentions = QListWidget()
        self.mentions.setMaximumHeight(110)
        self.mentions.hide()
        self.mentions.itemActivated.connect(self._insert_mention)
        self.mentions.itemClicked.connect(self._insert_mention)
        self.format = QComboBox()
        self.format.addItems(["auto", "search_replace", "udiff", "whole"])
        self.plan_mode = QCheckBox("Plan first")
        self.send_button = QPushButton("Send")
        self.cancel_button = QPushButton("Cancel")
        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.addWidget(self.format)
        row.addWidget(self.plan_mode)
        row.addStretch(1)
        row.addWidget(self.send_button)
        row.addWidget(self.cancel_button)

        # answer / plan
        self.answer = QPlainTextEdit()
        self.answer.setReadOnly(True)
        self.answer.setPlaceholderText("The model's answer appears here as it streams.")
        self.plan_edit = QPlainTextEdit()
        self.plan_edit.setPlaceholderText("The proposed plan (edit it, then approve).")
        self.plan_edit.hide()
        self.approve_button = QPushButton("Approve plan and generate edits")
        self.approve_button.clicked.connect(self.approve_plan)
        self.approve_button.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        # Shown when every attempt was refused: says so plainly, and offers a stronger model.
        self.failure = QLabel("")
        self.failure.setWordWrap(True)
        self.failure.hide()
        self.stronger_button = QPushButton("Add or choose a stronger model…")
        self.stronger_button.setToolTip("Open AI Models: add a GGUF file, or set up a server in the settings")
        self.stronger_button.clicked.connect(self.choose_model)
        self.stronger_button.hide()

        # review and apply
        self.review = ReviewView()
        self.review.changed.connect(self._update_buttons)
        self.apply_button = QPushButton("Apply")
        self.undo_button = QPushButton("Undo apply")
        self.apply_button.clicked.connect(self.apply)
        self.undo_button.clicked.connect(self.undo)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(self.undo_button)

        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addLayout(top)
        ul.addWidget(self.instruction)
        ul.addWidget(self.mentions)
        ul.addLayout(row)
        ul.addWidget(self.answer, 1)
        ul.addWidget(self.plan_edit, 1)
        ul.addWidget(self.approve_button)
        ul.addWidget(self.status)
        ul.addWidget(self.failure)
        ul.addWidget(self.stronger_button)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.review, 1)
        ll.addLayout(bottom)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._refresh_sessions()
        self._update_buttons()
        self._register_commands()

    # -- commands ------------------------------------------------------------------------------
    def _register_commands(self) -> None:
        try:
            from marie.ui.commands import Command

            self.window.commands.register(Command(id="composer.focus", title="Composer: Ask for a Change",
                                                  callback=self.focus_instruction, shortcut=None, category="AI"))
            self.window.commands.register(Command(id="composer.undo_apply", title="Composer: Undo Apply",
                                                  callback=self.undo, category="AI"))
        except Exception:  # a host without a command registry (tests) or a duplicate id
            pass

    def focus_instruction(self) -> None:
        self.instruction.setFocus()

    # -- mentions ------------------------------------------------------------------------------
    def _update_mentions(self, text: str) -> None:
        match = _LAST_WORD.search(text)
        self.mentions.clear()
        if not match:
            self.mentions.hide()
            return
        items = self.composer.complete_mention(match.group(1))
        if not items:
            self.mentions.hide()
            return
        self.mentions.addItems(items)
        self.mentions.setCurrentRow(0)
        self.mentions.show()

    def _insert_mention(self, item) -> None:
        text = self.instruction.text()
        value = item.text()
        new = _LAST_WORD.sub(lambda _m: value, text)
        if not value.endswith(":"):
            new += " "
        self.instruction.setText(new)
        self.instruction.setFocus()
        if value.endswith(":"):
            self._update_mentions(new)
        else:
            self.mentions.hide()

    # -- sessions ------------------------------------------------------------------------------
    def _refresh_sessions(self) -> None:
        self.sessions.clear()
        for s in self.composer.list_sessions():
            self.sessions.addItem(s.title or s.id, s.id)
        if self.session is not None:
            index = self.sessions.findData(self.session.id)
            if index >= 0:
                self.sessions.setCurrentIndex(index)

    def new_session(self, from_summary: bool = False) -> None:
        self.session = self.composer.new_session(self.session if from_summary and self.session else None)
        self.answer.clear()
        self.review.set_changeset(None)
        self.proposal = None
        self.status.setText("New session" + (" (continues from a summary)" if from_summary else ""))
        self._refresh_sessions()
        self._update_buttons()

    def _open_selected_session(self, index: int) -> None:
        session_id = self.sessions.itemData(index)
        if session_id:
            self.open_session(session_id)

    def open_session(self, session_id: str) -> None:
        from marie.composer.changeset import ChangeSet

        self.session = self.composer.open_session(session_id)
        self.answer.setPlainText("\n\n".join(f"[{t.role}] {t.text}" for t in self.session.turns))
        last = next((t for t in reversed(self.session.turns) if t.changeset), None)
        self.proposal = None
        self.review.set_changeset(ChangeSet.from_dict(last.changeset) if last else None)
        self.status.setText(f"Session {self.session.title or self.session.id}")
        self._update_buttons()

    # -- asking --------------------------------------------------------------------------------
    def _request(self):
        from marie.composer.context import ContextRequest
        from marie.workspace.guard import relative_posix

        root = Path(self.app.root)
        request = ContextRequest(self.instruction.text())
        editors = list(self.window.editors()) if hasattr(self.window, "editors") else []
        current = self.window.current_editor() if hasattr(self.window, "current_editor") else None
        for editor in editors:
            path = getattr(editor, "path", None)
            if not path:
                continue
            try:
                rel = relative_posix(root, Path(path))
            except ValueError:
                continue
            if rel.startswith(".."):
                continue
            if editor is current:
                request.active_file = rel
                selected = editor.selected_text()
                if selected:
                    request.selection = selected
            else:
                request.open_files.append(rel)
            if editor.is_dirty():
                request.buffers[rel] = editor.text()
        return request

    def send(self) -> None:
        text = self.instruction.text().strip()
        if not text or self.task is not None:
            return
        if self.session is None:
            self.session = self.composer.new_session()
        request = self._request()
        fmt = self.format.currentText()
        fmt = None if fmt == "auto" else fmt
        self.answer.clear()
        self.failure.hide()
        self.stronger_button.hide()
        self.mentions.hide()
        if self.plan_mode.isChecked():
            self._start("Planning…", lambda ctx: self.composer.plan(
                text, request=request, token=ctx.token, on_text=self._stream, session=self.session), self._plan_done)
        else:
            self._start("Asking the model…", lambda ctx: self.composer.propose(
                text, request=request, fmt=fmt, token=ctx.token, on_text=self._stream, session=self.session),
                self._proposal_done)

    def approve_plan(self) -> None:
        plan = self.plan_edit.toPlainText().strip()
        text = self.instruction.text().strip()
        request = self._request()
        fmt = self.format.currentText()
        fmt = None if fmt == "auto" else fmt
        self.answer.clear()
        self.plan_edit.hide()
        self.approve_button.hide()
        self._start("Generating edits from the plan…", lambda ctx: self.composer.propose(
            text, request=request, fmt=fmt, plan=plan, token=ctx.token, on_text=self._stream, session=self.session),
            self._proposal_done)

    def _prompt_progress(self, event: PromptProgress) -> None:
        """GUI thread (the bus delivers here): "Asking the model… reading the prompt 512/1,856"."""
        if self.task is None or event.total < 256 or event.done >= event.total - 1:
            return
        self.status.setText(f"{self._waiting_message} reading the prompt {event.done:,}/{event.total:,} tokens")

    def _start(self, message: str, job, done) -> None:
        self.status.setText(message)
        self._waiting_message = message

        def finished_then(result) -> None:
            # The task is over once its result reaches the GUI thread: clear it first so the
            # buttons ``done`` enables (Apply, Undo) are live the moment the result shows.
            self.task = None
            done(result)
            self._update_buttons()

        task = self.app.tasks.submit(job, name="composer", worker=WORKER, on_done=finished_then,
                                     on_error=self._failed)
        self.task = task
        task.future.add_done_callback(lambda _f: self.app.dispatcher.post(self._finished, task))
        self._update_buttons()

    def _stream(self, piece: str) -> None:
        # Called on the worker: hand each piece to the GUI thread.
        self.app.dispatcher.post(self._append, piece)

    def _append(self, piece: str) -> None:
        self.answer.moveCursor(self.answer.textCursor().MoveOperation.End)
        self.answer.insertPlainText(piece)

    def _finished(self, task) -> None:
        # Only the task still shown may clear the busy state: a later one (Apply clicked the moment
        # a proposal arrived) must not be forgotten when the earlier task's future completes.
        if self.task is not task:
            return
        if task.state == "cancelled":
            self.status.setText("Cancelled")
        self.task = None
        self._update_buttons()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling…")

    def _plan_done(self, plan: str) -> None:
        self.plan_edit.setPlainText(plan)
        self.plan_edit.show()
        self.approve_button.show()
        self.status.setText("Review and edit the plan, then approve it.")
        self._refresh_sessions()

    def _proposal_done(self, proposal) -> None:
        self.proposal = proposal
        self.review.set_changeset(proposal.changeset)
        usage = (f"{proposal.model} — {proposal.prompt_tokens} prompt + {proposal.completion_tokens} answer tokens, "
                 f"${proposal.cost_usd:.4f}, {len(proposal.attempts)} attempt(s)")
        left = proposal.context.left_out if proposal.context else []
        if left:
            usage += "\nLeft out: " + "; ".join(f"{label} ({why})" for label, why in left[:6])
        if proposal.changeset.errors:
            usage += "\nNot applicable: " + "; ".join(proposal.changeset.errors)
        self.status.setText(usage)
        self._show_failure(proposal)
        self._refresh_sessions()
        self._update_buttons()

    def _show_failure(self, proposal) -> None:
        """After the retries: say plainly that the model could not produce a usable edit, show its raw
        answers (with why each was refused) and offer a stronger model."""
        failed = bool(proposal.changeset.errors) and bool(proposal.attempts)
        self.failure.setVisible(failed)
        self.stronger_button.setVisible(failed)
        if not failed:
            self.failure.clear()
            return
        tries = len(proposal.attempts)
        self.failure.setText(f"The model ({proposal.model or 'unknown'}) could not produce a usable edit "
                             f"({tries} attempt{'s' if tries != 1 else ''}; nothing was changed). Its raw answer is "
                             "shown above. A larger model, or a server, usually does better.")
        raw = []
        for number, attempt in enumerate(proposal.attempts, 1):
            raw.append(f"--- attempt {number} ({attempt.format}) ---\n{attempt.answer.rstrip()}\n"
                       f"--- refused: {attempt.error or 'no reason given'}")
        self.answer.setPlainText("\n\n".join(raw))

    def choose_model(self) -> None:
        """Open the AI Models panel (add a GGUF file, pick the model for local AI, or a server)."""
        show = getattr(self.window, "show_panel", None)
        if show is not None:
            show("models")

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Failed: {exc}")
        self.task = None
        self._update_buttons()

    # -- apply / undo --------------------------------------------------------------------------
    def _buffers(self) -> dict[str, str]:
        from marie.workspace.guard import relative_posix

        buffers = {}
        for editor in (self.window.editors() if hasattr(self.window, "editors") else []):
            if getattr(editor, "path", None) and editor.is_dirty():
                buffers[relative_posix(Path(self.app.root), Path(editor.path))] = editor.text()
        return buffers

    def apply(self) -> None:
        changeset = self.review.changeset
        if changeset is None or self.task is not None:
            return
        buffers = self._buffers()
        self._start("Applying…", lambda ctx: self.composer.apply(changeset, buffers, session=self.session),
                    self._applied)

    def _applied(self, result) -> None:
        self.last_apply = result
        merged = f" (merged with changes made since: {', '.join(result.merged)})" if result.merged else ""
        self.status.setText(f"Applied: {len(result.written)} written, {len(result.deleted)} deleted{merged}. "
                            "Undo apply restores the files.")
        # Open buffers with unsaved edits take the merged text as one undo step.
        for editor in (self.window.editors() if hasattr(self.window, "editors") else []):
            path = getattr(editor, "path", None)
            if not path:
                continue
            from marie.workspace.guard import relative_posix

            rel = relative_posix(Path(self.app.root), Path(path))
            if rel in result.texts and editor.is_dirty() and editor.text() != result.texts[rel]:
                editor.set_text(result.texts[rel])
        if hasattr(self.window, "show_message"):
            self.window.show_message(f"Composer applied changes to {len(result.written) + len(result.deleted)} file(s)")
        self._update_buttons()

    def _failed_apply(self, exc: BaseException) -> None:
        self._failed(exc)

    def undo(self) -> None:
        result = self.last_apply
        if result is None or self.task is not None:
            return
        self._start("Undoing the apply…", lambda ctx: self.composer.undo(result), self._undone)

    def _undone(self, _restore) -> None:
        self.last_apply = None
        self.status.setText("Apply undone: the files are as they were before.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.task is not None
        cs = self.review.changeset
        self.send_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.apply_button.setEnabled(not busy and cs is not None and cs.applicable)
        self.undo_button.setEnabled(not busy and self.last_apply is not None)


PANEL = PanelSpec(id="composer", title="Composer", area="right", factory=ComposerPanel,
                  shortcut="Ctrl+Shift+I", order=10)
