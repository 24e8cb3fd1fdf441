"""Anthropic Messages API with streamed events (message_start, content_block_delta, message_delta,
message_stop, ping, error). Blocking ``complete`` (worker thread); the socket is read on a helper thread.
"""

from __future__ import annotations

import time
from typing import Callable

from marie.ai import errors, keys
from marie.ai.http_common import parse_json, stream_post, usage_of
from marie.ai.provider import Provider, Result, Stream
from marie.ai.types import Capabilities, ChatRequest
from marie.core.tasks import CancelToken

API_VERSION = "2023-06-01"
_ERROR_TYPES = {"authentication_error": errors.AuthError, "permission_error": errors.AuthError,
                "rate_limit_error": errors.RateLimited, "overloaded_error": errors.RateLimited,
                "not_found_error": errors.ModelMissing, "api_error": errors.ServerDown}


class AnthropicProvider(Provider):
    """``config``: base_url, model, headers, timeout_s, context_length."""

    local = False

    def __init__(self, name: str, config: dict) -> None:
        self.name = name
        self.config = config
        self.base_url = str(config.get("base_url", "https://api.anthropic.com")).rstrip("/")

    def capabilities(self, model: str) -> Capabilities:
        return Capabilities(context_length=int(self.config.get("context_length", 200000)), grammar=False,
                            json_schema=False, tools=True, local=False)

    def body(self, request: ChatRequest, model: str) -> dict:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        body: dict = {"model": model or self.config.get("model", ""), "max_tokens": request.max_tokens,
                      "stream": True, "temperature": request.temperature,
                      "messages": [{"role": m.role, "content": m.content} for m in request.messages if m.role != "system"]}
        if system:
            body["system"] = system
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        if request.grammar or request.json_schema is not None:
            raise errors.AIError("Anthropic models do not take grammars or JSON schemas here; route this task to "
                                 "a local or OpenAI-compatible model", provider=self.name)
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

        def handle(stream: Stream, event: str, data: str) -> bool:
            payload = parse_json(data, what)
            if not isinstance(payload, dict):
                raise errors.BadResponse(f"{what} sent an unexpected event: {data[:80]!r}", provider=self.name)
            kind = payload.get("type") or event
            if kind == "message_start":
                message = payload.get("message") or {}
                u = message.get("usage") or {}
                stream.meta(model=message.get("model", ""),
                            prompt_tokens=int(u.get("input_tokens", 0)) + int(u.get("cache_read_input_tokens", 0) or 0)
                            + int(u.get("cache_creation_input_tokens", 0) or 0),
                            cached_tokens=int(u.get("cache_read_input_tokens", 0) or 0),
                            completion_tokens=int(u.get("output_tokens", 0)))
            elif kind == "content_block_delta":
                delta = payload.get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    stream.text(delta["text"])
            elif kind == "message_delta":
                u = payload.get("usage") or {}
                if "output_tokens" in u:
                    stream.meta(completion_tokens=int(u["output_tokens"]))
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
            # ping, content_block_start/stop: nothing to do
            return False

        text, meta = stream_post(self.name, url, body, headers, key=key, timeout=timeout, what=what,
                                 base_url=self.base_url, handle=handle, token=token, on_text=on_text,
                                 unfinished=f"{what} closed the stream before message_stop")
        return Result(text, usage_of(meta, started), meta.get("model") or body["model"], ttft_s=meta.get("ttft_s"),
                      finish=str(meta.get("finish", "")))
