"""The Anthropic provider against FakeAnthropicServer: a loopback HTTP server that speaks the documented
Messages streaming events (no Anthropic server can run here). Also keys without a keyring backend."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keyring
import pytest
from keyring.backends import fail

from marie.ai import errors, keys
from marie.ai.types import ChatRequest, Message, Tool, ToolCall
from marie.ai.usage import format_report
from marie.core.event_types import Notice
from marie.core.tasks import Cancelled, CancelToken
from tests.ai.helpers import make_ai_app

SECRET = "sk-ant-test-secret-123456"


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def good_stream(words: list[str], hold: threading.Event | None = None, usage: dict | None = None):
    usage = usage or {"input_tokens": 25, "cache_read_input_tokens": 10}
    yield sse("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-fake", "content": [],
        "usage": {**usage, "output_tokens": 1}}})
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


def tool_use_stream(json_pieces: list[str]):
    yield sse("message_start", {"type": "message_start", "message": {
        "id": "msg_2", "type": "message", "role": "assistant", "model": "claude-fake", "content": [],
        "usage": {"input_tokens": 40, "output_tokens": 1}}})
    yield sse("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}})
    yield sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": "I will read it."}})
    yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield sse("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_01", "name": "read_file", "input": {}}})
    for piece in ["", *json_pieces]:
        yield sse("content_block_delta", {"type": "content_block_delta", "index": 1,
                                          "delta": {"type": "input_json_delta", "partial_json": piece}})
    yield sse("content_block_stop", {"type": "content_block_stop", "index": 1})
    yield sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                                "usage": {"output_tokens": 30}})
    yield sse("message_stop", {"type": "message_stop"})


def fake_tokens(text: str) -> int:
    return (len(text) + 3) // 4


class FakeAnthropicServer:
    """Serves POST /v1/messages; ``mode`` picks the behaviour; requests are recorded.

    Mode "cache" models Anthropic's prompt cache from the request body as documented: each
    ``cache_control: {"type": "ephemeral"}`` block ends a cacheable prefix (tools, system, messages in
    order); the longest prefix seen before is read from the cache, the rest up to the last breakpoint
    is written to it; more than four breakpoints is a 400 error. Tokens are counted as 4 chars each.
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        self.cache: set[str] = set()
        self.hold = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def refuse(self, status: int, kind: str, message: str) -> None:
                payload = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                mode = outer.mode
                usage = tools = None
                if mode == "tool":
                    tools = outer.tool_stream(body)
                    if tools is None:
                        return self.refuse(400, "invalid_request_error", "tool_result does not match a tool_use")
                if mode == "cache":
                    usage = outer.cache_usage(body)
                    if usage is None:
                        mode = "400"
                if mode in ("400", "401", "429", "500"):
                    kind = {"400": "invalid_request_error", "401": "authentication_error", "429": "rate_limit_error",
                            "500": "api_error"}[mode]
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
                if mode == "tool" or mode == "tool_bad_json":
                    chunks = tools if mode == "tool" else tool_use_stream(['{"path": ', '"a.py"', ']'])
                elif mode in ("ok", "cache"):
                    chunks = good_stream(["Hello", ",", " world", "!"], usage=usage)
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

    def tool_stream(self, body: dict):
        """Mode "tool": the documented tool-use exchange. Without a tool result in the last turn the
        model calls ``read_file`` (text, then a tool_use block whose input arrives as JSON pieces);
        with one, it answers in text. None when a tool_result answers no tool_use of the turn before."""
        tools = body.get("tools") or []
        assert all(set(t) == {"name", "description", "input_schema"} for t in tools), tools
        last = body["messages"][-1]
        results = [b for b in last["content"] if b.get("type") == "tool_result"] if isinstance(last["content"], list) else []
        if not results:
            return tool_use_stream(['{"path": "src/', 'a.py", "lin', 'es": [1, 2]}'])
        before = body["messages"][-2]
        asked = {b["id"] for b in before["content"] if b.get("type") == "tool_use"} if before["role"] == "assistant" else set()
        if not all(r["tool_use_id"] in asked for r in results):
            return None
        return good_stream(["The file ", "has 2 lines."])

    def cache_usage(self, body: dict) -> dict | None:
        """Anthropic's usage fields for ``body`` under the documented cache rules (None: invalid)."""
        blocks: list[tuple[str, bool]] = []
        system = body.get("system", "")
        for item in ([{"text": system}] if isinstance(system, str) else system):
            blocks.append((item["text"], item.get("cache_control") == {"type": "ephemeral"}))
        for message in body["messages"]:
            content = message["content"]
            for item in ([{"type": "text", "text": content}] if isinstance(content, str) else content):
                assert item["type"] != "text" or item["text"], item  # the API refuses empty text blocks
                text = item["text"] if item["type"] == "text" else json.dumps({k: v for k, v in item.items()
                                                                               if k != "cache_control"})
                blocks.append((message["role"] + ":" + text, item.get("cache_control") == {"type": "ephemeral"}))
        prefixes: dict[str, int] = {}  # cacheable prefix -> its tokens
        running, total = "", 0
        for text, mark in blocks:
            running += "\x00" + text
            total += fake_tokens(text)
            if mark:
                prefixes[running] = total
        if len(prefixes) > 4:
            return None
        read = max((n for p, n in prefixes.items() if p in self.cache), default=0)
        write = max(prefixes.values(), default=0) - read
        self.cache.update(prefixes)
        return {"input_tokens": total - read - write, "cache_read_input_tokens": read,
                "cache_creation_input_tokens": write}

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
    assert sent["body"]["system"] == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    assert sent["body"]["stream"] is True
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
    app.events.on(Notice, lambda event: notices.append(event.message))
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


