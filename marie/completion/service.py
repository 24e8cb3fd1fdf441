"""The per-app completion state: settings, the backend for the ``completion`` route, the prefix
cache, the texts of open tabs and recently edited files, the ignore rules, and ``complete_at`` (one
request from a text and a caret to a trimmed suggestion) which the editor's engine, the CLI and the
benchmark all call.

Routing: ``ai.routing.completion`` (default ``["local"]``); the local entry's model is the entry's own
(``local:MODEL``), else ``completion.model``, else ``ai.local.model``. When that differs from the
model the other tasks use, completion gets its own worker process, so switching never reloads a
model. A remote entry uses ``completion.api.<provider>``: "completions" (prefix only),
"completions+suffix" (FIM through the ``suffix`` field) or "infill" (llama.cpp server).

``service_for(app)`` returns the app's one instance. Methods: any thread unless noted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from marie.ai import errors
from marie.ai.local import LocalProvider
from marie.workspace.ai_ignore import IGNORE_FILE, AiIgnore, ai_ignore_for
from marie.completion import context as ctx_mod
from marie.completion import prompt as prompts
from marie.completion import trim as trim_mod
from marie.ai.provider import Result
from marie.completion.backends import Backend, CompletionsBackend, InfillBackend, LocalBackend
from marie.completion.cache import PrefixCache
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)
TASK = "completion"


@dataclass(frozen=True)
class Suggestion:
    """What the editor shows at ``caret`` of document ``version``. ``source`` is "model", "cache"
    or "partial" (still streaming)."""

    text: str
    caret: int
    version: int
    source: str = "model"
    provider: str = ""
    model: str = ""
    latency_s: float = 0.0
    prompt_tokens: int = 0
    cached_tokens: int = 0


class Skipped(Exception):
    """No suggestion was asked for: ``reason`` says why (disabled, busy model, ignored file...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CompletionService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.settings = app.settings
        self.cache = PrefixCache(int(self.settings.get("completion.cache_entries")))
        self._lock = threading.Lock()
        self._backend: tuple[tuple, Backend] | None = None
        self._own_local: LocalProvider | None = None
        self._open: dict[int, Callable[[], tuple[str, str] | None]] = {}   # id -> () -> (path, text)
        self._recent: dict[str, str] = {}                                   # path -> text, newest last
        self._ignore: tuple[float, AiIgnore] | None = None
        # Answers asked again on every keystroke, kept: resolving a path is a few system calls per
        # component, and matching the ignore rules a regex per pattern (together ~1 ms per keystroke
        # on the GUI thread). The ignore answers go with the rules they came from.
        self._relative: dict[str, str | None] = {}
        self._ignored: tuple[AiIgnore | None, dict[str, bool]] = (None, {})
        self.last_answer: Result | None = None      # for the benchmark and `marie complete --stats`
        self.route_override: list[tuple[str, str]] | None = None   # `marie complete --model`

    # -- settings ---------------------------------------------------------------------------------
    def budget(self) -> ctx_mod.Budget:
        s = self.settings
        return ctx_mod.Budget(tokens=int(s.get("completion.context_tokens")),
                              suffix_share=float(s.get("completion.suffix_share")),
                              snippet_share=float(s.get("completion.snippet_share")),
                              snippets=int(s.get("completion.snippets")),
                              snippet_lines=int(s.get("completion.snippet_lines")))

    def enabled_for(self, language: str, path: Path | None) -> tuple[bool, str]:
        """(on?, why not) for a file: the global switch (user or project settings), the language
        list, and the ignore rules (a file kept from the AI gets no completion)."""
        if not self.settings.get("completion.enabled"):
            return False, "inline completion is off (completion.enabled)"
        rel = self.relative(path)
        if rel is not None and self.is_ignored(rel):
            return False, f"{rel} is kept from the AI (.marieignore)"
        if language in (self.settings.get("completion.disabled_languages") or []):
            return False, f"inline completion is off for {language} (completion.disabled_languages)"
        return True, ""

    def set_enabled(self, on: bool) -> None:
        """The status-bar toggle: writes the layer the current value comes from (project or user)."""
        if self.settings.layer_of("completion.enabled") == "project":
            self.settings.set_project("completion.enabled", on)
        else:
            self.settings.set_user("completion.enabled", on)

    def relative(self, path: Path | str | None) -> str | None:
        """The workspace-relative form of ``path`` (None outside the workspace), remembered per
        path: the editor asks on every keystroke."""
        if path is None:
            return None
        key = str(path)
        try:
            return self._relative[key]
        except KeyError:
            pass
        try:
            rel: str | None = Path(path).resolve().relative_to(self.app.root).as_posix()
        except ValueError:
            rel = None    # outside the workspace: not covered by its .marieignore
        if len(self._relative) > 512:
            self._relative.clear()
        self._relative[key] = rel
        return rel

    def is_ignored(self, rel: str) -> bool:
        """``ignore().is_ignored(rel)``, remembered until the rules are re-read."""
        rules = self.ignore()
        with self._lock:
            owner, answers = self._ignored
            if owner is not rules:
                answers = {}
                self._ignored = (rules, answers)
            hit = answers.get(rel)
        if hit is None:
            hit = rules.is_ignored(rel)
            with self._lock:
                if self._ignored[0] is rules and len(answers) < 1024:
                    answers[rel] = hit
        return hit

    def warm(self) -> None:
        """Read the ignore rules now (a worker thread, when an editor opens), so the first
        keystroke does not compile them on the GUI thread (~50 ms)."""
        self.ignore()

    def ignore(self) -> AiIgnore:
        """The ignore rules, re-read when ``.marieignore`` changes."""
        try:
            stamp = (self.app.root / IGNORE_FILE).stat().st_mtime
        except OSError:
            stamp = 0.0
        with self._lock:
            if self._ignore is None or self._ignore[0] != stamp:
                self._ignore = (stamp, ai_ignore_for(self.app.root, self.settings))
            return self._ignore[1]

    # -- other files ------------------------------------------------------------------------------
    def register_open(self, key: int, read: Callable[[], tuple[str, str] | None]) -> Callable[[], None]:
        """An open tab offers its (path, text) for snippets (``read`` runs on the GUI thread: the
        editor's engine reads it there before each request). Returns the unregister function."""
        with self._lock:
            self._open[key] = read
        return lambda: self._open.pop(key, None)

    def note_edit(self, path: str, text: str) -> None:
        """Remember the newest text of an edited file (the ten most recent are kept)."""
        with self._lock:
            self._recent.pop(path, None)
            self._recent[path] = text
            while len(self._recent) > 10:
                self._recent.pop(next(iter(self._recent)))

    def others(self, exclude: str) -> list[tuple[str, str]]:
        """(relative path, text) of recently edited files and open tabs, minus ``exclude`` and
        files kept from the AI. GUI thread (it reads the open editors)."""
        with self._lock:
            readers = list(self._open.values())
            recent = dict(self._recent)
        texts: dict[str, str] = dict(reversed(list(recent.items())))
        for read in readers:
            try:
                got = read()
            except RuntimeError:     # a closed editor whose widget is gone
                continue
            if got is not None and got[0] not in texts:
                texts[got[0]] = got[1]
        out = []
        for path, text in texts.items():
            rel = self.relative(path) if os.path.isabs(path) else path
            if rel is None or rel == exclude or path == exclude or self.is_ignored(rel):
                continue
            out.append((rel, text[:200_000]))
        return out[:8]

    # -- the backend ------------------------------------------------------------------------------
    def route(self) -> list[tuple[str, str]]:
        return list(self.route_override) if self.route_override else self.app.ai.route(TASK)

    def backend(self) -> Backend:
        """The backend of the first usable ``completion`` route entry (built once per settings)."""
        route = self.route()
        api = dict(self.settings.get("completion.api") or {})
        key = (tuple(route), self.settings.get("completion.model"), self.settings.get("ai.local.model"),
               tuple(sorted(api.items())))
        with self._lock:
            if self._backend is not None and self._backend[0] == key:
                return self._backend[1]
        last: errors.AIError | None = None
        for name, model in route:
            try:
                backend = self._make_backend(name, model, api)
            except errors.AIError as exc:
                last = exc
                continue
            with self._lock:
                self._backend = (key, backend)
            return backend
        raise last or errors.AIError("no provider is configured for completion (ai.routing.completion)")

    def _make_backend(self, name: str, model: str, api: dict) -> Backend:
        ai = self.app.ai
        if name == "local":
            shared = ai.provider("local")
            wanted = model or self.settings.get("completion.model") or shared.model_name()
            provider = shared
            if wanted != shared.model_name():
                # its own worker: the composer's model stays loaded in the shared one
                with self._lock:
                    if self._own_local is None or self._own_local.model_name() != wanted:
                        if self._own_local is not None:
                            self._own_local.close()
                        self._own_local = LocalProvider({**self.settings.section("ai.local"), "model": wanted})
                    provider = self._own_local
            return LocalBackend(self.app, provider, wanted)
        provider = ai.provider(name)
        kind = str(api.get(name, "completions"))
        if not hasattr(provider, "base_url") or type(provider).__name__ == "AnthropicProvider":
            raise errors.AIError(f"{name} has no text completion endpoint; use local or an OpenAI-compatible "
                                 "server for completion", provider=name)
        if kind == "infill":
            return InfillBackend(self.app, provider, model)
        if kind not in ("completions", "completions+suffix"):
            raise errors.AIError(f"completion.api.{name} = {kind!r}: expected \"completions\", "
                                 "\"completions+suffix\" or \"infill\"", provider=name)
        return CompletionsBackend(self.app, provider, model, with_suffix=kind == "completions+suffix")

    # -- one request ------------------------------------------------------------------------------
    def context_at(self, text: str, caret: int, path: str, language: str,
                   others: list[tuple[str, str]] | tuple = (), memo: dict | None = None,
                   backend: Backend | None = None) -> ctx_mod.CompletionContext:
        backend = backend or self.backend()
        return ctx_mod.build(text, caret, path, language, self.budget(), with_suffix=backend.takes_suffix,
                             others=others, memo=memo)

    def complete_at(self, ctx: ctx_mod.CompletionContext, version: int = 0, token: CancelToken | None = None,
                    on_partial: Callable[[Suggestion], None] | None = None, use_cache: bool = True) -> Suggestion:
        """The trimmed suggestion for ``ctx``; blocking (worker thread). Raises ``Skipped`` (nothing
        to show and why), ``Cancelled``, or ``errors.AIError``. ``on_partial`` gets the growing
        suggestion while it streams (on this thread). Generation stops as soon as the rest of the
        answer could not change what is shown."""
        caret = len(ctx.full_prefix)
        if not trim_mod.tail_allows_completion(ctx.rest_of_line):
            raise Skipped("the caret is in the middle of code")
        doc = ctx.path
        if use_cache:
            hit = self.cache.get(doc, ctx.full_prefix, ctx.rest_of_line)
            if hit is not None:
                return Suggestion(hit, caret, version, "cache")
        backend = self.backend()
        max_lines = int(self.settings.get("completion.max_lines"))
        inner = CancelToken()
        if token is not None:
            token.on_cancel(inner.cancel)
        raw: list[str] = []
        done_early = [False]
        held = prompts.held_whitespace(ctx)
        started = time.perf_counter()

        def on_text(piece: str) -> None:
            raw.append(piece)
            so_far = prompts.heal("".join(raw), held)
            if on_partial is not None:
                shown = trim_mod.trim(so_far, ctx.line_before, ctx.rest_of_line, ctx.following, max_lines)
                if shown:
                    on_partial(Suggestion(shown, caret, version, "partial"))
            if trim_mod.is_final(so_far, ctx.line_before, ctx.rest_of_line, ctx.following, max_lines):
                done_early[0] = True
                inner.cancel()

        max_tokens = int(self.settings.get("completion.max_tokens"))
        try:
            answer = backend.run(ctx, max_tokens=max_tokens, token=inner, on_text=on_text)
        except Cancelled:
            if not done_early[0] or (token is not None and token.cancelled):
                raise
            answer = Result("".join(raw), self._partial_usage(backend, started), backend.model)
        except errors.AIError as exc:
            self._record(backend, None, time.perf_counter() - started, exc)
            raise
        if answer is None:
            raise Skipped("the local model is busy with another request")
        self.last_answer = answer
        self._record(backend, answer, time.perf_counter() - started)
        text = trim_mod.trim(prompts.heal(answer.text, held), ctx.line_before, ctx.rest_of_line, ctx.following, max_lines)
        if not text:
            raise Skipped("the model suggested nothing worth showing")
        self.cache.put(doc, ctx.full_prefix, ctx.rest_of_line, text)
        return Suggestion(text, caret, version, "model", backend.provider.name, answer.model,
                          time.perf_counter() - started, answer.usage.prompt_tokens, answer.usage.cached_tokens)

    def _partial_usage(self, backend: Backend, started: float) -> Any:
        # A stopped local request still reports its figures (the worker's "done" event is read by
        # the provider as last_stats before the cancel reached it, or not at all): best effort.
        from marie.ai.types import Usage

        stats = getattr(backend.provider, "last_stats", {}) or {}
        return Usage(prompt_tokens=int(stats.get("prompt_tokens", 0)), cached_tokens=int(stats.get("cached_tokens", 0)),
                     latency_s=time.perf_counter() - started)

    def _record(self, backend: Backend, answer: Result | None, seconds: float,
                error: errors.AIError | None = None) -> None:
        """Usage like every other request (task "completion"): the usage panel and `marie usage`."""
        try:
            if answer is not None:
                answer.usage.latency_s = seconds
                self.app.ai.usage.record(TASK, backend.provider.name, answer.model, answer.usage, ttft_s=answer.ttft_s)
            else:
                from marie.ai.types import Usage

                self.app.ai.usage.record(TASK, backend.provider.name, backend.model, Usage(latency_s=seconds),
                                         ok=False, error=f"{type(error).__name__}: {error}")
        except Exception:
            log.exception("could not record completion usage")

    def close(self) -> None:
        with self._lock:
            own, self._own_local = self._own_local, None
        if own is not None:
            own.close()


_services_lock = threading.Lock()


def service_for(app: Any) -> CompletionService:
    """The app's completion service (made on first use and closed with the app). Any thread."""
    with _services_lock:
        service = app.__dict__.get("_completion_service")
        if service is None:
            service = app._make(CompletionService)
            app.__dict__["_completion_service"] = service
        return service
