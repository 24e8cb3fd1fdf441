"""A real MCP server (tests/agent/mcp_server.py, the SDK's server side) run as a subprocess over
stdio and over streamable HTTP; a server that fails to start is reported and the others go on; its
tools reach the model prefixed with the server's name, under the same permissions, and are logged."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marie.agent.mcp_client import MCPTools
from marie.agent.service import agent_service
from marie.agent.tools.base import ToolError
from tests.agent.fake_openai import FakeOpenAIServer, call
from tests.agent.helpers import free_port, make_agent_app, make_project

SERVER = str(Path(__file__).with_name("mcp_server.py"))


@pytest.fixture(scope="module")
def http_server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, SERVER, "http", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "the MCP HTTP server did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(10)


def test_stdio_and_http_servers_and_a_broken_one(http_server):
    mcp = MCPTools({"local": {"command": sys.executable, "args": [SERVER]},
                    "remote": {"url": http_server},
                    "broken": {"command": sys.executable, "args": ["-c", "import sys; sys.exit(3)"], "timeout_s": 10.0},
                    "missing": {"command": "/nonexistent/mcp-server"}})
    try:
        mcp.start()
        assert set(mcp.failures) == {"broken", "missing"}
        names = sorted(t.name for t in mcp.tools())
        assert names == ["local__add", "local__fail", "local__shout", "remote__add", "remote__fail", "remote__shout"]
        assert mcp.call("local", "add", {"a": 2, "b": 40}).text == "42"
        assert mcp.call("remote", "shout", {"text": "hi"}).text == "HI"
        with pytest.raises(ToolError):
            mcp.call("remote", "fail", {"reason": "nope"})
        assert [(c.server, c.tool, c.ok) for c in mcp.calls] == [("local", "add", True), ("remote", "shout", True),
                                                                 ("remote", "fail", False)]
    finally:
        mcp.close()


def test_mcp_tools_in_the_loop_under_permissions(tmp_path, http_server):
    root = make_project(tmp_path / "ws", git=False)
    script = [{"calls": [call("calc__add", {"a": 1, "b": 2})]},
              {"calls": [call("calc__shout", {"text": "quiet"})]},
              {"calls": [call("calc__add", {"a": "x"})]},
              {"text": "3 and QUIET"}]
    asked = []

    def approver(request):
        asked.append(request.tool)
        return "once" if request.tool == "calc__add" else "deny"

    with FakeOpenAIServer(script) as server:
        app = make_agent_app(root, server.base_url,
                             agent={"mcp": {"servers": {"calc": {"url": http_server}}},
                                    "permissions": {"deny": ["calc__shout"]}})
        try:
            service = agent_service(app)
            run = service.start_run("use the server", mode="ask", approver=approver)
            session = run.run()
            assert session.finished == "answered", run.last_error
            declared = [t["function"]["name"] for t in server.requests[0]["tools"]]
            assert "calc__add" in declared and "read_file" in declared
            assert service.mcp().calls[0].arguments == {"a": 1, "b": 2}
        finally:
            app.close()
    assert [(s.tool, s.ok) for s in session.steps] == [("calc__add", True), ("calc__shout", False), ("calc__add", False)]
    assert session.steps[0].result == "3"
    assert "denied by the rule calc__shout" in session.steps[1].result
    assert "bad arguments" in session.steps[2].result
    assert asked == ["calc__add"]      # denied and malformed calls never ask


def test_remote_mcp_servers_are_refused_when_ai_is_local_only(tmp_path, http_server):
    root = make_project(tmp_path / "ws", git=False)
    app = make_agent_app(root, agent={"mcp": {"servers": {"far": {"url": "https://mcp.example.invalid/mcp"},
                                                          "near": {"url": http_server}}}})
    try:
        app.settings.set_user("ai.local_only", True)
        mcp = agent_service(app).mcp()
        assert "ai.local_only" in mcp.failures["far"]
        assert sorted({t.name.split("__")[0] for t in mcp.tools()}) == ["near"]
    finally:
        app.close()


def test_mcp_calls_pass_the_governance_gate(http_server):
    seen = []

    class Outcome:
        def __init__(self, text):
            from marie.ai.types import ChatRequest, Message

            self.request = ChatRequest([Message("user", text.replace("secret-1", "[REDACTED]"))])

        def restore(self, text):
            return text.replace("[REDACTED]", "secret-1")

    def gate(destination, text, local):
        seen.append((destination, local))
        if "forbidden" in text:
            raise PermissionError("the policy refuses this")
        return Outcome(text)

    mcp = MCPTools({"remote": {"url": http_server}, "local": {"command": sys.executable, "args": [SERVER]}}, gate=gate)
    try:
        mcp.start()
        # The server saw the redacted text (it upper-cased "[REDACTED]", not the secret); the result is
        # mapped back for the model.
        assert mcp.call("remote", "shout", {"text": "key secret-1"}).text == "KEY secret-1"
        assert mcp.call("local", "add", {"a": 1, "b": 1}).text == "2"
        with pytest.raises(ToolError, match="not sent"):
            mcp.call("remote", "shout", {"text": "forbidden"})
        assert seen[0] == (http_server, True) and seen[1] == ("mcp:local", True)
        assert len(mcp.calls) == 2      # the refused call never reached the server
    finally:
        mcp.close()
