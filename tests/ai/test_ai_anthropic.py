"""The Anthropic provider against FakeAnthropicServer: a loopback HTTP server that speaks the documented
Messages streaming events (no Anthropic server can run here). Also keys without a keyring backend."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keyring
import pytest
from keyring.backends import fail

from marie.ai import errors, keys
from marie.ai.types import ChatRequest, Message
from marie.core.tasks import Cancelled, CancelToken
from tests.ai.helpers import make_ai_app

SECRET = "sk-ant-test-secret-123456"


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def good_stream(words: list[str], hold: threading.Event | None = None):
    yield sse("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-fake", "content": [],
        "usage": {"input_tokens": 25, "cache_read_input_tokens": 10, "output_tokens": 1}}})
    yield sse("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}})
    yield sse("ping", {"type": "ping"})
    for i, word in enumerate(words):
        if hold is not None and i == 2:
            hold.wait(10)
        yield sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": word}})
    yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                "usage": {"output_tokens": len(words)}})
    yield sse("message_stop", {"type": "message_stop"})


class FakeAnthropicServer:
    """Serves POST /v1/messages; ``mode`` picks the behaviour; requests are recorded."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        self.hold = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                mode = outer.mode
                if mode in ("401", "429", "500"):
                    kind = {"401": "authentication_error", "429": "rate_limit_error", "500": "api_error"}[mode]
                    payload = json.dumps({"type": "error", "error": {"type": kind, "message": f"bad key {SECRET}" if mode == "401" else kind}}).encode()
                    self.send_response(int(mode))
                    self.send_header("content-type", "application/json")
                    if mode == "429":
                        self.send_header("retry-after", "7")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                if mode == "ok":
                    chunks = good_stream(["Hello", ",", " world", "!"])
                elif mode == "slow":
                    chunks = good_stream(["one", " two", " three", " four"], outer.hold)
                elif mode == "malformed":
                    chunks = iter([next(good_stream(["x"])), b"event: content_block_delta\ndata: {not json\n\n"])
                elif mode == "error_event":
                    chunks = iter([next(good_stream(["x"])), sse("error", {"type": "error", "error": {
                        "type": "overloaded_error", "message": "Overloaded"}})])
                else:  # "cut": the stream ends before message_stop
                    chunks = iter(list(good_stream(["a", "b"]))[:4])
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake():
    server = FakeAnthropicServer()
    yield server
    server.close()


@pytest.fixture
def no_keyring(monkeypatch):
    """Headless Linux: keyring has only its fail backend."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("MARIE_ANTHROPIC_API_KEY", SECRET)
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def anth_app(tmp_path, fake, no_keyring):
    app = make_ai_app(tmp_path / "a", {"providers": {"anthropic": {"base_url": fake.url, "model": "claude-fake",
                                                                   "timeout_s": 10.0}},
                                       "routing": {"chat": ["anthropic"]}})
    fake.mode = "ok"
    yield app
    app.close()


def req(text="Hi", **kw) -> ChatRequest:
    return ChatRequest([Message("system", "Be brief."), Message("user", text)], max_tokens=20, **kw)


def test_streams_events_with_usage_and_env_key(anth_app, fake):
    assert not keys.keyring_available()
    pieces: list[str] = []
    done = anth_app.ai.complete("chat", req(), on_text=pieces.append)
    assert pieces == ["Hello", ",", " world", "!"] and done.text == "Hello, world!"
    assert (done.provider, done.model) == ("anthropic", "claude-fake")
    assert done.usage.prompt_tokens == 35 and done.usage.cached_tokens == 10 and done.usage.completion_tokens == 4
    sent = fake.requests[-1]
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == SECRET and sent["headers"]["anthropic-version"] == "2023-06-01"
    assert sent["body"]["system"] == "Be brief." and sent["body"]["stream"] is True
    assert sent["body"]["messages"] == [{"role": "user", "content": "Hi"}]


def test_usual_variable_also_works(anth_app, monkeypatch):
    monkeypatch.delenv("MARIE_ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-usual-variable")
    assert keys.get_key("anthropic") == ("sk-usual-variable", "ANTHROPIC_API_KEY")


def test_missing_key_says_where_it_must_go(anth_app, monkeypatch):
    monkeypatch.delenv("MARIE_ANTHROPIC_API_KEY")
    with pytest.raises(errors.AuthError) as info:
        anth_app.ai.complete("chat", req())
    assert "MARIE_ANTHROPIC_API_KEY" in info.value.message and "ANTHROPIC_API_KEY" in info.value.message
    assert "No system keyring" in info.value.message
    with pytest.raises(keys.NoKeyringError):
        keys.set_key("anthropic", "x")


@pytest.mark.parametrize("mode, error, words", [
    ("401", errors.AuthError, "refused the API key"),
    ("429", errors.RateLimited, "Retry after 7 s"),
    ("500", errors.ServerDown, "failed on its side"),
    ("malformed", errors.BadResponse, "malformed event"),
    ("error_event", errors.RateLimited, "overloaded_error"),
    ("cut", errors.BadResponse, "before message_stop"),
])
def test_errors_are_structured_and_clear(anth_app, fake, mode, error, words):
    fake.mode = mode
    with pytest.raises(error, match=words) as info:
        anth_app.ai.complete("chat", req())
    assert SECRET not in str(info.value)  # the key is never echoed back to the user or the logs
    rows = anth_app.ai.usage.recent(1)
    assert rows[0]["ok"] == 0 and SECRET not in rows[0]["error"]


def test_server_down_is_clear(tmp_path, no_keyring):
    app = make_ai_app(tmp_path / "down", {"providers": {"anthropic": {"base_url": "http://127.0.0.1:9", "timeout_s": 5.0}},
                                          "routing": {"chat": ["anthropic"]}})
    try:
        with pytest.raises(errors.ServerDown, match="cannot be reached"):
            app.ai.complete("chat", req())
    finally:
        app.close()


def test_cancel_mid_stream_returns_at_once(anth_app, fake):
    fake.mode = "slow"
    fake.hold.clear()
    token = CancelToken()
    got: list[str] = []

    def on_text(piece):
        got.append(piece)
        if len(got) == 2:
            token.cancel()  # the server is now holding the stream open

    with pytest.raises(Cancelled):
        anth_app.ai.complete("chat", req(), token=token, on_text=on_text)
    fake.hold.set()
    assert got == ["one", " two"]


def test_local_only_gate_refuses_and_falls_back_with_note(tmp_path, fake, no_keyring):
    app = make_ai_app(tmp_path / "g", {"local_only": True,
                                       "providers": {"anthropic": {"base_url": fake.url}},
                                       "routing": {"chat": ["anthropic", "anthropic:other"]}})
    notices: list[str] = []
    app.events.subscribe("notice", lambda message, level: notices.append(message))
    before = len(fake.requests)
    try:
        with pytest.raises(errors.Refused, match="local_only"):
            app.ai.complete("chat", req())
        assert len(fake.requests) == before  # nothing left the machine
        assert notices and "falling back" in notices[0]
    finally:
        app.close()


def test_grammar_is_refused_clearly(anth_app):
    with pytest.raises(errors.AIError, match="grammars"):
        anth_app.ai.complete("chat", req(grammar='root ::= "x"'))
