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
from tests.agent.helpers import make_agent_app, make_project

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
