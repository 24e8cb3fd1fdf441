"""The egress gate: local-only with 0 connections, block with what and where, redaction seen by a
real loopback llama_cpp.server, a failing scanner keeps the gate closed, every request audited."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from marie.ai import errors
from marie.ai.types import ChatRequest, Message
from marie.governance import secrets as secrets_mod
from tests.ai.test_ai_openai import server  # noqa: F401 (the module-scoped real llama_cpp.server fixture)
from tests.governance.helpers import make_app
from tests.governance.secret_corpus import GENERATORS

REMOTE = {"openai": {"base_url": "http://203.0.113.9:9/v1", "needs_key": False, "timeout_s": 2.0}}


def ask(text: str) -> ChatRequest:
    return ChatRequest([Message("user", text)], max_tokens=8)


def refused_offline(app, network_attempts, match: str, text: str = "hello") -> errors.Refused:
    """``complete`` is refused with ``match`` and not one connection was even tried; closes the app."""
    before = len(network_attempts)
    try:
        with pytest.raises(errors.Refused, match=match) as info:
            app.ai.complete("chat", ask(text))
        assert len(network_attempts) == before
        return info.value
    finally:
        app.close()


def audit_kinds(app) -> list[str]:
    return [r.get("kind") for r in app.audit.entries()]


def test_local_only_makes_zero_connections(tmp_path, monkeypatch, network_attempts):
    before = len(network_attempts)
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": REMOTE, "routing": {"chat": ["openai"]}}},
                   policy={"ai": {"local_only": True}})
    try:
        with pytest.raises(errors.Refused, match="local-only"):
            app.ai.complete("chat", ask("hello"))
        assert len(network_attempts) == before   # not even a refused connect
        refused = [r for r in app.audit.entries() if r.get("kind") == "ai.refused"]
        assert refused and refused[-1]["data"]["provider"] == "openai"
    finally:
        app.close()


def test_denied_endpoint_and_model_are_refused(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": REMOTE, "routing": {"chat": ["openai"]}}},
                   policy={"governance": {"endpoints": {"deny": ["http://203.0.113.*"]}}})
    try:
        with pytest.raises(errors.Refused, match="endpoint"):
            app.ai.complete("chat", ask("hello"))
    finally:
        app.close()


def test_block_says_what_and_where_and_nothing_is_sent(tmp_path, monkeypatch, network_attempts):
    before = len(network_attempts)
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": REMOTE, "routing": {"chat": ["openai"]}}},
                   policy={"governance": {"secrets": "block"}})
    key = GENERATORS["aws_access_key_id"]()
    try:
        with pytest.raises(errors.Refused) as info:
            app.ai.complete("chat", ask(f"line one\nmy key is {key}\n"))
        message = str(info.value)
        assert "aws_access_key_id" in message and "message 1" in message and "line 2" in message
        assert key not in message
        assert len(network_attempts) == before
        log_text = "".join(p.read_text() for p in app.audit.segments())
        assert key not in log_text and "aws_access_key_id" in log_text
    finally:
        app.close()


def test_a_failing_scanner_keeps_the_gate_closed(tmp_path, monkeypatch, network_attempts):
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": REMOTE, "routing": {"chat": ["openai"]}}})

    class Broken(secrets_mod.Scanner):
        def _scan(self, text):
            raise MemoryError("boom")

    monkeypatch.setattr(app.governance, "scanner", lambda: Broken(b"x" * 32))
    refused_offline(app, network_attempts, "scanner failed", "harmless")


def test_legacy_gate_callers_get_a_block_not_a_silent_leak(tmp_path, monkeypatch):
    """``ai.gate`` used by a caller that sends its own request: redact becomes block."""
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": REMOTE}})
    key = GENERATORS["github_token"]()
    try:
        with pytest.raises(errors.Refused, match="github_token"):
            app.ai.gate(app.ai.provider("openai"), ask(f"t = '{key}'"))
        outcome = app.ai.gate(app.ai.provider("openai"), ask(f"t = '{key}'"), redact=True)
        assert key not in outcome.request.messages[0].content
    finally:
        app.close()


# -- a real loopback llama_cpp.server, behind a recorder that keeps each request body ---------------
class _Recorder(BaseHTTPRequestHandler):
    upstream = ""
    bodies: list[bytes] = []

    def _forward(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if body:
            type(self).bodies.append(body)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        with httpx.Client(timeout=120) as client:
            reply = client.request(method, self.upstream + self.path, content=body, headers=headers)
        self.send_response(reply.status_code)
        for k, v in reply.headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    def do_GET(self):
        self._forward("GET")

    def do_POST(self):
        self._forward("POST")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def recorded_server(server):  # noqa: F811 (the imported fixture)
    """The suite's real llama_cpp.server (tests/ai), behind a recorder on 127.0.0.1."""
    _Recorder.upstream = server.rsplit("/v1", 1)[0]
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{proxy.server_address[1]}/v1", _Recorder.bodies
    proxy.shutdown()


