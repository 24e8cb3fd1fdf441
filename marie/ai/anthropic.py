"""Anthropic Messages API with streamed events (message_start, content_block_delta, message_delta,
message_stop, ping, error). Blocking ``complete`` (worker thread); the socket is read on a helper thread.
"""

from __future__ import annotations

import json
import time
from typing import Callable

from marie.ai import errors, keys, tools
from marie.ai.http_common import parse_json, stream_post, usage_of
from marie.ai.provider import Provider, Result, Stream
from marie.ai.types import Capabilities, ChatRequest, Message
from marie.core.tasks import CancelToken

API_VERSION = "2023-06-01"
_ERROR_TYPES = {"authentication_error": errors.AuthError, "permission_error": errors.AuthError,
                "rate_limit_error": errors.RateLimited, "overloaded_error": errors.RateLimited,
                "not_found_error": errors.ModelMissing, "api_error": errors.ServerDown}


_EPHEMERAL = {"type": "ephemeral"}
_MAX_BREAKPOINTS = 4
# A context shorter than this cannot reach the API's minimum cacheable prefix (1,024 tokens) anyway.
_MIN_CONTEXT_CHARS = 1024


def usage_meta(u: dict) -> dict:
    """Usage fields of a ``message_start``/``message_delta`` event -> our meta keys (only those present).

    Anthropic's ``input_tokens`` leaves out the cached part; ``prompt_tokens`` here counts every
    input token: fresh + read from the cache + written to it.
    """
    out: dict = {}
    if "output_tokens" in u:
        out["completion_tokens"] = int(u.get("output_tokens") or 0)
    parts = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    if any(u.get(k) is not None for k in parts):
        fresh, read, write = (int(u.get(k) or 0) for k in parts)
        out.update(prompt_tokens=fresh + read + write, cached_tokens=read, cache_write_tokens=write)
    return out


