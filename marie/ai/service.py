"""``app.ai``: routes each task to a provider and model, falls back, gates and accounts every request.

Routing: ``ai.routing.<task>`` is an ordered list of "provider" or "provider:model"; the first entry
that answers wins. A provider that is down, rate-limited, refused by the gate or missing its key falls
through to the next entry with a note (``Completion.notes`` and a "notice" event). Nothing is retried
once text has been streamed to the caller (the caller would see it twice).

Every request passes ``self.gate(provider, request)`` before anything leaves the machine: today it
enforces ``ai.local_only``; the governance policy plugs in at this point (``add_gate``).
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
from marie.ai.types import Capabilities, ChatRequest, Completion, Usage
from marie.ai.usage import UsageStore, cost_of
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)

TASKS = ("composer", "commit_message", "chat")
MODEL_STATE = "ai.model_state"  # event: state ("unloaded"|"loading"|"ready"|"error"), model, detail


class AIService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.settings = app.settings
        self.usage = UsageStore()
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()
        self._gates: list[Callable[[Provider, ChatRequest], None]] = []
        self.model_state: dict = {"state": "unloaded", "model": self.settings.get("ai.local.model")}
        self._unsubscribe = self.settings.subscribe(self._settings_changed)

    # -- providers ----------------------------------------------------------------------------
    def provider(self, name: str) -> Provider:
        """The provider called ``name`` (built on first use from its settings). Any thread."""
        with self._lock:
            existing = self._providers.get(name)
            if existing is not None:
                return existing
            if name == "local":
                provider: Provider = LocalProvider(self.settings.section("ai.local"), on_state=self._on_local_state)
            else:
                config = self.settings.section(f"ai.providers.{name}")
                if not config:
                    raise errors.ModelMissing(f"no provider named {name!r} in the settings (ai.providers.{name})",
                                              provider=name)
                kind = config.get("kind") or ("anthropic" if name == "anthropic" else "openai")
                cls = AnthropicProvider if kind == "anthropic" else OpenAIProvider
                provider = cls(name, config)
            self._providers[name] = provider
            return provider

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

    def _on_local_state(self, state: str, detail: dict) -> None:
        self.model_state = {"state": state, **detail}
        self.app.events.emit(MODEL_STATE, state=state, model=detail.get("model", ""), detail=detail)

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
        """Add a check run before any request leaves (governance); it raises ``errors.Refused``."""
        self._gates.append(gate)

    def gate(self, provider: Provider, request: ChatRequest) -> None:
        """The single point every request passes before it is sent. Raises ``errors.Refused``."""
        if self.settings.get("ai.local_only") and not provider.local:
            raise errors.Refused(f"{provider.name} is a remote provider and ai.local_only is on; the prompt was "
                                 "not sent", provider=provider.name)
        for check in self._gates:
            check(provider, request)

    # -- requests -----------------------------------------------------------------------------
    def complete(self, task: str, request: ChatRequest, token: CancelToken | None = None,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        """Run ``request`` for ``task``; blocking, call on a worker. ``on_text`` runs on this thread."""
        notes: list[str] = []
        streamed = [False]

        def forward(piece: str) -> None:
            streamed[0] = True
            if on_text:
                on_text(piece)

        route = self.route(task)
        last_error: errors.AIError | None = None
        for index, (name, model) in enumerate(route):
            if token is not None and token.cancelled:
                raise Cancelled()
            started = time.perf_counter()
            try:
                provider = self.provider(name)
                model = self._model_for(provider, model)
                self.gate(provider, request)
                result = provider.complete(request, model, token, forward)
            except Cancelled:
                raise
            except errors.AIError as exc:
                last_error = exc
                self._record_failure(task, name, model, exc, time.perf_counter() - started)
                if streamed[0] or index == len(route) - 1:
                    if notes:
                        exc.message = " ".join(notes) + " " + exc.message
                        exc.args = (exc.message,)
                    raise
                nxt = route[index + 1][0]
                note = f"{name} failed ({exc.message.rstrip('.')}); falling back to {nxt}."
                notes.append(note)
                self.app.events.notice(note, "warning")
                continue
            usage = result.usage
            usage.cost_usd = cost_of(usage, result.model, self.settings.get("ai.prices", {}) or {})
            self.usage.record(task, name, result.model, usage, ttft_s=result.ttft_s)
            return Completion(result.text, usage, name, result.model, notes, list(result.tool_calls))
        raise last_error or errors.AIError(f"no provider is configured for {task}")

    def _record_failure(self, task: str, provider: str, model: str, exc: errors.AIError, seconds: float) -> None:
        try:
            self.usage.record(task, provider, model or "", Usage(latency_s=seconds), ok=False,
                              error=f"{type(exc).__name__}: {exc.message}")
        except Exception:
            log.exception("could not record usage")

    # -- local model lifecycle ----------------------------------------------------------------
    def preload(self) -> Any:
        """Load the local model in the background (GUI-safe); progress via the "ai.model_state" event."""
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
