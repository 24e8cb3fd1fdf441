"""Malformed tool calls (unknown tool, arguments that are not JSON, wrong types, missing fields, a
tool that raises) go back to the model as errors: the run goes on, nothing crashes, no file changes."""

from __future__ import annotations

from marie.agent.service import agent_service
from tests.agent.fake_openai import FakeOpenAIServer, call
from tests.agent.helpers import make_agent_app, make_project


def _snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts}


def test_malformed_calls_are_errors_for_the_model(tmp_path):
    root = make_project(tmp_path / "ws")
    before = _snapshot(root)
    script = [
        {"calls": [call("delete_everything", {"path": "."})]},
        {"calls": [call("edit", '{"path": "calc.py", "content": ')]},          # not JSON
        {"calls": [call("edit", {"path": 42, "content": ["x"]})]},             # wrong types
        {"calls": [call("read_file", {})]},                                    # missing path
        {"calls": [call("read_file", {"path": "calc.py", "start_line": "one"})]},
        {"calls": [call("edit", {"path": "calc.py", "content": "x", "mode": "force"})]},   # unknown field
        {"calls": [call("references", {"path": "calc.py", "line": 1, "column": 5}),
                   call("edit", '[1, 2]')]},                                   # not an object
        {"text": "I give up."},
    ]
    with FakeOpenAIServer(script) as server:
        app = make_agent_app(root, server.base_url)
        try:
            session = agent_service(app).start_run("break things", mode="auto").run()
        finally:
            app.close()
    assert session.finished == "answered" and session.answer == "I give up."
    assert len(server.requests) == 8
    results = [s.result for s in session.steps]
    assert "unknown tool 'delete_everything'" in results[0]
    assert "bad arguments for edit" in results[1] and "path" in results[1]
    assert "bad arguments for read_file" in results[2] and "'path' is a required property" in results[2]
    assert "start_line" in results[3]
    assert "mode" in results[4]
    assert all(not s.ok for s in session.steps if s.tool in ("edit", "delete_everything", "read_file"))
    # The call that was not JSON never reached a tool: the model was told and asked again.
    malformed = [t for t in session.turns if "malformed" in t["text"]]
    assert len(malformed) == 2
    told = [m["content"] for m in server.requests[2]["messages"] if m["role"] == "user"]
    assert any("malformed" in t for t in told)
    assert _snapshot(root) == before
