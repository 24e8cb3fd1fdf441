"""How one completion request goes out: the local worker, ``/v1/completions`` or llama.cpp's
``/infill``. Every backend passes ``app.ai.gate`` with the exact text that leaves before it sends.

* ``LocalBackend``: a raw prompt to the llama.cpp worker (``LocalProvider.complete_prompt``): FIM
  when the model's vocabulary has FIM tokens (``fim.detect``), plain prefix otherwise. The worker
  keeps the model and its KV cache, so a prompt that only grew at the caret costs the new tokens.
  When another request (composer, agent) holds the model, completion is skipped, not queued.
* ``CompletionsBackend``: OpenAI-compatible ``POST {base_url}/completions`` with ``prompt`` and,
  where the server does FIM from it (``api = "completions+suffix"``), ``suffix``.
* ``InfillBackend``: llama.cpp server ``POST {root}/infill`` with input_prefix/input_suffix/input_extra.

``run`` is blocking: call it on a worker thread. It returns None when skipped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Protocol

from marie.ai import errors, models
from marie.ai.http_common import parse_json, stream_post, usage_of
from marie.ai.openai_compat import usage_meta
from marie.ai.provider import Provider, Result, Stream
from marie.ai.types import ChatRequest, Message
from marie.completion import fim as fim_mod
from marie.completion import prompt as prompts
from marie.completion.context import CompletionContext
from marie.core.tasks import CancelToken




class Backend(Protocol):
    provider: Provider
    model: str
    takes_suffix: bool

    def run(self, ctx: CompletionContext, *, max_tokens: int, token: CancelToken | None,
            on_text: Callable[[str], None] | None) -> Result | None: ...


def _gate(app: Any, provider: Provider, model: str, text: str, max_tokens: int) -> None:
    """The governance gate (policy, budget, secret scan, audit) sees what leaves, as one user
    message; raises ``errors.Refused``. No redaction: a prompt with a secret in it is not sent
    (a redacted prompt would complete different code than the user sees)."""
    app.ai.gate(provider, ChatRequest([Message("user", text)], max_tokens=max_tokens), "completion", model)


def local_model_path(name: str) -> Path | None:
    """The GGUF file of local model ``name`` (None when it cannot be resolved). Any thread."""
    try:
        if name == models.DEFAULT_MODEL_ID:
            return models.default_model_path(ensure=False)
        return models.resolve_model(name)
    except errors.AIError:
        return None


class LocalBackend:
    """A raw prompt to a ``LocalProvider`` (its worker process keeps the model loaded)."""

    def __init__(self, app: Any, provider: Any, model: str) -> None:
        self.app, self.provider, self.model = app, provider, model
        self.fim = fim_mod.detect_quietly(local_model_path(model))
        self.takes_suffix = self.fim is not None

    def prompt_for(self, ctx: CompletionContext) -> str:
        return prompts.fim_prompt(ctx, self.fim) if self.fim is not None else prompts.prefix_prompt(ctx)

    def run(self, ctx: CompletionContext, *, max_tokens: int, token: CancelToken | None,
            on_text: Callable[[str], None] | None) -> Result | None:
        text = self.prompt_for(ctx)
        _gate(self.app, self.provider, self.model, text, max_tokens)
        result = self.provider.complete_prompt(text, self.model, max_tokens=max_tokens,
                                               stop=prompts.stops_for(ctx, self.fim), token=token,
                                               on_text=on_text, skip_if_busy=True)
        if result is None:
            return None
        return result


class _HttpBackend:
    """Shared by the two HTTP endpoints: headers, the gate, streaming through ``stream_post``."""

    path = ""

    def __init__(self, app: Any, provider: Any, model: str) -> None:
        self.app, self.provider, self.model = app, provider, model or str(provider.config.get("model", ""))
        self.base_url = provider.base_url

    def url(self) -> str:
        return f"{self.base_url}{self.path}"

    def body(self, ctx: CompletionContext, max_tokens: int) -> dict:
        raise NotImplementedError

    def handle(self, stream: Stream, _event: str, data: str) -> bool:
        raise NotImplementedError

    def chunk(self, data: str) -> dict | None:
        """One event's JSON object (None for the final ``[DONE]``); a server error raises."""
        if data.strip() == "[DONE]":
            return None
        chunk = parse_json(data, f"The {self.provider.name} server")
        if not isinstance(chunk, dict):
            raise errors.BadResponse(f"unexpected event from {self.provider.name}: {data[:80]!r}",
                                     provider=self.provider.name)
        if "error" in chunk:
            raise errors.AIError(f"The {self.provider.name} server reported an error: {chunk['error']}",
                                 provider=self.provider.name)
        return chunk

    def run(self, ctx: CompletionContext, *, max_tokens: int, token: CancelToken | None,
            on_text: Callable[[str], None] | None) -> Result | None:
        body = self.body(ctx, max_tokens)
        leaving = "\n".join(str(v) for k, v in body.items() if k in ("prompt", "suffix", "input_prefix",
                                                                      "input_suffix", "input_extra"))
        _gate(self.app, self.provider, self.model, leaving, max_tokens)
        headers, key = self.provider._headers()   # the provider's own auth (keyring / environment)
        started = time.perf_counter()
        what = f"The {self.provider.name} server"
        text, meta = stream_post(self.provider.name, self.url(), body, headers, key=key,
                                 timeout=float(self.provider.config.get("timeout_s", 60.0)), what=what,
                                 base_url=self.base_url, handle=self.handle, token=token, on_text=on_text,
                                 unfinished=f"{what} closed the stream before it finished")
        return Result(text, usage_of(meta, started), body.get("model") or self.model, meta.get("ttft_s"),
                      str(meta.get("finish", "")))


