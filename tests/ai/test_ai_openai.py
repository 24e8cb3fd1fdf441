"""The OpenAI-compatible provider against a real ``llama_cpp.server`` on 127.0.0.1 with the Gemma model."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from marie.ai import errors
from marie.ai.types import ChatRequest, Message
from marie.core.tasks import Cancelled, CancelToken
from tests.ai.helpers import make_ai_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(gemma_path, tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gemma_path),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "1",
                             "--model_alias", "gemma", "--chat_format", "gemma"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, "llama_cpp.server exited at start"
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "llama_cpp.server did not start in 90 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def oai_app(tmp_path, server):
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens here
    app = make_ai_app(tmp_path / "o", {
        "providers": {"server": {"base_url": server, "model": "gemma", "grammar": True,
                                 "schema_format": "json_object", "timeout_s": 60.0},
                      "openai": {"base_url": dead, "needs_key": False, "timeout_s": 5.0}},
        "routing": {"chat": ["server"], "commit_message": ["openai", "server"]}})
    yield app
    app.close()


def req(text: str, **kw) -> ChatRequest:
    kw.setdefault("max_tokens", 12)
    return ChatRequest([Message("user", text)], **kw)


def test_streams_chat_completions_with_usage(oai_app):
    pieces: list[str] = []
    done = oai_app.ai.complete("chat", req("Say hello."), on_text=pieces.append)
    assert len(pieces) >= 2 and "".join(pieces) == done.text and done.text
    assert done.provider == "server" and done.model == "gemma"
    assert done.usage.completion_tokens == 0 or 0 < done.usage.completion_tokens <= 12


def test_grammar_and_json_schema_through_the_server(oai_app):
    done = oai_app.ai.complete("chat", req("Yes or no?", grammar='root ::= "yes" | "no"'))
    assert done.text in ("yes", "no")
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    done = oai_app.ai.complete("chat", req("Is it fine? Answer in JSON.", json_schema=schema, max_tokens=24))
    assert isinstance(json.loads(done.text)["ok"], bool)


def test_dead_server_falls_back_with_a_visible_note(oai_app):
    notices: list[str] = []
    oai_app.events.subscribe("notice", lambda message, level: notices.append(message))
    done = oai_app.ai.complete("commit_message", req("Write a commit message."))
    assert done.provider == "server"
    assert done.notes and "openai failed" in done.notes[0] and "cannot be reached" in done.notes[0]
    assert notices == done.notes
    failed = [r for r in oai_app.ai.usage.recent(5) if r["provider"] == "openai"]
    assert failed and failed[0]["ok"] == 0


def test_unknown_route_errors_and_cancel(oai_app):
    token = CancelToken()
    with pytest.raises(Cancelled):
        oai_app.ai.complete("chat", req("Tell a long story.", max_tokens=64), token=token,
                            on_text=lambda piece: token.cancel())
    with pytest.raises(ValueError):
        oai_app.ai.route("nope")
    with pytest.raises(errors.ServerDown):
        oai_app.ai.provider("openai").complete(req("x"), "m", None, None)
