"""OpenAI-compatible chat completions over httpx with SSE streaming.

Works with llama.cpp's server, vLLM, Ollama, LM Studio and OpenAI itself: base URL, model, extra
headers are configurable. Blocking ``complete`` (worker thread); the socket is read on a helper thread.
"""

from __future__ import annotations

import time
from typing import Callable

import httpx

from marie.ai import errors, keys
from marie.ai.http_common import connect_error, error_for_status, parse_json, sse_events, start_producer
from marie.ai.provider import Provider, Result, Stream, pump
from marie.ai.types import Capabilities, ChatRequest, Usage
from marie.core.tasks import CancelToken


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
        body: dict = {"model": model or self.config.get("model", ""), "stream": True,
                      "messages": [{"role": m.role, "content": m.content} for m in request.messages],
                      "max_tokens": request.max_tokens, "temperature": request.temperature,
                      "seed": request.seed, "stream_options": {"include_usage": True}}
        if request.stop:
            body["stop"] = list(request.stop)
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
        responses: list[httpx.Response] = []

        def produce(stream: Stream) -> None:
            try:
                with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))) as client:
                    with client.stream("POST", url, json=body, headers=headers) as response:
                        responses.append(response)
                        if response.status_code >= 400:
                            text = response.read().decode("utf-8", "replace")
                            raise error_for_status(response.status_code, text, what, self.name,
                                                   response.headers.get("retry-after"), key)
                        saw_done = False
                        for _event, data in sse_events(response.iter_lines()):
                            if stream.stopped.is_set():
                                return
                            if data.strip() == "[DONE]":
                                saw_done = True
                                break
                            chunk = parse_json(data, what)
                            if not isinstance(chunk, dict):
                                raise errors.BadResponse(f"{what} sent an unexpected event: {data[:80]!r}", provider=self.name)
                            if "error" in chunk:
                                err = chunk["error"]
                                msg = err.get("message", str(err)) if isinstance(err, dict) else str(err)
                                raise errors.AIError(f"{what} reported an error: {keys.redact(msg, key)}", provider=self.name)
                            if chunk.get("usage"):
                                u = chunk["usage"]
                                cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0
                                stream.meta(prompt_tokens=u.get("prompt_tokens", 0),
                                            completion_tokens=u.get("completion_tokens", 0), cached_tokens=cached)
                            for choice in chunk.get("choices") or []:
                                piece = (choice.get("delta") or {}).get("content")
                                if piece:
                                    stream.text(piece)
                                if choice.get("finish_reason"):
                                    stream.meta(finish=choice["finish_reason"])
                        if not saw_done and not stream.stopped.is_set():
                            raise errors.BadResponse(f"{what} closed the stream before it finished", provider=self.name)
            except httpx.HTTPError as exc:
                if stream.stopped.is_set():
                    return
                raise connect_error(exc, what, self.base_url, self.name) from None

        stream = Stream()
        start_producer(produce, stream, f"marie-ai-{self.name}")
        text, meta = pump(stream, token, on_text, timeout, what,
                          on_cancel=lambda: [r.close() for r in responses])
        usage = Usage(prompt_tokens=int(meta.get("prompt_tokens", 0)),
                      completion_tokens=int(meta.get("completion_tokens", 0)),
                      cached_tokens=int(meta.get("cached_tokens", 0)),
                      latency_s=time.perf_counter() - started)
        return Result(text, usage, body["model"], ttft_s=meta.get("ttft_s"), finish=str(meta.get("finish", "")))
