"""The Agent pane driven like a user: run a task, approve an edit once and a command for the session,
answer ask_user, watch steps and streamed output, review and apply the change set, undo a step and
the apply, cancel a running command. The model is a loopback server with a fixed transcript."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt

from tests.agent.fake_openai import FakeOpenAIServer, call
from tests.agent.helpers import CALC, make_agent_app, make_project
from tests.qt_helpers import PanelHost

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "ws")


def open_pane(qtbot, root, base_url, **kw):
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.panels.agent import PANEL

    app = make_agent_app(root, base_url, dispatcher=QtDispatcher(), **kw)
    pane = PANEL.factory(PanelHost(app))
    qtbot.addWidget(pane)
    pane.show()
    return pane


def close_pane(pane):
    if pane.run is not None:
        pane.run.cancel()
    pane.app.tasks.shutdown(wait=True)
    pane.app.close()


def test_pane_approvals_question_review_apply_and_undo(qtbot, project):
    script = [
        {"calls": [call("edit", {"path": "calc.py", "search": "return a - b", "replace": "return a + b"})]},
        {"calls": [call("ask_user", {"question": "Run the tests?", "options": ["yes", "no"]})]},
        {"calls": [call("run_command", {"command": "touch made.txt"})]},
        {"calls": [call("run_command", {"command": "touch three.txt"})]},
        {"text": "All done."},
    ]
    with FakeOpenAIServer(script) as server:
        pane = open_pane(qtbot, project, server.base_url)
        try:
            qtbot.keyClicks(pane.task_edit, "fix add")
            assert pane.mode.currentText() == "ask"
            qtbot.mouseClick(pane.run_button, LEFT)
            # The edit asks first.
            qtbot.waitUntil(lambda: pane.approval.isVisible(), timeout=15000)
            assert "edit" in pane.approval_label.text() and "calc.py" in pane.approval_label.text()
            qtbot.mouseClick(pane.once_button, LEFT)
            # Then the agent's question.
            qtbot.waitUntil(lambda: pane.question.isVisible(), timeout=15000)
            assert pane.question_label.text() == "Run the tests?"
            pane.answer_edit.setCurrentText("yes")
            qtbot.mouseClick(pane.answer_button, LEFT)
            # The first command asks; approve it for the session: the second (same program) does not ask.
            qtbot.waitUntil(lambda: pane.approval.isVisible() and "touch made.txt" in pane.approval_label.text(), timeout=15000)
            qtbot.mouseClick(pane.session_button, LEFT)
            qtbot.waitUntil(lambda: pane.task is None, timeout=20000)
            assert "Finished (answered" in pane.status.text() and "All done." in pane.status.text()
            assert (project / "three.txt").exists()
            assert pane.steps.topLevelItemCount() == 9      # 5 model turns + 4 tool calls
            approvals = [a["choice"] for a in pane.run.session.approvals]
            assert approvals == ["once", "session"]
            assert "The user answered: yes" in pane.run.session.steps[1].result
            # The edit waits in the change set; the command's file is on disk.
            assert (project / "calc.py").read_text() == CALC and (project / "made.txt").exists()
            assert pane.review.file_item("calc.py") is not None and pane.apply_button.isEnabled()
            # Undo the command step (select its row, click): made.txt goes away.
            cmd = pane.run.session.steps[2]
            pane.steps.setCurrentItem(pane.steps.call_item(cmd.call_id))
            assert pane.undo_step_button.isEnabled()
            qtbot.mouseClick(pane.undo_step_button, LEFT)
            qtbot.waitUntil(lambda: not (project / "made.txt").exists(), timeout=30000)
            qtbot.waitUntil(lambda: pane.steps.call_item(cmd.call_id).text(1) == "undone", timeout=5000)
            # Apply the reviewed change set, then undo the apply.
            qtbot.mouseClick(pane.apply_button, LEFT)
            qtbot.waitUntil(lambda: pane.undo_apply_button.isEnabled(), timeout=30000)
            assert (project / "calc.py").read_text() == CALC.replace("a - b", "a + b")
            qtbot.mouseClick(pane.undo_apply_button, LEFT)
            qtbot.waitUntil(lambda: "undone" in pane.status.text(), timeout=30000)
            assert (project / "calc.py").read_text() == CALC
        finally:
            close_pane(pane)


def test_pane_deny_and_cancel_a_running_command(qtbot, project):
    script = [{"calls": [call("edit", {"path": "calc.py", "content": "x = 1\n"})]},
              {"calls": [call("run_command", {"command": f"echo started; {sys.executable} -c 'import time; time.sleep(60)'"})]},
              {"text": "never"}]
    with FakeOpenAIServer(script) as server:
        pane = open_pane(qtbot, project, server.base_url)
        try:
            pane.mode.setCurrentText("ask")
            pane.task_edit.setText("do it")
            qtbot.mouseClick(pane.run_button, LEFT)
            qtbot.waitUntil(lambda: pane.approval.isVisible(), timeout=15000)
            qtbot.mouseClick(pane.deny_button, LEFT)
            qtbot.waitUntil(lambda: pane.approval.isVisible() and "started" in pane.approval_label.text(), timeout=15000)
            qtbot.mouseClick(pane.once_button, LEFT)
            qtbot.waitUntil(lambda: "started" in pane.output.toPlainText(), timeout=15000)
            assert pane.cancel_button.isEnabled()
            qtbot.mouseClick(pane.cancel_button, LEFT)
            qtbot.waitUntil(lambda: pane.task is None, timeout=15000)
            assert "Finished (cancelled" in pane.status.text()
            steps = pane.run.session.steps
            assert "the user declined" in steps[0].result and "cancelled" in steps[1].summary
            assert (project / "calc.py").read_text() == CALC
            assert len(server.requests) == 2
        finally:
            close_pane(pane)


def test_pane_saves_a_rule_and_continues_a_saved_session(qtbot, project):
    script = [{"calls": [call("run_command", {"command": "touch one.txt"})]}, {"text": "made one"},
              {"calls": [call("run_command", {"command": "touch two.txt"})]}, {"text": "made two"}]
    with FakeOpenAIServer(script) as server:
        pane = open_pane(qtbot, project, server.base_url)
        try:
            pane.task_edit.setText("make a file")
            qtbot.mouseClick(pane.run_button, LEFT)
            qtbot.waitUntil(lambda: pane.approval.isVisible(), timeout=15000)
            qtbot.mouseClick(pane.rule_button, LEFT)
            qtbot.waitUntil(lambda: pane.task is None, timeout=20000)
            assert "run_command(touch)" in pane.app.settings.get("agent.permissions.allow")
            first = pane.run.session.id
            assert pane.sessions.count() == 1 and pane.sessions.currentData() == first
            # Continue it: the saved rule means the second touch is not asked.
            pane.task_edit.clear()
            qtbot.keyClicks(pane.task_edit, "and another")
            qtbot.mouseClick(pane.continue_button, LEFT)
            qtbot.waitUntil(lambda: pane.task is None and "made two" in pane.status.text(), timeout=20000)
            assert pane.run.session.id == first and [s.tool for s in pane.run.session.steps] == ["run_command"] * 2
            assert (project / "one.txt").exists() and (project / "two.txt").exists()
            assert not pane.approval.isVisible()
        finally:
            close_pane(pane)
