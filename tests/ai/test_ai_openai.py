"""The OpenAI-compatible provider against a real ``llama_cpp.server`` on 127.0.0.1 with the Gemma model."""

from __future__ import annotations

import json

import pytest

from marie.ai import errors
from marie.ai.types import ChatRequest, Message, Tool, ToolCall
from marie.core.event_types import Notice
from marie.core.tasks import Cancelled, CancelToken
from tests.ai.helpers import free_port, llama_server, make_ai_app


@pytest.fixture(scope="module")
def server(gemma_path, tmp_path_factory):
    with llama_server(gemma_path, tmp_path_factory.mktemp("llama-server") / "server.log", "gemma", n_ctx=1024) as url:
        yield url


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
    oai_app.events.on(Notice, lambda event: notices.append(event.message))
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


def test_usage_parser_reads_cached_prompt_tokens():
    # llama_cpp.server does not report prompt_tokens_details, so the parser is checked on the
    # documented OpenAI/vLLM shape alone.
    from marie.ai.openai_compat import usage_meta

    assert usage_meta({"prompt_tokens": 2006, "completion_tokens": 300,
                       "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0}}) == {
        "prompt_tokens": 2006, "completion_tokens": 300, "cached_tokens": 1920}
    assert usage_meta({"prompt_tokens": 12, "completion_tokens": 3}) == {
        "prompt_tokens": 12, "completion_tokens": 3, "cached_tokens": 0}
    assert usage_meta({"prompt_tokens": 12, "completion_tokens": None, "prompt_tokens_details": None}) == {
        "prompt_tokens": 12, "completion_tokens": 0, "cached_tokens": 0}


def test_tool_calls_are_gathered_from_streamed_chunks():
    # The documented chat-completions stream of two parallel tool calls: id and name in the first
    # piece of each, the arguments JSON split across later pieces.
    from marie.ai.openai_compat import StreamParser
    from marie.ai.provider import Stream

    def chunk(delta=None, finish=None, usage=None):
        out = {"choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
        if usage:
            out = {"choices": [], "usage": usage}
        return json.dumps(out)

    def call(index, piece, id=None, name=None):
        c = {"index": index, "function": {"arguments": piece}}
        if id:
            c.update(id=id, type="function")
            c["function"]["name"] = name
        return {"tool_calls": [c]}

    parser = StreamParser("The test server", "test", None)
    stream = Stream()
    events = [chunk({"role": "assistant", "content": "Checking."}),
              chunk(call(0, "", "call_a", "read_file")), chunk(call(0, '{"path": "a')), chunk(call(0, '.py"}')),
              chunk(call(1, '{"pattern"', "call_b", "search")), chunk(call(1, ': "def "}')),
              chunk(finish="tool_calls"), chunk(usage={"prompt_tokens": 50, "completion_tokens": 20}), "[DONE]"]
    assert [parser.handle(stream, "", e) for e in events] == [False] * 8 + [True]
    items = []
    while not stream.items.empty():
        items.append(stream.items.get())
    assert ("text", "Checking.") in items and ("meta", {"finish": "tool_calls"}) in items
    assert parser.tool_calls.calls() == [ToolCall("call_a", "read_file", {"path": "a.py"}),
                                         ToolCall("call_b", "search", {"pattern": "def "})]


def test_tool_declarations_and_results_in_the_request_body():
    from marie.ai.local import LocalProvider
    from marie.ai.openai_compat import OpenAIProvider

    tool = Tool("search", "Search the workspace.", {"type": "object", "properties": {"pattern": {"type": "string"}}})
    call = ToolCall("call_b", "search", {"pattern": "def "})
    request = ChatRequest([Message("user", "find defs"), Message("assistant", "", tool_calls=(call,)),
                           Message("tool", "a.py:1", tool_call_id="call_b")], tools=(tool,), tool_choice="search")
    body = OpenAIProvider("server", {"base_url": "http://127.0.0.1:1/v1"}).body(request, "m")
    assert body["tools"] == [{"type": "function", "function": {"name": "search", "description": "Search the workspace.",
                                                               "parameters": tool.parameters}}]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "search"}}
    assert body["messages"][1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_b", "type": "function", "function": {"name": "search", "arguments": '{"pattern": "def "}'}}]}
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_b", "content": "a.py:1"}
    # The local provider declares no tool support and says so before loading anything.
    with pytest.raises(errors.AIError, match="does not take tool declarations"):
        LocalProvider({}).complete(request, "", None, None)
    from marie.ai.tools import ToolCallCollector

    bad = ToolCallCollector("The test server", "test")
    bad.start(0, "x", "search")
    bad.add(0, '["not", "an object"]')
    with pytest.raises(errors.BadResponse, match="not a JSON object"):
        bad.calls()
