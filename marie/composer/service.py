"""ComposerService (``app.composer``): instruction -> context -> model -> change set -> review -> apply.

The model loop: the prompt for the chosen edit format (a default per model; grammar-constrained for
local llama.cpp models), parse, build the change set; when parsing or matching fails the model is shown
its error and asked again (at most ``composer.max_retries`` times, the last retry in another format).
Plan mode asks for a read-only plan first; the approved plan then goes into the edit prompt.

``propose``, ``plan``, ``apply`` and ``undo`` block (model, disk): call them on a worker
(``app.tasks.submit(..., worker="composer")``). Streaming callbacks run on that worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from marie.composer import formats, prompts
from marie.composer.apply import ApplyResult, apply_changeset, undo_apply
from marie.composer.changeset import ChangeSet, build_changeset
from marie.composer.context import MENTION_KINDS, Context, ContextBuilder, ContextRequest, estimate_tokens
from marie.composer.errors import ComposerError, ParseError
from marie.composer.formats.grammar import grammar
from marie.composer.session import Session, SessionStore
from marie.core.tasks import CancelToken

log = logging.getLogger(__name__)


@dataclass
class Attempt:
    format: str
    answer: str
    error: str = ""
    usage: dict = field(default_factory=dict)


@dataclass
class Proposal:
    changeset: ChangeSet
    attempts: list[Attempt]
    context: Context | None
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def ok(self) -> bool:
        return self.changeset.applicable


class ComposerService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.root = Path(app.root)
        self.sessions = SessionStore(Path(app.data_dir) / "composer")

    # -- settings --------------------------------------------------------------------------------
    def setting(self, key: str, default: Any) -> Any:
        try:
            return self.app.settings.get(f"composer.{key}")
        except KeyError:
            return default

    def ai_ignore(self):
        """The .marieignore rules (with defaults and settings), read fresh so edits to the file apply."""
        from marie.composer.ai_ignore import AiIgnore

        return AiIgnore(self.root, tuple(self.setting("ai_ignore", [])))

    # -- model access ----------------------------------------------------------------------------
    def _capabilities(self, model: str | None):
        if model:
            provider_name, _, model_name = model.partition(":")
            provider = self.app.ai.provider(provider_name)
            return provider.capabilities(model_name or self.app.ai._model_for(provider, ""))
        return self.app.ai.capabilities("composer")

    def _count(self, model: str | None) -> Callable[[str], int]:
        if model:
            return estimate_tokens

        def count(text: str) -> int:
            try:
                return self.app.ai.count_tokens(text, "composer")
            except Exception:
                return estimate_tokens(text)
        return count

    def _complete(self, request: Any, model: str | None, token: CancelToken | None, on_text: Callable | None):
        if not model:
            return self.app.ai.complete("composer", request, token=token, on_text=on_text)
        # An explicit "provider[:model]" for this request: the same gate, then that provider.
        from marie.ai.types import Completion

        ai = self.app.ai
        provider_name, _, model_name = model.partition(":")
        provider = ai.provider(provider_name)
        model_name = ai._model_for(provider, model_name)
        ai.gate(provider, request)
        result = provider.complete(request, model_name, token, on_text or (lambda _s: None))
        try:
            from marie.ai.usage import cost_of

            result.usage.cost_usd = cost_of(result.usage, result.model, self.app.settings.get("ai.prices", {}) or {})
        except Exception:
            log.debug("no price for %s", result.model, exc_info=True)
        try:
            ai.usage.record("composer", provider_name, result.model, result.usage, ttft_s=getattr(result, "ttft_s", None))
        except Exception:
            log.debug("usage not recorded", exc_info=True)
        return Completion(result.text, result.usage, provider_name, result.model, [])

    def choose_format(self, fmt: str | None, caps: Any) -> str:
        fmt = fmt or self.setting("format", "auto")
        if fmt == "auto":
            return formats.canonical(self.setting("local_format", "whole") if caps.local else "search_replace")
        return formats.canonical(fmt)

    # -- context ---------------------------------------------------------------------------------
    def build_context(self, request: ContextRequest, *, model: str | None = None, fmt: str = "search_replace",
                      max_tokens: int | None = None) -> Context:
        caps = self._capabilities(model)
        count = self._count(model)
        answer = max_tokens or int(self.setting("answer_tokens", 1024))
        fixed = count(prompts.system_prompt(fmt)) + count(request.instruction) + 64
        budget = max(0, caps.context_length - answer - fixed)
        request.repo_map = request.repo_map and bool(self.setting("repo_map", True))
        return ContextBuilder(self.app, count).build(request, budget)

    # -- plan mode -------------------------------------------------------------------------------
    def plan(self, instruction: str, *, request: ContextRequest | None = None, model: str | None = None,
             token: CancelToken | None = None, on_text: Callable[[str], None] | None = None,
             max_tokens: int = 400, session: Session | None = None) -> str:
        """Ask for a numbered plan (nothing is edited). Worker thread."""
        from marie.ai.types import ChatRequest, Message

        request = request or ContextRequest(instruction)
        request.instruction = instruction
        context = self.build_context(request, model=model, max_tokens=max_tokens)
        chat = ChatRequest([Message("system", prompts.PLAN_SYSTEM),
                            Message("user", prompts.user_prompt(context.render(), instruction))],
                           max_tokens=max_tokens)
        completion = self._complete(chat, model, token, on_text)
        if session is not None:
            session.add("user", instruction)
            session.add("plan", completion.text, usage=_usage(completion))
            self.sessions.save(session)
        return completion.text.strip()

    # -- proposals -------------------------------------------------------------------------------
    def propose(self, instruction: str, *, request: ContextRequest | None = None, fmt: str | None = None,
                model: str | None = None, plan: str | None = None, token: CancelToken | None = None,
                on_text: Callable[[str], None] | None = None, max_tokens: int | None = None,
                session: Session | None = None, temperature: float = 0.0) -> Proposal:
        """Ask the model for edits and turn them into a change set (never writes). Worker thread."""
        from marie.ai.types import ChatRequest, Message

        request = request or ContextRequest(instruction)
        request.instruction = instruction
        caps = self._capabilities(model)
        first = self.choose_format(fmt, caps)
        answer_tokens = max_tokens or int(self.setting("answer_tokens", 1024))
        context = self.build_context(request, model=model, fmt=first, max_tokens=answer_tokens)
        user = prompts.user_prompt(context.render(), instruction, plan)
        if session is not None and session.summary and not session.turns:
            user = session.summary + "\n\n" + user
        retries = max(0, min(2, int(self.setting("max_retries", 2))))
        order = formats.fallback_order(first)
        attempts: list[Attempt] = []
        messages = [Message("user", user)]
        current = first
        changeset = ChangeSet(instruction, format=first, errors=["the model was not asked"])
        totals = [0, 0, 0.0]
        model_name = ""
        for attempt_no in range(retries + 1):
            if token is not None:
                token.check()
            chat = ChatRequest([Message("system", prompts.system_prompt(current)), *messages],
                               max_tokens=answer_tokens, temperature=temperature,
                               grammar=grammar(current, context.editable) if caps.grammar else None)
            completion = self._complete(chat, model, token, on_text)
            model_name = f"{completion.provider}:{completion.model}"
            totals[0] += completion.usage.prompt_tokens
            totals[1] += completion.usage.completion_tokens
            totals[2] += completion.usage.cost_usd or 0.0
            attempt = Attempt(current, completion.text, usage=_usage(completion))
            attempts.append(attempt)
            try:
                edits = formats.parse(completion.text, current)
            except ParseError as exc:
                attempt.error = f"not valid {current} format: {exc}"
                changeset = ChangeSet(instruction, format=current, errors=[attempt.error], answer=completion.text)
            else:
                changeset = build_changeset(self.root, edits, instruction, format=current, buffers=request.buffers,
                                            fuzzy_threshold=float(self.setting("fuzzy_threshold", 0.88)),
                                            max_bytes=int(self.setting("max_file_bytes", 2_000_000)),
                                            answer=completion.text, ai_ignore=self.ai_ignore())
                if changeset.errors:
                    attempt.error = "; ".join(changeset.errors)
                elif not changeset.files:
                    attempt.error = "the edits change nothing"
                    changeset.errors.append(attempt.error)
                else:
                    break
            if attempt_no == retries:
                break
            # Show the model its error; the last retry after a format failure switches format.
            messages += [Message("assistant", completion.text)]
            if attempt_no == retries - 1 and attempt.error.startswith("not valid"):
                current = order[(order.index(current) + 1) % len(order)]
            messages += [Message("user", prompts.retry_prompt(attempt.error, current))]
        proposal = Proposal(changeset, attempts, context, model_name, totals[0], totals[1], totals[2])
        if session is not None:
            session.add("user", instruction)
            session.add("assistant", attempts[-1].answer if attempts else "", changeset=changeset.to_dict(),
                        usage={"prompt_tokens": totals[0], "completion_tokens": totals[1], "cost_usd": totals[2]},
                        extra={"errors": changeset.errors, "attempts": len(attempts), "model": model_name})
            self.sessions.save(session)
        return proposal

    def propose_from_answer(self, instruction: str, answer: str, fmt: str,
                            buffers: dict[str, str] | None = None) -> ChangeSet:
        """A change set from an answer text already at hand (pasted, or replayed from a session)."""
        try:
            edits = formats.parse(answer, fmt)
        except ParseError as exc:
            return ChangeSet(instruction, format=fmt, errors=[f"not valid {fmt} format: {exc}"], answer=answer)
        return build_changeset(self.root, edits, instruction, format=formats.canonical(fmt), buffers=buffers,
                               fuzzy_threshold=float(self.setting("fuzzy_threshold", 0.88)), answer=answer,
                               ai_ignore=self.ai_ignore())

    # -- apply / undo ----------------------------------------------------------------------------
    def apply(self, changeset: ChangeSet, buffers: dict[str, str] | None = None,
              session: Session | None = None) -> ApplyResult:
        """Checkpoint and write the accepted changes (merging files changed since). Worker thread."""
        result = apply_changeset(self.app, changeset, buffers)
        if session is not None:
            session.add("applied", ", ".join(result.written + result.deleted), extra=result.to_dict())
            self.sessions.save(session)
        return result

    def undo(self, result: ApplyResult):
        """Undo an apply: restore its checkpoint. Worker thread."""
        return undo_apply(self.app, result)

    # -- sessions --------------------------------------------------------------------------------
    def new_session(self, from_session: Session | None = None) -> Session:
        session = Session()
        if from_session is not None:
            session.summary = from_session.summarize()
            session.title = f"continued: {from_session.title}"[:80]
        self.sessions.save(session)
        return session

    def open_session(self, session_id: str) -> Session:
        return self.sessions.load(session_id)

    def list_sessions(self) -> list[Session]:
        return self.sessions.list()

    # -- mention completion ----------------------------------------------------------------------
    def complete_mention(self, prefix: str, limit: int = 20) -> list[str]:
        """Completions for an @-mention being typed (``@fi``, ``@file:src/a``). Any thread (uses the index
        snapshot)."""
        text = prefix.lstrip("@")
        kind, sep, arg = text.partition(":")
        if not sep:
            kinds = [f"@{k}" + (":" if k in ("file", "folder", "symbol") else "") for k in MENTION_KINDS
                     if k.startswith(text)]
            return kinds[:limit]
        from marie.composer.ai_ignore import AiIgnore

        ignore = AiIgnore(self.root)
        if kind == "file":
            try:
                found = [m.path if hasattr(m, "path") else str(m) for m in self.app.index.find(arg, limit=limit * 2)]
            except Exception:
                found = []
            return [f"@file:{p}" for p in found if not ignore.is_ignored(p)][:limit]
        if kind == "folder":
            try:
                files = self.app.index.snapshot().files()
            except Exception:
                files = []
            folders = sorted({f.rsplit("/", 1)[0] for f in files if "/" in f})
            return [f"@folder:{d}" for d in folders if arg.lower() in d.lower()][:limit]
        if kind == "symbol":
            try:
                syms = self.app.index.workspace_symbols(arg, limit=limit)
            except Exception:
                syms = []
            return [f"@symbol:{s.name}" for s in syms][:limit]
        return []


def _usage(completion: Any) -> dict:
    u = completion.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "cached_tokens": u.cached_tokens, "latency_s": u.latency_s, "cost_usd": u.cost_usd,
            "provider": completion.provider, "model": completion.model}


__all__ = ["ComposerService", "Proposal", "Attempt", "ComposerError"]
