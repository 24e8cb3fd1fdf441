"""OpenAI-compatible chat completions over httpx with SSE streaming.

Works with llama.cpp's server, vLLM, Ollama, LM Studio and OpenAI itself: base URL, model, extra
headers are configurable. Blocking ``complete`` (worker thread); the socket is read on a helper thread.
"""

from __future__ import annotations

import json
import time
from typing import Callable

import httpx

from marie.ai import errors, keys, tools
from marie.ai.http_common import parse_json, stream_post, usage_of
from marie.ai.provider import Provider, Result, Stream
from marie.ai.types import Capabilities, ChatRequest, Message
from marie.core.tasks import CancelToken


def usage_meta(u: dict) -> dict:
    """The ``usage`` object of a chunk -> our meta keys. ``prompt_tokens`` includes the cached part;
    servers with a prompt cache report it as ``prompt_tokens_details.cached_tokens`` (OpenAI, vLLM)."""
    details = u.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    return {"prompt_tokens": int(u.get("prompt_tokens") or 0), "completion_tokens": int(u.get("completion_tokens") or 0),
            "cached_tokens": int(cached or 0)}


def message_json(m: Message) -> dict:
    """One message in the chat completions shape (tool calls and tool results included)."""
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    out: dict = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [{"id": c.id, "type": "function",
                              "function": {"name": c.name, "arguments": json.dumps(c.arguments)}} for c in m.tool_calls]
    return out


class StreamParser:
    """Chat completion chunks -> text, usage and finish on the stream; tool-call pieces collected.

    ``handle(stream, event, data)`` is the SSE handler of ``stream_post`` (producer thread).
    """

    def __init__(self, what: str, provider: str, key: str | None) -> None:
        self.what, self.provider, self.key = what, provider, key
        self.tool_calls = tools.ToolCallCollector(what, provider)

    def handle(self, stream: Stream, _event: str, data: str) -> bool:
        what = self.what
        if data.strip() == "[DONE]":
            return True
        chunk = parse_json(data, what)
        if not isinstance(chunk, dict):
            raise errors.BadResponse(f"{what} sent an unexpected event: {data[:80]!r}", provider=self.provider)
        if "error" in chunk:
            err = chunk["error"]
            msg = err.get("message", str(err)) if isinstance(err, dict) else str(err)
            raise errors.AIError(f"{what} reported an error: {keys.redact(msg, self.key)}", provider=self.provider)
        if chunk.get("usage"):
            stream.meta(**usage_meta(chunk["usage"]))
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            piece = delta.get("content")
            if piece:
                stream.text(piece)
            for call in delta.get("tool_calls") or []:
                index = int(call.get("index", 0))
                function = call.get("function") or {}
                self.tool_calls.start(index, call.get("id"), function.get("name"))
                self.tool_calls.add(index, function.get("arguments") or "")
            if choice.get("finish_reason"):
                stream.meta(finish=choice["finish_reason"])
        return False


class OpenAIProvider(Provider):
    """``config``: base_url, model, headers (table), timeout_s, context_length, grammar (bool),
    schema_format ("json_schema" for OpenAI/vLLM/Ollama, "json_object" for llama-cpp-python), needs_key."""

    local = False

    def __init__(self, name: str, config: dict) -> None:
        self.name = name
        self.config = config
        self.base_url = str(config.get("base_url", "")).rstrip("/")
        # Loopback servers count as on this machine for the local-only gate.
        host = httpx.URL(self.base_url).host if self.base_url else ""
        self.local = host in ("127.0.0.1", "localhost", "::1")

    def capabilities(self, model: str) -> Capabilities:
        return Capabilities(context_length=int(self.config.get("context_length", 8192)),
                            grammar=bool(self.config.get("grammar", False)), json_schema=True,
                            tools=True, local=self.local)

    def _headers(self) -> tuple[dict, str | None]:
        headers = {"Accept": "text/event-stream", "Content-Type": "application/json"}
        headers.update({str(k): str(v) for k, v in dict(self.config.get("headers", {}) or {}).items()})
        key, _ = keys.get_key(self.name)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        elif self.config.get("needs_key", False):
            raise errors.AuthError(f"No API key for {self.name!r}. {keys.where_to_put(self.name)}", provider=self.name)
        return headers, key

    def body(self, request: ChatRequest, model: str) -> dict:
        tools.check_request(request, self.name, True)
        body: dict = {"model": model or self.config.get("model", ""), "stream": True,
                      "messages": [message_json(m) for m in request.messages],
                      "max_tokens": request.max_tokens, "temperature": request.temperature,
                      "seed": request.seed, "stream_options": {"include_usage": True}}
        if request.stop:
            body["stop"] = list(request.stop)
        if request.tools:
            body.update(tools.openai_tools(request.tools, request.tool_choice))
        if request.grammar:
            if not self.config.get("grammar", False):
                raise errors.AIError(f"{self.name} does not accept GBNF grammars (set grammar = true for a "
                                     "llama.cpp server)", provider=self.name)
            body["grammar"] = request.grammar
        elif request.json_schema is not None:
            if self.config.get("schema_format", "json_schema") == "json_object":
                body["response_format"] = {"type": "json_object", "schema": request.json_schema}
            else:
                body["response_format"] = {"type": "json_schema",
                                           "json_schema": {"name": "output", "schema": request.json_schema, "strict": True}}
        return body

    def complete(self, request: ChatRequest, model: str, token: CancelToken | None,
                 on_text: Callable[[str], None] | None) -> Result:
        started = time.perf_counter()
        headers, key = self._headers()
        body = self.body(request, model)
        url = f"{self.base_url}/chat/completions"
        timeout = float(self.config.get("timeout_s", 60.0))
        what = f"The {self.name} server"
        parser = StreamParser(what, self.name, key)
        pieces = [0]

        def counted(piece: str) -> None:
            pieces[0] += 1
            if on_text:
                on_text(piece)

        text, meta = stream_post(self.name, url, body, headers, key=key, timeout=timeout, what=what,
                                 base_url=self.base_url, handle=parser.handle, token=token, on_text=counted,
                                 unfinished=f"{what} closed the stream before it finished")
        # stream_post returns after the producer handled the last event: the collector is complete.
        usage = usage_of(meta, started)
        if not usage.prompt_tokens and not usage.completion_tokens:
            # Some servers (llama-cpp-python's, 0.3) ignore stream_options.include_usage: estimate,
            # so usage reports and budgets do not read zero. A chunk carries about one token there.
            usage.prompt_tokens = sum(self.count_tokens(m.content, model) + 4 for m in request.messages)
            usage.completion_tokens = pieces[0] or (self.count_tokens(text, model) if text else 0)
            usage.estimated = True
        return Result(text, usage, body["model"], ttft_s=meta.get("ttft_s"),
                      finish=str(meta.get("finish", "")), tool_calls=parser.tool_calls.calls())