class CompletionsBackend(_HttpBackend):
    """OpenAI-compatible ``/completions`` (``base_url`` ends in ``/v1``)."""

    path = "/completions"

    def __init__(self, app: Any, provider: Any, model: str, with_suffix: bool) -> None:
        super().__init__(app, provider, model)
        self.takes_suffix = with_suffix

    def body(self, ctx: CompletionContext, max_tokens: int) -> dict:
        fields = prompts.remote_fields(ctx)
        body: dict = {"model": self.model, "prompt": fields.prompt, "max_tokens": max_tokens, "temperature": 0.0,
                      "stream": True, "stop": list(prompts.stops_for(ctx, None))[:4],
                      "stream_options": {"include_usage": True}}
        if self.takes_suffix:
            body["suffix"] = fields.suffix
        return body

    def handle(self, stream: Stream, _event: str, data: str) -> bool:
        chunk = self.chunk(data)
        if chunk is None:
            return True
        if chunk.get("usage"):
            stream.meta(**usage_meta(chunk["usage"]))
        for choice in chunk.get("choices") or []:
            if choice.get("text"):
                stream.text(choice["text"])
            if choice.get("finish_reason"):
                stream.meta(finish=choice["finish_reason"])
        return False


class InfillBackend(_HttpBackend):
    """llama.cpp server's ``/infill`` (at the server root: a ``/v1`` at the end of base_url is dropped)."""

    path = "/infill"
    takes_suffix = True

    def __init__(self, app: Any, provider: Any, model: str) -> None:
        super().__init__(app, provider, model)
        self.base_url = self.base_url.removesuffix("/v1")

    def body(self, ctx: CompletionContext, max_tokens: int) -> dict:
        fields = prompts.remote_fields(ctx)
        return {"input_prefix": fields.prefix, "input_suffix": fields.suffix,
                "input_extra": [{"filename": name, "text": text} for name, text in fields.extra],
                "prompt": "", "n_predict": max_tokens, "temperature": 0.0, "stream": True,
                "cache_prompt": True, "stop": list(prompts.stops_for(ctx, None))}

    def handle(self, stream: Stream, _event: str, data: str) -> bool:
        chunk = self.chunk(data)
        if chunk is None:
            return True
        if chunk.get("content"):
            stream.text(chunk["content"])
        if chunk.get("stop"):
            timings = chunk.get("timings") or {}
            stream.meta(prompt_tokens=int(chunk.get("tokens_evaluated") or timings.get("prompt_n") or 0),
                        completion_tokens=int(chunk.get("tokens_predicted") or timings.get("predicted_n") or 0),
                        cached_tokens=int(chunk.get("tokens_cached") or timings.get("cache_n") or 0),
                        finish=str(chunk.get("stop_type") or "stop"))
            return True
        return False
