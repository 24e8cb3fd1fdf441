"""ComposerService (``app.composer``): instruction -> context -> model -> change set -> review -> apply.

The model loop: the prompt for the chosen edit format (a default per model; chat prompts for chat
models, grammar-constrained for local ones; completion-style few-shot prompts for base models without
a chat template, see ``few_shot``), parse, build the change set, pass the sanity gate; when any of it
fails the model is shown the reason and asked again (at most ``composer.max_retries`` times).
Plan mode asks for a read-only plan first; the approved plan then goes into the edit prompt.

``propose``, ``plan``, ``apply`` and ``undo`` block (model, disk): call them on a worker
(``app.tasks.submit(..., worker="composer")``). Streaming callbacks run on that worker thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from marie.ai.types import ChatRequest, Message
from marie.composer import few_shot, formats, prompts, sanity
from marie.composer.apply import ApplyResult, apply_changeset, undo_apply
from marie.composer.changeset import ChangeSet, build_changeset
from marie.composer.context import MENTION_KINDS, Context, ContextBuilder, ContextRequest, estimate_tokens
from marie.composer.errors import ComposerError, ParseError
from marie.composer.formats.grammar import grammar, tight_search_replace
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
        from marie.workspace.ai_ignore import ai_ignore_for

        return ai_ignore_for(self.root, self.app.settings)

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
        # One way out: app.ai gates (policy, secret redaction, audit), accounts and maps redacted
        # secrets in the answer back; an explicit "provider[:model]" is only a route override.
        return self.app.ai.complete("composer", request, token=token, on_text=on_text, route=model or None)

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
        """Ask the model for edits and turn them into a change set (never writes). Worker thread.

        Every answer passes the parser, the matcher and the sanity gate (``sanity.check``); a refused
        answer is retried with its reason shown to the model. A format the caller (or the
        ``composer.format`` setting) chose is kept on every retry, so the error reported is that
        format's; with "auto" the last retry after a format failure may switch format."""
        request = request or ContextRequest(instruction)
        request.instruction = instruction
        caps = self._capabilities(model)
        style = self.prompt_style(model, caps)
        asked = fmt or self.setting("format", "auto")
        if asked == "auto" and style == "completion":
            first = formats.canonical(self.setting("base_format", "search_replace"))
        else:
            first = self.choose_format(fmt, caps)
        explicit = asked != "auto" or style == "completion"  # a base model is kept in its region format
        context_tokens = max_tokens or int(self.setting("answer_tokens", 1024))
        context = self.build_context(request, model=model, fmt=first, max_tokens=context_tokens)
        answer_tokens = max_tokens or self.answer_budget(context, first)
        user = prompts.user_prompt(context.render(), instruction, plan)
        if session is not None and session.summary and not session.turns:
            user = session.summary + "\n\n" + user
        retries = max(0, min(2, int(self.setting("max_retries", 2))))
        order = formats.fallback_order(first)
        attempts: list[Attempt] = []
        messages = [Message("user", user)]
        refused: list[str] = []
        current = first
        changeset = ChangeSet(instruction, format=first, errors=["the model was not asked"])
        first_error = ""
        totals = [0, 0, 0.0]
        model_name = ""
        started = time.monotonic()
        deadline = float(self.setting("base_deadline_s", 50.0))
        for attempt_no in range(retries + 1):
            if token is not None:
                token.check()
            attempt_started = time.monotonic()
            if style == "completion":
                completion, answer, cut = self._ask_completion(current, context, request, instruction, plan, refused,
                                                          answer_tokens, model, token, on_text,
                                                          temperature if not attempt_no else max(temperature, 0.4),
                                                          attempt_no)
            else:
                chat = ChatRequest([Message("system", prompts.system_prompt(current)), *messages],
                                   max_tokens=answer_tokens, temperature=temperature,
                                   grammar=self._grammar(current, context, instruction) if caps.grammar else None)
                completion = self._complete(chat, model, token, on_text)
                answer = completion.text
                cut = completion.usage.completion_tokens >= answer_tokens > 0
            model_name = f"{completion.provider}:{completion.model}"
            totals[0] += completion.usage.prompt_tokens
            totals[1] += completion.usage.completion_tokens
            totals[2] += completion.usage.cost_usd or 0.0
            attempt = Attempt(current, answer, usage=_usage(completion))
            attempts.append(attempt)
            changeset = self._evaluate(instruction, answer, current, request, cut, answer_tokens,
                                       strict=style == "completion")
            attempt.error = "; ".join(changeset.errors)
            if current == first:
                first_error = attempt.error
            if not attempt.error:
                break
            refused.append(attempt.error)
            if attempt_no == retries:
                break
            spent = time.monotonic() - started
            if style == "completion" and deadline and spent + (time.monotonic() - attempt_started) > deadline:
                # A small local model rarely fixes its answer on a retry; an answer in time beats a
                # third try (composer.base_deadline_s).
                changeset.errors.append(f"(no retry: {spent:.0f} s spent of the {deadline:.0f} s allowed for this "
                                        "model, composer.base_deadline_s)")
                break
            # Show the model its error; with "auto" the last retry after a format failure switches format.
            messages += [Message("assistant", answer)]
            if not explicit and attempt_no == retries - 1 and attempt.error.startswith("not valid"):
                current = order[(order.index(current) + 1) % len(order)]
            messages += [Message("user", prompts.retry_prompt(attempt.error, current))]
        if changeset.errors and current != first and first_error:
            # Report the failure in the format that was chosen first; the switched retry is a footnote.
            changeset.errors = [first_error, f"(a last retry in {current} format also failed: "
                                             f"{'; '.join(changeset.errors)})"]
        proposal = Proposal(changeset, attempts, context, model_name, totals[0], totals[1], totals[2])
        if session is not None:
            session.add("user", instruction)
            session.add("assistant", attempts[-1].answer if attempts else "", changeset=changeset.to_dict(),
                        usage={"prompt_tokens": totals[0], "completion_tokens": totals[1], "cost_usd": totals[2]},
                        extra={"errors": changeset.errors, "attempts": len(attempts), "model": model_name})
            self.sessions.save(session)
        return proposal

    def _evaluate(self, instruction: str, answer: str, fmt: str, request: ContextRequest, cut: bool,
                  limit: int, strict: bool = False) -> ChangeSet:
        """Parse, match and gate one answer; the change set's errors say why it is refused. ``strict``
        (base models, which wander): also refuse approximate matches and changes unrelated to the
        request (``sanity.check``)."""
        try:
            edits = formats.parse(answer, fmt)
        except ParseError as exc:
            error = f"not valid {fmt} format: {exc}"
            if cut:
                error = f"the answer was cut off at the {limit}-token limit ({error})"
            return ChangeSet(instruction, format=fmt, errors=[error], answer=answer)
        changeset = build_changeset(self.root, edits, instruction, format=fmt, buffers=request.buffers,
                                    fuzzy_threshold=float(self.setting("fuzzy_threshold", 0.88)),
                                    max_bytes=int(self.setting("max_file_bytes", 2_000_000)),
                                    answer=answer, ai_ignore=self.ai_ignore())
        if cut:
            # The last edit may be incomplete (a hunk without its added lines reads as a deletion).
            changeset.errors.insert(0, f"the answer was cut off at the {limit}-token limit, so its last edit may be "
                                       "incomplete; nothing from it is used")
        if not changeset.errors:
            changeset.errors += sanity.check(changeset, edits, instruction, strict=strict)
        return changeset

    def _grammar(self, fmt: str, context: Context, instruction: str) -> str | None:
        """The grammar for a local chat model (``composer.local_grammar``): "tight" (search/replace
        only: the SEARCH part is a run of the file's own lines, the paths are the files shown unless a
        new file is asked for, a bounded number of blocks), "format" (the format's shape, the paths
        shown) or "none"."""
        mode = str(self.setting("local_grammar", "tight"))
        if mode == "none":
            return None
        if mode == "tight" and formats.canonical(fmt) == "search_replace":
            files = {item.path: _file_text(item.text) for item in context.items
                     if item.path and item.path in context.editable}
            return tight_search_replace(files, new_file=sanity.asks_for_any_new_file(instruction),
                                        max_edits=int(self.setting("max_edits", 4)))
        return grammar(fmt, context.editable)

    # -- prompts for the model at hand ---------------------------------------------------------
    def prompt_style(self, model: str | None, caps: Any) -> str:
        """"completion" for a local base model (no chat template: it continues text and does not follow
        instructions), else "chat". ``composer.prompt_style`` overrides. Worker thread (reads the
        model file's header once)."""
        forced = str(self.setting("prompt_style", "auto"))
        if forced in ("chat", "completion"):
            return forced
        if not caps.local:
            return "chat"
        return "completion" if self._is_base_model(model) else "chat"

    def _is_base_model(self, model: str | None) -> bool:
        declared = getattr(self.app.ai, "base_model", None)  # a test double says so itself
        if isinstance(declared, bool):
            return declared
        try:
            from marie.ai import models
            from marie.ai.gguf import read_info_cached

            name = (model or "").partition(":")[2] or self.app.ai.active_model("composer").partition(":")[2]
            # ensure=True: on a first run the default model is not unpacked yet, and a missing file
            # must not read as "has a chat template" (the request unpacks it next anyway).
            path = (models.default_model_path(ensure=True) if name in ("", models.DEFAULT_MODEL_ID)
                    else models.resolve_model(name))
            return path.exists() and not read_info_cached(path).chat_template
        except Exception:
            log.debug("could not tell whether the model has a chat template", exc_info=True)
            return False

    def answer_budget(self, context: Context, fmt: str) -> int:
        """Tokens for the answer, bounded by the files in play: a region edit needs about the size of the
        region twice, a whole-file answer the whole file; never more than ``composer.answer_tokens``.
        Any thread."""
        cap = int(self.setting("answer_tokens", 1024))
        files = sum(item.tokens for item in context.items if item.path in context.editable)
        need = (files + 96) if formats.canonical(fmt) == "whole" else (min(files, 400) + 160)
        return max(96, min(cap, int(need * 1.25)))

    def _ask_completion(self, fmt: str, context: Context, request: ContextRequest, instruction: str,
                        plan: str | None, refused: list[str], answer_tokens: int, model: str | None,
                        token: CancelToken | None, on_text: Callable | None, temperature: float,
                        attempt_no: int):
        """One completion-style request (a base model); returns (completion, full answer text, whether
        the token limit cut it).

        With raw prompts and one search/replace block wanted, the block is written in two steps: the
        model continues ``path / <<<<<<< SEARCH`` up to where it would write ``=======``, then the
        prompt gains that marker and the model writes the replacement up to ``>>>>>>> REPLACE``. The
        markers are ours, so a small model that skips one still gives a well-formed block (the KV cache
        keeps the shared prefix: the second step costs only its new tokens)."""
        from marie.ai.types import Completion, Usage

        files = [(item.path, _file_text(item.text)) for item in context.items
                 if item.path in context.editable and item.path]
        max_edits = int(self.setting("base_max_edits", 1))
        raw = self._raw_prompts(model)
        built = few_shot.build(fmt, files, instruction, plan=plan, refused=refused[-1:], max_edits=max_edits,
                               prefill=raw)
        say = on_text or (lambda _s: None)
        if raw and len(files) == 1 and few_shot.is_addition(instruction, files[0][0]):
            path, text = files[0]
            built = few_shot.build_append(path, text, instruction, refused[-1:])
            say(built.prefill)
            completion = self._complete_prompt(built.text, model, token, on_text, answer_tokens, built.stop,
                                               temperature, seed=attempt_no)
            cut = completion.usage.completion_tokens >= answer_tokens
            return completion, few_shot.append_answer(path, text, built.prefill + completion.text), cut
        if not (raw and built.prefill and formats.canonical(fmt) == "search_replace" and max_edits == 1):
            say(built.prefill)
            completion = self._complete_prompt(built.text, model, token, on_text, answer_tokens, built.stop,
                                               temperature, seed=attempt_no)
            cut = completion.usage.completion_tokens >= answer_tokens
            return completion, few_shot.answer_of(built, completion.text), cut
        say(built.prefill)
        first = self._complete_prompt(built.text, model, token, on_text, max(32, answer_tokens // 2),
                                      few_shot.SEARCH_STOPS, temperature, seed=attempt_no)
        search = first.text if first.text.endswith("\n") or not first.text else first.text + "\n"
        say(("" if search == first.text else "\n") + few_shot.DIVIDER)
        second = self._complete_prompt(built.text + search + few_shot.DIVIDER, model, token, on_text,
                                       answer_tokens, few_shot.REPLACE_STOPS, temperature, seed=attempt_no)
        replace = second.text if second.text.endswith("\n") or not second.text else second.text + "\n"
        say(("" if replace == second.text else "\n") + few_shot.TAIL)
        answer = built.prefill + search + few_shot.DIVIDER + replace + few_shot.TAIL
        if first.usage.completion_tokens >= max(32, answer_tokens // 2) or \
                second.usage.completion_tokens >= answer_tokens:
            answer = answer[:-len(few_shot.TAIL)]  # cut by the limit: leave the block open, so it is refused
        usage = Usage(prompt_tokens=first.usage.prompt_tokens + second.usage.prompt_tokens,
                      completion_tokens=first.usage.completion_tokens + second.usage.completion_tokens,
                      cached_tokens=first.usage.cached_tokens + second.usage.cached_tokens,
                      latency_s=first.usage.latency_s + second.usage.latency_s)
        # A step cut by its limit left the block open, which the parser reports as cut off.
        return Completion(first.text + second.text, usage, second.provider, second.model, []), answer, False

    def _raw_prompts(self, model: str | None) -> bool:
        """Whether a raw (template-free) prompt can reach the model: the local provider's
        ``complete_prompt``; otherwise the text goes as one chat message and nothing is prefilled."""
        try:
            name = (model or self.app.ai.active_model("composer")).partition(":")[0]
            return hasattr(self.app.ai.provider(name), "complete_prompt")
        except Exception:
            return False

    def _complete_prompt(self, text: str, model: str | None, token: CancelToken | None, on_text: Callable | None,
                         max_tokens: int, stop: tuple[str, ...], temperature: float, seed: int = 0):
        request = ChatRequest([Message("user", text)], max_tokens=max_tokens, temperature=temperature,
                              seed=seed, stop=stop)
        if not self._raw_prompts(model):
            return self._complete(request, model, token, on_text)
        from marie.ai.types import Completion

        # A raw prompt to the local worker: the same gate (it sees exactly this text), then the
        # provider's template-free path; usage is recorded like any other request.
        ai = self.app.ai
        name, _, wanted = (model or ai.active_model("composer")).partition(":")
        provider = ai.provider(name)
        model_name = ai._model_for(provider, wanted)
        ai.gate(provider, request, "composer", model_name)
        # Greedy (the provider's raw path has no temperature): a retry differs by its prompt (the note
        # with the reason of the refusal).
        result = provider.complete_prompt(text, model_name, max_tokens=max_tokens, stop=stop, token=token,
                                          on_text=on_text, skip_if_busy=False)
        try:
            ai.usage.record("composer", name, result.model, result.usage, ttft_s=getattr(result, "ttft_s", None))
        except Exception:
            log.debug("usage not recorded", exc_info=True)
        return Completion(result.text, result.usage, name, result.model, [])

    def propose_from_answer(self, instruction: str, answer: str, fmt: str,
                            buffers: dict[str, str] | None = None) -> ChangeSet:
        """A change set from an answer text already at hand (pasted, or replayed from a session)."""
        try:
            edits = formats.parse(answer, fmt)
        except ParseError as exc:
            return ChangeSet(instruction, format=fmt, errors=[f"not valid {fmt} format: {exc}"], answer=answer)
        changeset = build_changeset(self.root, edits, instruction, format=formats.canonical(fmt), buffers=buffers,
                                    fuzzy_threshold=float(self.setting("fuzzy_threshold", 0.88)), answer=answer,
                                    max_bytes=int(self.setting("max_file_bytes", 2_000_000)),
                                    ai_ignore=self.ai_ignore())
        # No sanity gate here: the answer is the user's own (pasted, or a replay they chose to apply).
        return changeset

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
        ignore = self.ai_ignore()
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


def _file_text(block: str) -> str:
    """The file's text from a context item's ``path / fence / text / fence`` block."""
    lines = block.split("\n")
    return "\n".join(lines[2:-1]) + "\n" if len(lines) > 3 else ""


def _usage(completion: Any) -> dict:
    u = completion.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "cached_tokens": u.cached_tokens, "latency_s": u.latency_s, "cost_usd": u.cost_usd,
            "provider": completion.provider, "model": completion.model}


__all__ = ["ComposerService", "Proposal", "Attempt", "ComposerError"]