def test_what_the_server_received_is_redacted_and_the_answer_mapped_back(tmp_path, monkeypatch, recorded_server):
    url, bodies = recorded_server
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": {"server": {"base_url": url, "model": "gemma"}},
                                                       "routing": {"chat": ["server"]}}})
    token = GENERATORS["github_token"]()
    pem = GENERATORS["private_key"]()
    prompt = f'Repeat exactly: GITHUB = "{token}"\n\nconfig/deploy.pem\n```\n{pem}\n```\n'
    placeholder = app.governance.scanner().placeholder("github_token", token)
    try:
        start = len(bodies)
        completion = app.ai.complete("chat", ChatRequest([Message("user", prompt)], max_tokens=24))
        sent = b"".join(bodies[start:]).decode("utf-8")
        assert sent, "the server received nothing"
        assert token not in sent and pem.splitlines()[1] not in sent
        assert placeholder in json.loads(bodies[start])["messages"][0]["content"]
        # whatever the model answered, a quoted placeholder comes back as the secret
        assert placeholder not in completion.text
        request = [r for r in app.audit.entries() if r.get("kind") == "ai.request"][-1]["data"]
        assert request["provider"] == "server" and request["endpoint"] == url
        assert {r["kind"] for r in request["redactions"]} >= {"github_token", "private_key"}
        pem_placeholder = app.governance.scanner().placeholder("private_key", pem)
        assert request["files"] == [{"path": "config/deploy.pem", "bytes": len(pem_placeholder) + 1}]  # as sent
        assert "ai.result" in audit_kinds(app)
    finally:
        app.close()


def test_pre_commit_check_warns_or_blocks(tmp_path, monkeypatch):
    from tests.conftest import run_python

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    key = GENERATORS["stripe_key"]()
    (repo / "settings.py").write_text(f'STRIPE = "{key}"\n')
    subprocess.run(["git", "add", "settings.py"], cwd=repo, check=True)
    policy = tmp_path / "policy.toml"
    env = {"MARIE_POLICY": str(policy), "MARIE_HOME": str(tmp_path / "home")}
    code = "import sys, os; os.chdir(sys.argv[1]); from marie.cli import main; sys.exit(main(['git', 'commit', '-m', 'x']))"
    policy.write_text("[governance]\nsecrets = 'block'\n")
    blocked = run_python(code, str(repo), env=env)
    assert blocked.returncode == 1 and "settings.py:1: stripe_key" in blocked.stderr and key not in blocked.stderr
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True).returncode != 0
    policy.write_text("[governance]\nsecrets = 'warn'\n")
    warned = run_python(code, str(repo), env=env)
    assert warned.returncode == 0, warned.stderr
    assert "warning" in warned.stderr and "stripe_key" in warned.stderr


@pytest.fixture
def open_window(qtbot):
    """Makes real MainWindows (closed with their apps after the test)."""
    from tests.qt_helpers import close_main_windows, open_main_window

    made = []

    def make(root):
        made.append(open_main_window(qtbot, root))
        return made[-1]

    yield make
    close_main_windows(*made)


def test_git_panel_blocks_a_commit_with_a_secret(qtbot, tmp_path, monkeypatch, open_window):
    from PySide6.QtCore import Qt

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    key = GENERATORS["github_token"]()
    (repo / "deploy.sh").write_text(f"export GH_TOKEN={key}\n")
    subprocess.run(["git", "add", "deploy.sh"], cwd=repo, check=True)
    policy = tmp_path / "policy.toml"
    policy.write_text("[governance]\nsecrets = 'block'\n")
    monkeypatch.setenv("MARIE_POLICY", str(policy))
    window = open_window(repo)
    panel = window.panels["git"]
    panel.message_edit.setPlainText("add deploy script")
    qtbot.mouseClick(panel.commit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "deploy.sh:1: github_token" in panel.info_label.text(), timeout=30000)
    assert key not in panel.info_label.text()
    assert panel.commit_button.isEnabled()
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True).returncode != 0


def test_protected_files_are_withheld_and_other_payloads_are_gated(tmp_path, monkeypatch, network_attempts):
    from marie.governance.gate import EgressGate

    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": REMOTE}},
                   policy={"governance": {"paths": {"protected": ["*.env", "secrets/*"]},
                                          "endpoints": {"deny": ["https://mcp.evil.example/*"]}}})
    prompt = "Fix it.\n\nsecrets/prod.json\n```\n{\"db\": \"a\"}\n```\n\nsrc/a.py\n```\nx = 1\n```\n"
    try:
        gate: EgressGate = app.governance.gate
        outcome = gate.check("composer", app.ai.provider("openai"), "gpt-4o-mini", ask(prompt))
        sent = outcome.request.messages[0].content
        assert '{"db": "a"}' not in sent and "WITHHELD: secrets/prod.json" in sent and "x = 1" in sent
        with pytest.raises(errors.Refused, match="protected files"):   # a caller sending its own text
            app.ai.gate(app.ai.provider("openai"), ask(prompt))
        key = GENERATORS["slack_token"]()
        mcp = app.ai.gate_text("agent", "https://mcp.example.com/tools", f'{{"token": "{key}"}}')
        assert key not in mcp.request.messages[0].content and key in mcp.restore(mcp.request.messages[0].content)
        with pytest.raises(errors.Refused, match="denied"):
            app.ai.gate_text("agent", "https://mcp.evil.example/x", "hello")
        records = [r["data"] for r in app.audit.entries() if r.get("kind") == "ai.request"]
        assert records[0]["withheld"] == ["secrets/prod.json"]
        assert records[-1]["provider"] == "https://mcp.example.com/tools"
        assert not network_attempts[len(network_attempts):]
    finally:
        app.close()


def test_encryption_without_a_key_refuses_before_sending(tmp_path, monkeypatch, network_attempts):
    from marie.governance import crypto

    crypto.forget_keys()
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": REMOTE, "routing": {"chat": ["openai"]}},
                                                "governance": {"encryption": {"enabled": True, "key_source": "file",
                                                                              "key_file": str(tmp_path / "nokey")}}})
    refused_offline(app, network_attempts, "encryption at rest is on but has no key")
