"""The Composer pane driven like a user (FakeModel answers): mention completion, streaming, review with
per-hunk reject and hunk edit, apply, undo apply, plan mode, cancel and sessions."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from tests.composer.fakes import FakeModel
from tests.qt_helpers import close_panel, open_panel


@pytest.fixture
def pane(qtbot, workspace):
    from marie.ui.panels.composer import PANEL

    widget = open_panel(qtbot, workspace, PANEL)
    yield widget
    close_panel(widget)


def sr(path, old, new):
    return f"{path}\n<<<<<<< SEARCH\n{old}=======\n{new}>>>>>>> REPLACE\n"


def test_composer_pane_propose_review_apply_undo(qtbot, pane, workspace):
    (workspace / "a.py").write_text("a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\n")
    answer = sr("a.py", "a = 1\n", "a = 10\n") + sr("a.py", "g = 7\n", "g = 70\n")
    pane.app.__dict__["ai"] = FakeModel([answer])
    qtbot.keyClicks(pane.instruction, "bump @fi")
    assert pane.mentions.isVisible() and pane.mentions.item(0).text() == "@file:"
    pane.instruction.setText("bump a and g @file:a.py")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.review.file_item("a.py") is not None, timeout=10000)
    assert pane.answer.toPlainText() == answer  # streamed into the pane
    assert "answer tokens" in pane.status.text() and "$0.0010" in pane.status.text()
    assert pane.apply_button.isEnabled()
    file_item = pane.review.file_item("a.py")
    assert file_item.childCount() == 2
    pane.review.hunk_item("a.py", 1).setCheckState(0, Qt.CheckState.Unchecked)  # reject the second hunk
    pane.review.tree.setCurrentItem(pane.review.hunk_item("a.py", 0))
    qtbot.mouseClick(pane.review.edit_button, Qt.MouseButton.LeftButton)
    pane.review.diff.setPlainText("a = 11\n")
    qtbot.mouseClick(pane.review.save_edit_button, Qt.MouseButton.LeftButton)
    assert "+a = 11" in pane.review.diff.toPlainText()
    qtbot.mouseClick(pane.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.undo_button.isEnabled(), timeout=10000)
    assert (workspace / "a.py").read_text() == "a = 11\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\n"
    qtbot.mouseClick(pane.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "undone" in pane.status.text(), timeout=10000)
    assert (workspace / "a.py").read_text() == "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\n"
    assert pane.sessions.count() >= 1


def test_composer_pane_mention_popup_inserts(qtbot, pane):
    qtbot.keyClicks(pane.instruction, "look at @git")
    assert pane.mentions.isVisible()
    qtbot.mouseClick(pane.mentions.viewport(), Qt.MouseButton.LeftButton,
                     pos=pane.mentions.visualItemRect(pane.mentions.item(0)).center())
    assert pane.instruction.text() == "look at @git-diff "
    assert not pane.mentions.isVisible()


def test_composer_pane_plan_mode_and_errors_block_apply(qtbot, pane, workspace):
    (workspace / "p.py").write_text("x = 1\n")
    pane.app.__dict__["ai"] = FakeModel(["1. edit p.py", sr("p.py", "x = 99\n", "x = 2\n"),
                                         sr("p.py", "x = 98\n", "x = 2\n"), sr("p.py", "x = 97\n", "x = 2\n")])
    pane.plan_mode.setChecked(True)
    pane.instruction.setText("change @file:p.py")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.approve_button.isVisible(), timeout=10000)
    assert pane.plan_edit.toPlainText() == "1. edit p.py"
    assert pane.send_button.isEnabled() and not pane.cancel_button.isEnabled()   # the plan is done
    pane.plan_edit.setPlainText("1. edit p.py carefully")
    qtbot.mouseClick(pane.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not applicable" in pane.status.text(), timeout=10000)
    assert "could not find" in pane.status.text()
    assert not pane.apply_button.isEnabled()
    assert (workspace / "p.py").read_text() == "x = 1\n"


class SlowModel(FakeModel):
    def __init__(self):
        super().__init__([])
        self.release = threading.Event()

    def complete(self, task, request, token=None, on_text=None, route=None):
        on_text("thinking…")
        while not token.cancelled:
            token.wait(0.05)
        token.check()


def test_composer_pane_cancel(qtbot, pane, workspace):
    pane.app.__dict__["ai"] = SlowModel()
    pane.instruction.setText("slow")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "thinking" in pane.answer.toPlainText(), timeout=10000)
    assert pane.cancel_button.isEnabled()
    qtbot.mouseClick(pane.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.status.text() == "Cancelled", timeout=10000)
    assert pane.send_button.isEnabled()


def test_composer_pane_sessions_reopen_and_continue(qtbot, pane, workspace):
    (workspace / "s.py").write_text("v = 1\n")
    pane.app.__dict__["ai"] = FakeModel([sr("s.py", "v = 1\n", "v = 2\n")])
    pane.instruction.setText("v to 2 @file:s.py")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.review.file_item("s.py") is not None, timeout=10000)
    first = pane.session.id
    qtbot.mouseClick(pane.continue_button, Qt.MouseButton.LeftButton)
    assert pane.session.id != first and "v to 2" in pane.session.summary
    assert pane.review.changeset is None
    index = pane.sessions.findData(first)
    assert index >= 0
    pane.sessions.setCurrentIndex(index)
    pane.sessions.activated.emit(index)
    assert pane.session.id == first
    assert pane.review.file_item("s.py") is not None and pane.apply_button.isEnabled()
    assert "[user] v to 2" in pane.answer.toPlainText()


def test_composer_pane_says_plainly_when_the_model_cannot_produce_an_edit(qtbot, pane, workspace):
    (workspace / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    junk = "You\n<<<<<<< SEARCH\n=======\nnonsense\n>>>>>>> REPLACE\n"
    pane.app.__dict__["ai"] = FakeModel([junk, junk, "garbage"])
    shown = []
    pane.window.show_panel = lambda panel_id: shown.append(panel_id)
    pane.instruction.setText("add a function sub(a, b) @file:calc.py")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.task is None and "attempt" in pane.status.text() or "Failed" in pane.status.text(), timeout=10000)
    assert pane.failure.isVisible(), pane.status.text()
    assert "could not produce a usable edit" in pane.failure.text() and "3 attempts" in pane.failure.text()
    raw = pane.answer.toPlainText()
    assert "--- attempt 1" in raw and "nonsense" in raw and "does not ask for a new file" in raw
    assert not pane.apply_button.isEnabled()
    assert pane.stronger_button.isVisible()
    qtbot.mouseClick(pane.stronger_button, Qt.MouseButton.LeftButton)
    assert shown == ["models"]
    assert (workspace / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_composer_pane_marks_whitespace_only_hunks_for_review(qtbot, pane, workspace):
    (workspace / "w.py").write_text('D = {"a":  1}\nx = 1\n')
    answer = sr("w.py", 'D = {"a":  1}\n', 'D = {"a": 1}\n')
    pane.app.__dict__["ai"] = FakeModel([answer])
    pane.instruction.setText("tidy @file:w.py")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.review.file_item("w.py") is not None, timeout=10000)
    hunk = pane.review.hunk_item("w.py", 0)
    assert "whitespace only" in hunk.text(0)
    hunk.setCheckState(0, Qt.CheckState.Unchecked)
    assert not pane.apply_button.isEnabled()


def test_composer_pane_shows_the_prompt_reading_progress(qtbot, pane, workspace):
    from marie.core.event_types import PromptProgress

    (workspace / "a.py").write_text("a = 1\n")
    pane.app.__dict__["ai"] = SlowModel()
    pane.instruction.setText("bump a @file:a.py")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.task is not None, timeout=10000)
    pane.app.events.publish(PromptProgress("gemma3-270m", 512, 1856))
    qtbot.waitUntil(lambda: "reading the prompt 512/1,856 tokens" in pane.status.text(), timeout=10000)
    qtbot.mouseClick(pane.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.task is None, timeout=10000)
