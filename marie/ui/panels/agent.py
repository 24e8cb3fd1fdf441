"""The Agent pane: give a task, pick the mode, watch each step as it happens (tool, arguments,
folded result, tokens and cost; command output streaming), answer approvals (once / for the session /
as a rule) and the agent's questions, cancel, review the change set hunk by hunk (the composer's
review view) and apply it, undo any step or the apply.

GUI thread only. The loop runs on the "agent" worker through ``app.tasks``; its typed events arrive
through the app's dispatcher (so on this thread). Undo and apply run on the worker too.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from marie.agent import events as ev
from marie.ui.agent_steps import OutputView, StepList
from marie.ui.composer_review import ReviewView
from marie.ui.panels import PanelSpec

WORKER = "agent"


class AgentPanel(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__()
        from marie.agent.service import agent_service

        self.window = window
        self.app = window.app
        self.service = agent_service(self.app)
        self.run = None
        self.task = None
        self.busy = False
        self.last_apply = None
        self._request_id = ""
        self._question_id = ""

        self.task_edit = QLineEdit()
        self.task_edit.setPlaceholderText("What should the agent do?")
        self.task_edit.returnPressed.connect(self.start)
        self.mode = QComboBox()
        self.mode.addItems(["ask", "edits", "plan", "auto"])
        self.mode.setCurrentText(str(self.app.settings.get("agent.mode")))
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        # saved sessions: pick one, type a follow-up, Continue
        self.sessions = QComboBox()
        self.sessions.setToolTip("Saved agent sessions")
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Continue the selected session with the text above as the follow-up")
        self.continue_button.clicked.connect(self.continue_session)
        sessions_row = QHBoxLayout()
        sessions_row.addWidget(self.sessions, 1)
        sessions_row.addWidget(self.continue_button)
        top = QHBoxLayout()
        top.addWidget(self.task_edit, 1)
        top.addWidget(self.mode)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)

        # approval bar
        self.approval = QWidget()
        self.approval_label = QLabel()
        self.approval_label.setWordWrap(True)
        self.once_button = QPushButton("Allow once")
        self.session_button = QPushButton("For this session")
        self.rule_button = QPushButton("Always (save rule)")
        self.deny_button = QPushButton("Deny")
        bar = QHBoxLayout(self.approval)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.approval_label, 1)
        for button, choice in ((self.once_button, "once"), (self.session_button, "session"),
                               (self.rule_button, "rule"), (self.deny_button, "deny")):
            button.clicked.connect(lambda _=False, c=choice: self.answer_approval(c))
            bar.addWidget(button)
        self.approval.hide()

        # question bar
        self.question = QWidget()
        self.question_label = QLabel()
        self.question_label.setWordWrap(True)
        self.answer_edit = QComboBox()
        self.answer_edit.setEditable(True)
        self.answer_button = QPushButton("Answer")
        self.answer_button.clicked.connect(self.answer_question)
        qbar = QHBoxLayout(self.question)
        qbar.setContentsMargins(0, 0, 0, 0)
        qbar.addWidget(self.question_label, 1)
        qbar.addWidget(self.answer_edit, 1)
        qbar.addWidget(self.answer_button)
        self.question.hide()

        self.steps = StepList()
        self.output = OutputView()
        self.review = ReviewView()
        self.review.changed.connect(self._update_buttons)
        tabs = QTabWidget()
        tabs.addTab(self.output, "Output")
        tabs.addTab(self.review, "Changes")
        self.tabs = tabs
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.steps)
        split.addWidget(tabs)

        self.undo_step_button = QPushButton("Undo step")
        self.undo_step_button.clicked.connect(self.undo_step)
        self.apply_button = QPushButton("Apply changes")
        self.apply_button.clicked.connect(self.apply)
        self.undo_apply_button = QPushButton("Undo apply")
        self.undo_apply_button.clicked.connect(self.undo_apply)
        self.steps.currentItemChanged.connect(lambda *_: self._update_buttons())
        bottom = QHBoxLayout()
        bottom.addWidget(self.undo_step_button)
        bottom.addStretch(1)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(self.undo_apply_button)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(sessions_row)
        layout.addLayout(top)
        layout.addWidget(self.approval)
        layout.addWidget(self.question)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.status)

        self.refresh_sessions()
        self._unsubscribe = self.app.events.on(ev.AgentEvent, self._on_event)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self._update_buttons()

    # -- running -------------------------------------------------------------------------------
    def start_task(self, text: str) -> None:
        """Start the agent on ``text`` as if the user typed it and pressed Run (other panels'
        "Fix with the agent", e.g. the pytest runner plugin). GUI thread."""
        if self.busy:
            self.status.setText("The agent is busy; the task is in the box for when it is done.")
        self.task_edit.setText(text)
        if not self.busy:
            self.start()

    def start(self) -> None:
        text = self.task_edit.text().strip()
        if not text or self.busy:
            return
        from marie.agent.permissions import ModeRefused, effective_mode

        mode = self.mode.currentText()
        try:
            effective_mode(self.app.settings, mode)
        except ModeRefused as exc:
            self.status.setText(str(exc))
            return
        # Building the run connects the MCP servers (seconds): on the worker, never here.
        service = self.service

        def make(ctx):
            run = self.prepare_run(service.start_run(text, mode=mode))
            self.run = run           # read on this thread only after AgentStarted arrives
            return run.run()

        self._begin(make)

    def refresh_sessions(self) -> None:
        """List the saved sessions, newest first (reads small JSON files)."""
        self.sessions.clear()
        for s in self.service.store.list():
            self.sessions.addItem(f"{s.task[:60]} ({s.finished or 'open'})", s.id)

    def continue_session(self) -> None:
        session_id = self.sessions.currentData()
        follow_up = self.task_edit.text().strip()
        if not session_id or not follow_up or self.busy:
            return
        service = self.service

        def make(ctx):
            run = self.prepare_run(service.reopen(session_id))
            self.run = run
            return run.run(follow_up)

        self._begin(make)

    def prepare_run(self, run):
        """A hook between building a run and starting it (worker thread); returns the run."""
        return run

    def begin(self, run, follow_up: str | None = None) -> None:
        """Show and start ``run`` (a reopened session with ``follow_up``, or a run built elsewhere)."""
        self.run = run
        self._begin(lambda ctx: run.run(follow_up))

    def _begin(self, job) -> None:
        self.steps.clear_steps()
        self.output.clear()
        self.review.set_changeset(None)
        self.busy = True
        self.status.setText("Working…")
        self.task = self.app.tasks.submit(job, name="agent", worker=WORKER,
                                          on_done=self._finished, on_error=self._failed)
        self._update_buttons()

    def cancel(self) -> None:
        if self.run is not None and self.busy:
            self.run.cancel()
            self.status.setText("Cancelling…")

    def _finished(self, session) -> None:
        self.refresh_sessions()
        self.busy = False
        self.task = None
        self.approval.hide()
        self.question.hide()
        self._show_changes()
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.task = None
        self.status.setText(f"The agent failed: {exc}")
        self._update_buttons()

    # -- events (GUI thread, through the dispatcher) -------------------------------------------
    def _on_event(self, event: ev.AgentEvent) -> None:
        if self.run is None or event.session_id != self.run.session.id:
            return
        if isinstance(event, ev.ModelTurn):
            self.steps.add_turn(event.step, event.text, event.calls,
                                f"{event.prompt_tokens}+{event.completion_tokens} tok · ${event.cost_usd:.4f}")
        elif isinstance(event, ev.ToolStarted):
            self.steps.add_call(event.step, event.call_id, event.tool, event.arguments)
        elif isinstance(event, ev.ToolFinished):
            self.steps.finish_call(event.call_id, event.ok, event.summary, event.result, event.checkpoint_id)
            if event.tool == "edit":
                self._show_changes()
        elif isinstance(event, ev.CommandOutput):
            self.output.feed(event.text)
        elif isinstance(event, ev.ApprovalRequested):
            self._request_id = event.request_id
            self.approval_label.setText(f"Allow {event.tool}: {event.subject or event.arguments}?")
            self.approval.show()
        elif isinstance(event, ev.QuestionAsked):
            self._question_id = event.request_id
            self.question_label.setText(event.question)
            self.answer_edit.clear()
            self.answer_edit.addItems(list(event.options))
            self.question.show()
        elif isinstance(event, ev.StepUndone):
            self.steps.mark_undone(event.call_id)
        elif isinstance(event, ev.AgentFinished):
            tail = f": {event.error}" if event.error else ""
            self.status.setText(f"Finished ({event.reason}{tail}). {event.prompt_tokens}+{event.completion_tokens} "
                                f"tokens, ${event.cost_usd:.4f}. {event.answer.strip()[:300]}")
        self._update_buttons()

    def answer_approval(self, choice: str) -> None:
        if self.run is not None and self._request_id:
            self.run.answer_approval(self._request_id, choice)
        self._request_id = ""
        self.approval.hide()

    def answer_question(self) -> None:
        if self.run is not None and self._question_id:
            self.run.answer_question(self._question_id, self.answer_edit.currentText())
        self._question_id = ""
        self.question.hide()

    # -- changes, apply, undo ------------------------------------------------------------------
    def _show_changes(self) -> None:
        if self.run is None:
            return
        changeset = self.run.changes.changeset() if self.run.changes.pending_paths() else None
        self.review.set_changeset(changeset)
        if changeset is not None:
            self.tabs.setCurrentWidget(self.review)

    def _background(self, fn, done) -> None:
        self.busy = True
        self._update_buttons()

        def finished(result) -> None:
            self.busy = False
            done(result)
            self._update_buttons()

        self.app.tasks.submit(lambda ctx: fn(), name="agent", worker=WORKER, on_done=finished, on_error=self._failed)

    def apply(self) -> None:
        if self.run is None or self.busy or self.review.changeset is None:
            return
        run, changeset = self.run, self.review.changeset

        def done(result) -> None:
            self.last_apply = result
            self.review.set_changeset(None)
            self.status.setText(f"Applied {len(result.written) + len(result.deleted)} file(s); checkpoint "
                                f"{result.checkpoint_id}.")

        self._background(lambda: run.apply(changeset), done)

    def undo_apply(self) -> None:
        result = self.last_apply
        if result is None or self.busy:
            return

        def done(_restore) -> None:
            self.last_apply = None
            self.status.setText("Apply undone: the files are as they were before.")

        self._background(lambda: self.app.checkpoints.restore(result.checkpoint_id,
                                                              paths=result.written + result.deleted), done)

    def undo_step(self) -> None:
        call_id = self.steps.current_call()
        if self.run is None or self.busy or not call_id:
            return
        run = self.run

        def done(restored) -> None:
            self.status.setText(f"Step undone: {', '.join(restored) or 'nothing to restore'}.")
            self._show_changes()

        self._background(lambda: run.undo_step(call_id), done)

    def _update_buttons(self) -> None:
        running = self.task is not None
        self.run_button.setEnabled(not self.busy)
        self.continue_button.setEnabled(not self.busy and self.sessions.count() > 0)
        self.cancel_button.setEnabled(running)
        self.mode.setEnabled(not self.busy)
        cs = self.review.changeset
        self.apply_button.setEnabled(not self.busy and cs is not None and cs.applicable)
        self.undo_apply_button.setEnabled(not self.busy and self.last_apply is not None)
        call_id = self.steps.current_call()
        undoable = False
        if self.run is not None and call_id and not self.busy:
            try:
                record = self.run.session.step(call_id)
                undoable = not record.undone and (record.pending or bool(record.checkpoint_id and record.undo_paths))
            except KeyError:
                undoable = False
        self.undo_step_button.setEnabled(undoable)


PANEL = PanelSpec(id="agent", title="Agent", area="right", factory=AgentPanel, shortcut="Ctrl+Shift+A", order=12)
