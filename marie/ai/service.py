"""``app.ai``: routes each task to a provider and model, falls back, gates and accounts every request.

Routing: ``ai.routing.<task>`` is an ordered list of "provider" or "provider:model"; the first entry
that answers wins. A provider that is down, rate-limited, refused by the gate or missing its key falls
through to the next entry with a note (``Completion.notes`` and a "notice" event). Nothing is retried
once text has been streamed to the caller (the caller would see it twice).

Every request passes the governance egress gate (``marie.governance.gate``) before anything leaves
the machine: the admin policy (local-only, allowed providers, endpoints and models), the budget, the
secret scan (block / redact / warn) and an audit record. ``complete`` is the only way out: callers
that want one particular provider pass ``route="provider[:model]"`` instead of calling a provider
themselves. Placeholders of redacted secrets in the answer are mapped back here, on this machine.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from marie.ai import errors
from marie.ai.anthropic import AnthropicProvider
from marie.ai.local import LocalProvider
from marie.ai.openai_compat import OpenAIProvider
from marie.ai.provider import Provider
from marie.ai.types import Capabilities, ChatRequest, Completion, ToolCall, Usage
from marie.ai.usage import UsageStore, cost_of
from marie.core.event_types import ModelState, PromptProgress
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)

TASKS = ("composer", "commit_message", "chat")


class AIService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.settings = app.settings
        self.usage = UsageStore(cipher=self._usage_cipher)
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()
        self._gates: list[Callable[[Provider, ChatRequest], None]] = []
        self.model_state: dict = {"state": "unloaded", "model": self.settings.get("ai.local.model")}
        self._unsubscribe = self.settings.subscribe(self._settings_changed)

    def _usage_cipher(self) -> Any:
        """The at-rest cipher for usage rows (None: plaintext), asked for each time the store opens."""
        return self._governance().cipher()

    # -- providers ----------------------------------------------------------------------------
    def provider(self, name: str) -> Provider:
        """The provider called ``name`` (built on first use from its settings). Any thread."""
        with self._lock:
            existing = self._providers.get(name)
            if existing is not None:
                return existing
            if name == "local":
                provider: Provider = LocalProvider(self.settings.section("ai.local"), on_state=self._on_local_state,
                                                   on_prompt=self._on_local_prompt)
            else:
                config = self.settings.section(f"ai.providers.{name}")
                plugin = None if config.get("base_url") else self._plugin_provider(name)
                if plugin is not None:
                    # A plugin's provider; it still answers only through complete() and the gate.
                    provider = plugin.factory(dict(config))
                    provider.name = name
                    self._providers[name] = provider
                    return provider
                if not config:
                    raise errors.ModelMissing(f"no provider named {name!r} in the settings (ai.providers.{name})",
                                              provider=name)
                kind = config.get("kind") or ("anthropic" if name == "anthropic" else "openai")
                cls = AnthropicProvider if kind == "anthropic" else OpenAIProvider
                provider = cls(name, config)
            self._providers[name] = provider
            return provider

    def _plugin_provider(self, name: str):
        try:
            return next((p for p in self.app.plugins.providers() if p.name == name), None)
        except Exception:
            log.exception("plugin providers unavailable")
            return None

    def provider_names(self) -> list[str]:
        names = ["local"]
        for key in self.settings.defaults:
            if key.startswith("ai.providers.") and key.endswith(".base_url"):
                names.append(key.split(".")[2])
        return names

    def _settings_changed(self, keys: set[str]) -> None:
        # Rebuild providers whose settings changed (the local worker restarts on next use).
        touched = {k.split(".")[2] for k in keys if k.startswith("ai.providers.")}
        if any(k.startswith("ai.local.") for k in keys):
            touched.add("local")
        with self._lock:
            stale = [self._providers.pop(n) for n in touched if n in self._providers]
        for provider in stale:
            provider.close()

    def _on_local_prompt(self, model: str, done: int, total: int) -> None:
        # The local worker's prompt-reading progress, for every view (reader thread; the bus hops).
        self.app.events.publish(PromptProgress(model, done, total))

    def _on_local_state(self, state: str, detail: dict) -> None:
        self.model_state = {"state": state, **detail}
        self.app.events.publish(ModelState(state, detail.get("model", ""), dict(detail)))

    # -- routing ------------------------------------------------------------------------------
    def route(self, task: str) -> list[tuple[str, str]]:
        """[(provider, model)] in order of preference for ``task``."""
        entries = self.settings.section("ai.routing").get(task)
        if entries is None:
            raise ValueError(f"unknown AI task {task!r}; known: {', '.join(TASKS)}")
        out = []
        for entry in entries or ["local"]:
            provider, _, model = str(entry).partition(":")
            out.append((provider.strip(), model.strip()))
        return out

    def _model_for(self, provider: Provider, model: str) -> str:
        if model:
            return model
        if isinstance(provider, LocalProvider):
            return provider.model_name()
        return str(getattr(provider, "config", {}).get("model", ""))

    def active_model(self, task: str) -> str:
        """"provider:model" of the first route entry for ``task``. Any thread."""
        name, model = self.route(task)[0]
        try:
            return f"{name}:{self._model_for(self.provider(name), model)}"
        except errors.AIError:
            return f"{name}:{model}"

    def capabilities(self, task: str) -> Capabilities:
        name, model = self.route(task)[0]
        provider = self.provider(name)
        return provider.capabilities(self._model_for(provider, model))

    def count_tokens(self, text: str, task: str) -> int:
        """Tokens of ``text`` for the task's first model (exact for local models). Worker thread."""
        name, model = self.route(task)[0]
        provider = self.provider(name)
        return provider.count_tokens(text, self._model_for(provider, model))

    # -- the gate -----------------------------------------------------------------------------
    def add_gate(self, gate: Callable[[Provider, ChatRequest], None]) -> None:
        """Add an extra check run after the governance gate (it raises ``errors.Refused``)."""
        self._gates.append(gate)

    def _governance(self) -> Any:
        # The app builds governance; ai never imports it (governance imports ai's types: no cycle).
        return self.app.governance

    def gate(self, provider: Provider, request: ChatRequest, task: str = "chat", model: str = "", *,
             redact: bool = False) -> Any:
        """The single point every request passes before it is sent; returns the ``GateOutcome``.

        Send ``outcome.request``, never the request passed in. A caller that does not (``redact``
        False, the default: it may ignore the return value) gets a refusal instead of a redaction
        when the prompt holds secrets, so nothing raw leaves either way; ``complete`` redacts.
        Raises ``errors.Refused``. Worker thread."""
        outcome = self._governance().gate.check(task, provider, model, request, allow_redact=redact)
        for check in self._gates:
            check(provider, outcome.request)
        return outcome

    def gate_text(self, task: str, destination: str, text: str, *, local: bool = False) -> Any:
        """The gate for a payload that is not a chat request (MCP calls to remote servers, raw
        fill-in-the-middle prompts): send ``outcome.request.messages[0].content`` and map an answer
        back with ``outcome.restore``. Raises ``errors.Refused``. Worker thread."""
        return self._governance().gate.check_text(task, destination, text, local=local)

    # -- requests -----------------------------------------------------------------------------
    def complete(self, task: str, request: ChatRequest, token: CancelToken | None = None,
                 on_text: Callable[[str], None] | None = None, route: str | None = None) -> Completion:
        """Run ``request`` for ``task``; blocking, call on a worker. ``on_text`` runs on this thread.

        ``route`` ("provider" or "provider:model") sends to that provider only, instead of the task's
        routing list; the request still passes the gate and is accounted under ``task``."""
        notes: list[str] = []
        streamed = [False]

        def forward(piece: str) -> None:
            streamed[0] = True
            if on_text:
                on_text(piece)

        if route:
            provider_name, _, model_name = route.partition(":")
            route_list = [(provider_name.strip(), model_name.strip())]
        else:
            route_list = self.route(task)
        last_error: errors.AIError | None = None
        for index, (name, model) in enumerate(route_list):
            if token is not None and token.cancelled:
                raise Cancelled()
            started = time.perf_counter()
            try:
                provider = self.provider(name)
                model = self._model_for(provider, model)
                outcome = self.gate(provider, request, task, model, redact=True)
                result = provider.complete(outcome.request, model, token, forward)
            except Cancelled:
                raise
            except errors.AIError as exc:
                last_error = exc
                self._record_failure(task, name, model, exc, time.perf_counter() - started)
                if streamed[0] or index == len(route_list) - 1:
                    if notes:
                        exc.message = " ".join(notes) + " " + exc.message
                        exc.args = (exc.message,)
                    raise
                nxt = route_list[index + 1][0]
                note = f"{name} failed ({exc.message.rstrip('.')}); falling back to {nxt}."
                notes.append(note)
                self.app.events.notice(note, "warning")
                continue
            usage = result.usage
            usage.cost_usd = cost_of(usage, result.model, self.settings.get("ai.prices", {}) or {})
            try:
                self.usage.record(task, name, result.model, usage, ttft_s=result.ttft_s)
            except Exception:   # the answer is here: a usage file problem must not lose it
                log.exception("could not record usage")
            self._audit_result(outcome, task, name, result.model, usage, ok=True)
            calls = [ToolCall(c.id, c.name, _restore_args(outcome, c.arguments)) for c in result.tool_calls]
            return Completion(outcome.restore(result.text), usage, name, result.model, notes + list(result.notes),
                              calls)
        raise last_error or errors.AIError(f"no provider is configured for {task}")

    def _audit_result(self, outcome: Any, task: str, provider: str, model: str, usage: Usage, ok: bool) -> None:
        try:
            self._governance().audit.record("ai.result", request_seq=outcome.audit_seq, task=task, provider=provider,
                                            model=model, ok=ok, prompt_tokens=usage.prompt_tokens,
                                            completion_tokens=usage.completion_tokens,
                                            cached_tokens=usage.cached_tokens, cost_usd=usage.cost_usd)
        except Exception:
            log.exception("could not audit the result")

    def _record_failure(self, task: str, provider: str, model: str, exc: errors.AIError, seconds: float) -> None:
        try:
            self.usage.record(task, provider, model or "", Usage(latency_s=seconds), ok=False,
                              error=f"{type(exc).__name__}: {exc.message}")
        except Exception:
            log.exception("could not record usage")

    # -- local model lifecycle ----------------------------------------------------------------
    def preload(self) -> Any:
        """Load the local model in the background (GUI-safe); progress via ``ModelState`` events."""
        provider = self.provider("local")
        assert isinstance(provider, LocalProvider)
        return provider.load_async(self.app.tasks)

    def close(self) -> None:
        self._unsubscribe()
        with self._lock:
            providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            try:
                provider.close()
            except Exception:
                log.exception("closing provider %s failed", provider.name)


def _restore_args(outcome: Any, arguments: dict) -> dict:
    """Tool-call arguments with redaction placeholders mapped back (only when there are any)."""
    if not outcome.mapping:
        return arguments
    import json

    try:
        return json.loads(outcome.restore(json.dumps(arguments, ensure_ascii=False)))
    except ValueError:
        return arguments
