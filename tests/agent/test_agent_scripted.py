"""Scripted multi-step sessions through the real provider path: ``app.ai`` -> ``OpenAIProvider`` ->
HTTP -> a loopback server serving a fixed transcript (``FakeOpenAIServer``). The tools, the
commands (real pty, real pytest), the checkpoints and the undo are all real."""

from __future__ import annotations

import json
import sys

import pytest

from marie.agent import events as ev
from marie.agent.service import agent_service
from tests.agent.fake_openai import FakeOpenAIServer, call
from tests.agent.helpers import CALC, make_agent_app, make_project

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"


def fix_script():
    return [
        {"text": "Let me look.", "calls": [call("read_file", {"path": "calc.py"})]},
        {"calls": [call("search", {"pattern": "def add"})]},
        # A first, wrong fix: the tests still fail.
        {"calls": [call("edit", {"path": "calc.py", "search": "    return a - b", "replace": "    return a * b"})]},
        {"calls": [call("run_tests", {"command": PYTEST})]},
        # An edit that matches nothing: a tool error the model sees.
        {"calls": [call("edit", {"path": "calc.py", "search": "return a / b", "replace": "return a + b"})]},
        {"calls": [call("edit", {"path": "calc.py", "search": "def add(a, b):\n    return a * b",
                                 "replace": "def add(a, b):\n    return a + b"})]},
        {"calls": [call("run_tests", {"command": PYTEST})]},
        {"text": "Fixed add: it subtracted; the tests pass now."},
    ]


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "ws")


def test_read_search_edit_fail_edit_pass_with_undo_per_step(project):
    with FakeOpenAIServer(fix_script()) as server:
        app = make_agent_app(project, server.base_url, agent={"apply": "step"})
        seen: list = []
        app.events.on(ev.AgentEvent, seen.append)
        try:
            run = agent_service(app).start_run("make the tests pass", mode="auto")
            session = run.run()
        finally:
            app.close()
    assert session.finished == "answered", run.last_error
    assert "tests pass" in session.answer
    assert (project / "calc.py").read_text() == CALC.replace("a - b", "a + b")
    tools = [(s.tool, s.ok) for s in session.steps]
    assert tools == [("read_file", True), ("search", True), ("edit", True), ("run_tests", False),
                     ("edit", False), ("edit", True), ("run_tests", True)]
    assert session.steps[4].result.startswith("error: edit failed: calc.py"), session.steps[4].result
    assert "1 failed" in session.steps[3].result and "2 passed" in session.steps[6].result
    # What the model was shown: the tool results of its calls, paired by id.
    last = server.requests[-1]["messages"]
    results = [m for m in last if m["role"] == "tool"]
    assert len(results) == 7 and "return a - b" in results[0]["content"]
    assert "calc.py" in results[1]["content"]
    assert "error" in results[4]["content"]
    # Each writing step has its checkpoint; events were published for every step.
    assert all(s.checkpoint_id for s in session.steps if s.tool in ("edit", "run_tests") and s.ok)
    finished = [e for e in seen if isinstance(e, ev.ToolFinished)]
    assert [e.tool for e in finished] == [t for t, _ in tools]
    assert isinstance(seen[-1], ev.AgentFinished) and seen[-1].reason == "answered"
    assert any(isinstance(e, ev.CommandOutput) and "passed" in e.text for e in seen)

    # Undo, newest first: the second edit, then the first -> the file is back as it started.
    app = make_agent_app(project, server.base_url, agent={"apply": "step"})
    try:
        run2 = agent_service(app).reopen(session.id)
        second, first = session.steps[5], session.steps[2]
        assert run2.undo_step(second.call_id) == ["calc.py"]
        assert "return a * b\n\n\ndef mul" in (project / "calc.py").read_text()
        assert run2.undo_step(first.call_id) == ["calc.py"]
        assert (project / "calc.py").read_text() == CALC
        saved = agent_service(app).store.load(session.id)
        assert saved.step(second.call_id).undone and saved.step(first.call_id).undone
    finally:
        app.close()


def test_review_mode_keeps_edits_in_the_change_set_until_applied(project):
    script = [{"calls": [call("edit", {"path": "calc.py", "search": "return a - b", "replace": "return a + b"})]},
              {"calls": [call("edit", {"path": "NEW.md", "content": "hello\n"})]},
              {"calls": [call("read_file", {"path": "calc.py"})]},
              {"text": "done"}]
    with FakeOpenAIServer(script) as server:
        app = make_agent_app(project, server.base_url)
        try:
            run = agent_service(app).start_run("fix add", mode="edits")
            session = run.run()
            assert session.finished == "answered", run.last_error
            # Nothing on disk yet; the read saw the pending text.
            assert (project / "calc.py").read_text() == CALC and not (project / "NEW.md").exists()
            assert "return a + b" in session.steps[2].result
            diff = run.changes.unified_diff()
            assert "+    return a + b" in diff and "+++ b/NEW.md" in diff
            # Reject the new file in review, apply the rest, then undo the apply.
            changeset = run.changes.changeset()
            changeset.file("NEW.md").accepted = False
            result = run.apply(changeset)
            assert (project / "calc.py").read_text() == CALC.replace("a - b", "a + b")
            assert not (project / "NEW.md").exists() and result.checkpoint_id
            app.checkpoints.restore(result.checkpoint_id, paths=result.written)
            assert (project / "calc.py").read_text() == CALC
        finally:
            app.close()


def test_session_is_saved_reopened_continued_and_exported(project):
    script = [{"calls": [call("list_folder", {"path": "."})]}, {"text": "There are two Python files."},
              {"calls": [call("read_file", {"path": "README.md"})]}, {"text": "The README is one line."}]
    with FakeOpenAIServer(script) as server:
        app = make_agent_app(project, server.base_url)
        try:
            session = agent_service(app).start_run("what is here?", mode="plan").run()
        finally:
            app.close()
        app = make_agent_app(project, server.base_url)
        try:
            run = agent_service(app).reopen(session.id)
            again = run.run("and the README?")
        finally:
            app.close()
    assert again.id == session.id and again.answer == "The README is one line."
    assert [s.tool for s in again.steps] == ["list_folder", "read_file"]
    # The continued request carried the whole conversation.
    contents = [m.get("content") or "" for m in server.requests[-1]["messages"]]
    assert "what is here?" in contents and "There are two Python files." in contents and "and the README?" in contents
    md = again.to_markdown()
    assert "# Agent session" in md and "`list_folder`" in md and "The README is one line." in md
    assert json.loads(json.dumps(again.to_dict()))["steps"][1]["tool"] == "read_file"


def test_cancel_while_the_model_is_answering_stops_at_once(project):
    import threading

    held = threading.Event()
    with FakeOpenAIServer([{"text": "late", "wait": held}]) as server:
        app = make_agent_app(project, server.base_url)
        try:
            run = agent_service(app).start_run("think", mode="auto")
            done: list = []
            worker = threading.Thread(target=lambda: done.append(run.run()))
            worker.start()
            while not server.requests:
                worker.join(0.05)
            run.cancel()
            worker.join(20)
            assert done and done[0].finished == "cancelled"
            assert not held.is_set()           # the answer never came: the stream was abandoned
        finally:
            held.set()
            app.close()