# -- prompt caching -----------------------------------------------------------------------------

CONTEXT = "Files and context:\n\n" + "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(120))


def marks(body: dict) -> list[str]:
    """The text of every block that carries a cache breakpoint, in order."""
    out = [b["text"] for b in body["system"] if "cache_control" in b] if isinstance(body["system"], list) else []
    for m in body["messages"]:
        if isinstance(m["content"], list):
            out += [b["text"] for b in m["content"] if b.get("cache_control") == {"type": "ephemeral"}]
    return out


def test_prompt_cache_breakpoints_usage_and_cost(tmp_path, fake, no_keyring):
    app = make_ai_app(tmp_path / "c", {"providers": {"anthropic": {"base_url": fake.url, "model": "claude-fake"}},
                                       "routing": {"chat": ["anthropic"]},
                                       "prices": {"claude-fake": {"prompt": 3.0, "completion": 15.0}}})
    fake.mode, fake.cache = "cache", set()
    system = Message("system", "You edit code. " * 40)
    since = time.time()
    try:
        first = app.ai.complete("chat", ChatRequest([system, Message("user", CONTEXT + "Request: rename f1")], max_tokens=20))
        body = fake.requests[-1]["body"]
        # Breakpoints after the system prompt and after the stable context; the question is its own block.
        assert marks(body) == [system.content, CONTEXT]
        assert body["messages"][0]["content"][1] == {"type": "text", "text": "Request: rename f1"}
        assert first.usage.cache_write_tokens > 1000 and first.usage.cached_tokens == 0
        second = app.ai.complete("chat", ChatRequest([system, Message("user", CONTEXT + "Request: delete f2")],
                                                     max_tokens=20))
        # The same system prompt and context are read from the cache; only the new question is fresh.
        assert second.usage.cached_tokens == first.usage.cache_write_tokens and second.usage.cache_write_tokens == 0
        fresh = second.usage.prompt_tokens - second.usage.cached_tokens
        assert 0 < fresh < 10
        # Priced with the table: cache writes 1.25x and reads 0.1x the prompt price (Claude defaults).
        expected_first = (first.usage.cache_write_tokens * 3.75 + (first.usage.prompt_tokens - first.usage.cache_write_tokens) * 3.0
                          + 4 * 15.0) / 1e6
        assert abs(first.usage.cost_usd - expected_first) < 1e-12
        assert second.usage.cost_usd < first.usage.cost_usd / 5
        rows = app.ai.usage.recent(2)
        assert [r["cache_write_tokens"] for r in rows] == [0, first.usage.cache_write_tokens]
        assert [r["cached_tokens"] for r in rows] == [second.usage.cached_tokens, 0]
        summary = app.ai.usage.summary(since)[0]
        assert summary["cache_write_tokens"] == first.usage.cache_write_tokens
        assert "cache w" in format_report([summary])
    finally:
        app.close()


def test_prompt_cache_retry_history_and_explicit_marks(anth_app, fake):
    fake.mode = "cache"
    system = Message("system", "Be brief.")
    retry = ChatRequest([system, Message("user", CONTEXT + "Request: x"), Message("assistant", "bad answer"),
                         Message("user", "Your answer could not be used: try again")], max_tokens=20)
    done = anth_app.ai.complete("chat", retry)
    body = fake.requests[-1]["body"]
    # system, the context, and the history up to the last user turn; never more than four.
    assert marks(body) == ["Be brief.", CONTEXT, "bad answer"]
    assert done.usage.cache_write_tokens > 0
    # A caller can mark its own breakpoint: two user messages become one turn of two blocks.
    explicit = ChatRequest([Message("user", "stable part", cache=True), Message("user", "question")], max_tokens=5)
    anth_app.ai.complete("chat", explicit)
    body = fake.requests[-1]["body"]
    assert "system" not in body
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "stable part", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "question"}]}]