def _blocks(m: Message) -> list[list]:
    """A message's content blocks (text, tool_use, tool_result), each with no breakpoint yet."""
    if m.role == "tool":
        return [[{"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}, False]]
    blocks = [[{"type": "text", "text": m.content}, False]] if m.content or not m.tool_calls else []
    blocks += [[{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}, False] for c in m.tool_calls]
    return blocks


def _place_breakpoints(turns: list[dict], used: int) -> None:
    """Mark the blocks after which the prompt cache should break (``used``: breakpoints already spent).

    Marked messages, or else the stable context opening the first user turn, then the end of the
    history before the last user turn; only the first four breakpoints of the prompt are kept.
    """
    explicit = any(block[1] for turn in turns for block in turn["blocks"])
    if not explicit and turns and turns[0]["role"] == "user" and turns[0]["blocks"][0][0]["type"] == "text":
        text = turns[0]["blocks"][0][0]["text"]
        cut = text.rfind("\n\n")
        if cut >= _MIN_CONTEXT_CHARS and text[cut + 2:].strip():
            # The stable context gets its own block, so a new question over it still hits the cache.
            turns[0]["blocks"][0:1] = [[{"type": "text", "text": text[:cut + 2]}, True],
                                       [{"type": "text", "text": text[cut + 2:]}, False]]
        elif len(turns) > 1:
            turns[0]["blocks"][-1][1] = True
    if len(turns) > 2:
        turns[-2]["blocks"][-1][1] = True  # the history before the last user turn
    for turn in turns:
        for block in turn["blocks"]:
            if block[1]:
                block[1] = used < _MAX_BREAKPOINTS
                used += block[1]


class AnthropicProvider(Provider):
    """``config``: base_url, model, headers, timeout_s, context_length, prompt_cache (bool)."""

    local = False

    def __init__(self, name: str, config: dict) -> None:
        self.name = name
        self.config = config
        self.base_url = str(config.get("base_url", "https://api.anthropic.com")).rstrip("/")

    def capabilities(self, model: str) -> Capabilities:
        return Capabilities(context_length=int(self.config.get("context_length", 200000)), grammar=False,
                            json_schema=False, tools=True, local=False)

    def body(self, request: ChatRequest, model: str) -> dict:
        """The Messages API request body, with prompt-cache breakpoints (``cache_control``).

        Breakpoints (the API allows four; the first four are kept): the end of the system prompt;
        the messages marked ``cache=True``, or else the large stable context that opens the first
        user message (its text up to the last paragraph break: callers put context first and the
        question last); and the end of the conversation before the last user turn (a retry or a
        follow-up reuses the whole history). Prefixes shorter than the model's minimum (1,024 or
        2,048 tokens) are simply not cached by the API. ``prompt_cache = false`` turns this off.
        """
        if request.grammar or request.json_schema is not None:
            raise errors.AIError("Anthropic models do not take grammars or JSON schemas here; route this task to "
                                 "a local or OpenAI-compatible model", provider=self.name)
        tools.check_request(request, self.name, True)
        caching = bool(self.config.get("prompt_cache", True))
        system_text = "\n\n".join(m.content for m in request.messages if m.role == "system")
        # Consecutive messages of one role become one turn of several content blocks; tool results
        # are user turns. Each block is [content block, cache breakpoint after it?].
        turns: list[dict] = []
        for m in request.messages:
            if m.role == "system":
                continue
            role = "user" if m.role == "tool" else m.role
            blocks = _blocks(m)
            blocks[-1][1] = m.cache
            if turns and turns[-1]["role"] == role:
                turns[-1]["blocks"].extend(blocks)
            else:
                turns.append({"role": role, "blocks": blocks})
        if caching:
            _place_breakpoints(turns, 1 if system_text else 0)
        messages = []
        for turn in turns:
            blocks = turn["blocks"]
            if len(blocks) == 1 and blocks[0][0]["type"] == "text" and not (caching and blocks[0][1]):
                messages.append({"role": turn["role"], "content": blocks[0][0]["text"]})
                continue
            content = []
            for block, mark in blocks:
                if caching and mark:
                    block = {**block, "cache_control": dict(_EPHEMERAL)}
                content.append(block)
            messages.append({"role": turn["role"], "content": content})
        body: dict = {"model": model or self.config.get("model", ""), "max_tokens": request.max_tokens,
                      "stream": True, "temperature": request.temperature, "messages": messages}
        if system_text:
            if caching:
                body["system"] = [{"type": "text", "text": system_text, "cache_control": dict(_EPHEMERAL)}]
            else:
                body["system"] = system_text
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        if request.tools:
            body.update(tools.anthropic_tools(request.tools, request.tool_choice))
        return body

    def complete(self, request: ChatRequest, model: str, token: CancelToken | None,
                 on_text: Callable[[str], None] | None) -> Result:
        started = time.perf_counter()
        key, _where = keys.get_key(self.name)
        if not key:
            raise errors.AuthError(f"No API key for {self.name!r}. {keys.where_to_put(self.name)}", provider=self.name)
        headers = {"x-api-key": key, "anthropic-version": API_VERSION, "content-type": "application/json",
                   "accept": "text/event-stream"}
        headers.update({str(k): str(v) for k, v in dict(self.config.get("headers", {}) or {}).items()})
        body = self.body(request, model)
        url = f"{self.base_url}/v1/messages"
        timeout = float(self.config.get("timeout_s", 60.0))
        what = f"The {self.name} API"
        calls = tools.ToolCallCollector(what, self.name)

        def handle(stream: Stream, event: str, data: str) -> bool:
            payload = parse_json(data, what)
            if not isinstance(payload, dict):
                raise errors.BadResponse(f"{what} sent an unexpected event: {data[:80]!r}", provider=self.name)
            kind = payload.get("type") or event
            if kind == "message_start":
                message = payload.get("message") or {}
                stream.meta(model=message.get("model", ""), **usage_meta(message.get("usage") or {}))
            elif kind == "content_block_start":
                block = payload.get("content_block") or {}
                if block.get("type") == "tool_use":
                    index = int(payload.get("index", 0))
                    calls.start(index, block.get("id"), block.get("name"))
                    if block.get("input"):  # normally {} with the input streamed as input_json_delta
                        calls.add(index, json.dumps(block["input"]))
            elif kind == "content_block_delta":
                delta = payload.get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    stream.text(delta["text"])
                elif delta.get("type") == "input_json_delta":
                    calls.add(int(payload.get("index", 0)), delta.get("partial_json") or "")
            elif kind == "message_delta":
                # Its usage is cumulative; newer API versions repeat the input and cache counts here.
                u = payload.get("usage") or {}
                stream.meta(**usage_meta(u))
                reason = (payload.get("delta") or {}).get("stop_reason")
                if reason:
                    stream.meta(finish=reason)
            elif kind == "message_stop":
                return True
            elif kind == "error":
                err = payload.get("error") or {}
                cls = _ERROR_TYPES.get(err.get("type", ""), errors.AIError)
                raise cls(f"{what} reported {err.get('type', 'an error')}: "
                          f"{keys.redact(str(err.get('message', '')), key)}", provider=self.name)
            # ping, content_block_stop: nothing to do
            return False

        text, meta = stream_post(self.name, url, body, headers, key=key, timeout=timeout, what=what,
                                 base_url=self.base_url, handle=handle, token=token, on_text=on_text,
                                 unfinished=f"{what} closed the stream before message_stop")
        # stream_post returns after the producer handled the last event: the collector is complete.
        return Result(text, usage_of(meta, started), meta.get("model") or body["model"], ttft_s=meta.get("ttft_s"),
                      finish=str(meta.get("finish", "")), tool_calls=calls.calls())