def test_prompt_cache_can_be_turned_off(tmp_path, fake, no_keyring):
    app = make_ai_app(tmp_path / "off", {"providers": {"anthropic": {"base_url": fake.url, "prompt_cache": False}},
                                         "routing": {"chat": ["anthropic"]}})
    fake.mode = "cache"
    try:
        done = app.ai.complete("chat", ChatRequest([Message("system", "S"), Message("user", CONTEXT + "Request: y")],
                                                   max_tokens=5))
        body = fake.requests[-1]["body"]
        assert body["system"] == "S" and body["messages"] == [{"role": "user", "content": CONTEXT + "Request: y"}]
        assert done.usage.cached_tokens == 0 and done.usage.cache_write_tokens == 0
    finally:
        app.close()


def test_usage_meta_reads_cumulative_message_delta():
    from marie.ai.anthropic import usage_meta

    assert usage_meta({"output_tokens": 7}) == {"completion_tokens": 7}
    assert usage_meta({"input_tokens": 5, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20,
                       "output_tokens": 9}) == {"completion_tokens": 9, "prompt_tokens": 125, "cached_tokens": 100,
                                                "cache_write_tokens": 20}


def test_prompt_cache_never_sends_more_than_four_breakpoints(anth_app, fake):
    fake.mode = "cache"
    many = [Message("user", f"part {i}", cache=True) for i in range(6)] + [Message("user", "question")]
    anth_app.ai.complete("chat", ChatRequest([Message("system", "S"), *many], max_tokens=5))  # the fake refuses > 4
    assert marks(fake.requests[-1]["body"]) == ["S", "part 0", "part 1", "part 2"]



# -- tool calling (declared per request; not used by the composer yet) ----------------------------

READ_FILE = Tool("read_file", "Read lines of a file in the workspace.",
                 {"type": "object", "properties": {"path": {"type": "string"},
                                                   "lines": {"type": "array", "items": {"type": "integer"}}},
                  "required": ["path"]})


def test_tool_use_round_trip(anth_app, fake):
    fake.mode = "tool"
    ask = [Message("system", "Use tools."), Message("user", "How long is src/a.py?")]
    pieces: list[str] = []
    first = anth_app.ai.complete("chat", ChatRequest(ask, max_tokens=50, tools=(READ_FILE,), tool_choice="required"),
                                 on_text=pieces.append)
    body = fake.requests[-1]["body"]
    assert body["tools"] == [{"name": "read_file", "description": READ_FILE.description,
                              "input_schema": READ_FILE.parameters}]
    assert body["tool_choice"] == {"type": "any"}
    assert pieces == ["I will read it."] and first.text == "I will read it."
    assert first.tool_calls == [ToolCall("toolu_01", "read_file", {"path": "src/a.py", "lines": [1, 2]})]
    # The call and its result go back; the fake checks the result answers that call.
    call = first.tool_calls[0]
    follow = ask + [Message("assistant", first.text, tool_calls=(call,)), Message("tool", "2 lines", tool_call_id=call.id)]
    second = anth_app.ai.complete("chat", ChatRequest(follow, max_tokens=50, tools=(READ_FILE,)))
    assert second.text == "The file has 2 lines." and second.tool_calls == []
    sent = fake.requests[-1]["body"]["messages"]
    assert sent[1]["role"] == "assistant" and sent[1]["content"][1]["type"] == "tool_use"
    assert sent[1]["content"][1]["input"] == {"path": "src/a.py", "lines": [1, 2]}
    assert sent[2]["role"] == "user" and sent[2]["content"][0]["type"] == "tool_result"
    assert sent[2]["content"][0]["tool_use_id"] == "toolu_01" and sent[2]["content"][0]["content"] == "2 lines"
    # A result for a call that was never made is refused by the API: a clear error, not a crash.
    wrong = ask + [Message("assistant", "", tool_calls=(ToolCall("toolu_x", "read_file", {}),)),
                   Message("tool", "?", tool_call_id="toolu_other")]
    with pytest.raises(errors.AIError, match="does not match"):
        anth_app.ai.complete("chat", ChatRequest(wrong, max_tokens=50, tools=(READ_FILE,)))


def test_tool_arguments_that_are_not_json_are_a_clear_error(anth_app, fake):
    fake.mode = "tool_bad_json"
    with pytest.raises(errors.BadResponse, match="read_file.*not JSON"):
        anth_app.ai.complete("chat", ChatRequest([Message("user", "go")], max_tokens=50, tools=(READ_FILE,)))


def test_tool_declarations_are_checked_before_sending(anth_app, fake):
    before = len(fake.requests)
    with pytest.raises(errors.AIError, match="names no declared tool"):
        anth_app.ai.complete("chat", ChatRequest([Message("user", "go")], tools=(READ_FILE,), tool_choice="write_file"))
    assert len(fake.requests) == before
