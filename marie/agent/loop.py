"""``AgentRun``: the loop model -> tool calls -> results -> model, until the model answers, a step
or token budget runs out, or the user cancels.

Remote models get native tool declarations (OpenAI-compatible and Anthropic); local llama.cpp models,
which have none, answer one JSON call per turn under a grammar built from the tool set's JSON schema
(``ToolSet.call_schema``), so even a tiny model emits only well-formed calls. Every call is checked
(unknown tool, arguments against the schema) and goes through the permissions (deny / ask / allow);
an error of any kind goes back to the model as the tool's result, so it can try again, and never
ends the run. Every step is published as a typed event (``marie.agent.events``) and saved in the
session. Cancel (``cancel()``, any thread) stops the model stream and kills a running command at once.

``run()`` blocks: call it on a worker (``app.tasks.submit(..., worker="agent")``) or from the CLI.
Approvals and ask_user answers arrive from another thread (``answer_approval``/``answer_question``).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from marie.agent import events as ev
from marie.agent import permissions as perms
from marie.agent import prompts
from marie.agent.changes import AgentChanges
from marie.agent.paths import AgentPaths, PathRefused
from marie.agent.session import AgentSession, SessionStore, StepRecord
from marie.agent.tools.base import AgentTool, ToolContext, ToolError, ToolOutput
from marie.agent.tools.registry import ToolSet, builtin_tools
from marie.ai.types import ChatRequest, Message, ToolCall
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)

ONCE, SESSION, RULE, DENY = "once", "session", "rule", "deny"


@dataclass(frozen=True)
class ApprovalRequest:
    request_id: str
    tool: str
    kind: str
    subject: str
    arguments: dict


Approver = Callable[[ApprovalRequest], str]      # returns once | session | rule | deny


@dataclass
class TurnResult:
    text: str
    calls: list[ToolCall]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    model: str


class AgentRun:
    def __init__(self, app: Any, session: AgentSession, *, tools: list[AgentTool] | None = None,
                 model: str | None = None, max_steps: int | None = None, max_tokens: int | None = None,
                 approver: Approver | None = None, asker: Callable[[str, tuple[str, ...]], str] | None = None,
                 publish: Callable[[object], None] | None = None, store: SessionStore | None = None,
                 apply_each: bool | None = None, tool_choice: str | None = None) -> None:
        settings = app.settings
        # "required": every turn must call a tool (no final answer), as ChatRequest.tool_choice.
        self.tool_choice = tool_choice
        self.app = app
        self.session = session
        self.mode = perms.effective_mode(settings, session.mode)
        session.mode = self.mode
        self.permissions = perms.from_settings(settings, self.mode)
        self.model = model or session.model or None
        self.max_steps = int(max_steps or settings.get("agent.max_steps"))
        self.max_tokens = int(max_tokens or settings.get("agent.max_tokens"))
        self.result_tokens = int(settings.get("agent.result_tokens"))
        self.answer_tokens = int(settings.get("agent.answer_tokens"))
        self.apply_each = (settings.get("agent.apply") == "step") if apply_each is None else apply_each
        self.paths = AgentPaths(app.root, tuple(settings.get("composer.ai_ignore", []) or []))
        self.changes = AgentChanges(app.root, session.task)
        self.toolset = ToolSet(self._visible(tools if tools is not None else builtin_tools()))
        self.token = CancelToken()
        self.approver = approver
        self.asker = asker
        self.publish = publish or app.events.publish
        self.store = store
        self._waits: dict[str, list] = {}      # request id -> [threading.Event, answer]
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.last_error = ""
        self._saved_version = -1

    def _visible(self, tools: list[AgentTool]) -> list[AgentTool]:
        # Plan mode offers read-only tools only (the others would be refused anyway).
        out = [t for t in tools if self.mode != "plan" or t.kind == "read"]
        return out

    # -- control from other threads ------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the model and any running command now. Any thread."""
        self.token.cancel()
        with self._lock:
            waits = list(self._waits.values())
        for wait in waits:
            wait[0].set()

    def answer_approval(self, request_id: str, choice: str) -> None:
        """The user's answer to an ``ApprovalRequested``: once | session | rule | deny. Any thread."""
        self._answer(request_id, choice)

    def answer_question(self, request_id: str, text: str) -> None:
        """The user's answer to a ``QuestionAsked``. Any thread."""
        self._answer(request_id, text)

    def _answer(self, request_id: str, value: str) -> None:
        with self._lock:
            wait = self._waits.get(request_id)
        if wait is not None:
            wait[1] = value
            wait[0].set()

    def _wait(self, request_id: str) -> str:
        event = threading.Event()
        wait: list = [event, None]
        with self._lock:
            self._waits[request_id] = wait
        try:
            while not event.wait(0.2):
                self.token.check()
            self.token.check()
            return str(wait[1])
        finally:
            with self._lock:
                self._waits.pop(request_id, None)

    def pending_requests(self) -> list[str]:
        with self._lock:
            return list(self._waits)

    # -- the model -----------------------------------------------------------------------------
    def _provider_and_model(self):
        ai = self.app.ai
        if self.model:
            name, _, model = self.model.partition(":")
        else:
            name, model = ai.route("agent")[0]
        provider = ai.provider(name)
        return provider, ai._model_for(provider, model)

    def grammar_mode(self) -> bool:
        provider, model = self._provider_and_model()
        caps = provider.capabilities(model)
        return not caps.tools and (caps.json_schema or caps.grammar)

    def _request(self, messages: list[Message], grammar: bool) -> ChatRequest:
        if grammar:
            return ChatRequest(_flatten_for_grammar(messages), max_tokens=self.answer_tokens,
                               json_schema=self.toolset.call_schema(
                                   allow_answer=self.tool_choice in (None, "auto"),
                                   only=self.tool_choice if self.tool_choice and self.tool_choice in self.toolset else None))
        return ChatRequest(messages, max_tokens=self.answer_tokens, tools=self.toolset.declarations(),
                           tool_choice=self.tool_choice)

    def _complete(self, request: ChatRequest) -> TurnResult:
        # Through app.ai always (the governance gate, redaction, usage and audit); an explicit
        # "provider[:model]" is that provider only, without the route's fallbacks.
        if self.model:
            completion = self.app.ai.complete("agent", request, token=self.token, route=self.model)
        else:
            completion = self.app.ai.complete("agent", request, token=self.token)
        usage = completion.usage
        return TurnResult(completion.text, list(completion.tool_calls), usage.prompt_tokens, usage.completion_tokens,
                          usage.cost_usd or 0.0, f"{completion.provider}:{completion.model}")

    # -- the loop ------------------------------------------------------------------------------
    def initial_messages(self, grammar: bool) -> list[Message]:
        rules = ""
        try:
            rules_file = Path(self.app.root) / ".marie" / "rules.md"
            if rules_file.is_file():
                rules = rules_file.read_text("utf-8", errors="replace")[:4000]
        except OSError:
            pass
        system = prompts.system_prompt(self.toolset.describe(), grammar, rules)
        return [Message("system", system), Message("user", self.session.task)]

    def run(self, follow_up: str | None = None) -> AgentSession:
        """Run (or, with ``follow_up``, continue) the session; blocking, worker thread."""
        session = self.session
        reason, error, answer = "answered", "", ""
        try:
            grammar = self.grammar_mode()
        except Exception as exc:  # no such provider, model missing ...
            return self._finish("error", "", str(exc))
        messages = session.get_messages() or self.initial_messages(grammar)
        if follow_up:
            messages.append(Message("user", follow_up))
        self.publish(ev.AgentStarted(session.id, session.task, self.mode, self.model or ""))
        step = max((t["step"] for t in session.turns), default=0)
        steps_here = 0
        try:
            while True:
                if steps_here >= self.max_steps:
                    reason = "max_steps"
                    break
                if session.prompt_tokens + session.completion_tokens >= self.max_tokens:
                    reason = "max_tokens"
                    break
                self.token.check()
                step += 1
                steps_here += 1
                try:
                    turn = self._complete(self._request(messages, grammar))
                except Cancelled:
                    raise
                except Exception as exc:
                    if _malformed_call(exc):
                        # The provider could not parse the model's call: tell the model, go on.
                        messages.append(Message("user", f"Your last tool call was malformed ({exc}); "
                                                        "send it again as valid JSON arguments."))
                        session.turns.append({"step": step, "text": f"[malformed tool call: {exc}]", "calls": [],
                                              "usage": {}})
                        self._save(messages)
                        continue
                    raise
                if grammar:
                    turn.calls, turn.text = _parse_grammar_answer(turn.text, step)
                session.prompt_tokens += turn.prompt_tokens
                session.completion_tokens += turn.completion_tokens
                session.cost_usd += turn.cost_usd
                session.model = session.model or turn.model
                session.turns.append({"step": step, "text": turn.text, "calls": [c.name for c in turn.calls],
                                      "usage": {"prompt_tokens": turn.prompt_tokens,
                                                "completion_tokens": turn.completion_tokens, "cost_usd": turn.cost_usd}})
                self.publish(ev.ModelTurn(session.id, step, turn.text, tuple(c.name for c in turn.calls),
                                          turn.prompt_tokens, turn.completion_tokens, turn.cost_usd))
                if not turn.calls:
                    answer = turn.text
                    messages.append(Message("assistant", turn.text))
                    break
                if grammar:
                    messages.append(Message("assistant", prompts.call_text(turn.calls[0].name, turn.calls[0].arguments),
                                            tool_calls=tuple(turn.calls)))
                else:
                    messages.append(Message("assistant", turn.text, tool_calls=tuple(turn.calls)))
                for call in turn.calls:
                    record = self._call(step, call)
                    messages.append(Message("tool", record.result, tool_call_id=call.id))
                self._save(messages)
        except Cancelled:
            reason = "cancelled"
        except Exception as exc:
            log.warning("agent run failed", exc_info=True)
            reason, error = "error", str(exc) or type(exc).__name__
        self._save(messages)
        return self._finish(reason, answer, error)

    def _finish(self, reason: str, answer: str, error: str) -> AgentSession:
        session = self.session
        session.finished, session.answer = reason, answer
        self.last_error = error
        self._save(None, full=True)
        changed = tuple(self.changes.pending_paths())
        self.publish(ev.AgentFinished(session.id, reason, answer, error, session.prompt_tokens,
                                      session.completion_tokens, session.cost_usd, changed))
        return session

    def _save(self, messages: list[Message] | None, full: bool = False) -> None:
        """Persist the session: a journal line per step, a full snapshot at the end (``full``)."""
        if messages is not None:
            self.session.set_messages(messages)
        changes = None
        if self.changes.version != self._saved_version:
            changes = self.session.changes = self.changes.to_dict()
            self._saved_version = self.changes.version
        if self.store is not None:
            try:
                if full:
                    self.store.save(self.session)
                else:
                    self.store.append(self.session, changes)
            except OSError:
                log.warning("could not save agent session %s", self.session.id, exc_info=True)

    # -- one tool call -------------------------------------------------------------------------
    def _call(self, step: int, call: ToolCall) -> StepRecord:
        session = self.session
        args_text = json.dumps(call.arguments, ensure_ascii=False, sort_keys=True) \
            if isinstance(call.arguments, dict) else repr(call.arguments)
        self.publish(ev.ToolStarted(session.id, step, call.id, call.name, args_text))
        record = StepRecord(step, call.id, call.name, call.arguments if isinstance(call.arguments, dict) else {},
                            False, "", "")
        problem = self.toolset.check(call.name, call.arguments)
        if problem:
            record.summary, record.result = problem, f"error: {problem}"
        else:
            tool = self.toolset.tools[call.name]
            subject = _subject(tool, call.arguments)
            decision = self.permissions.decide(tool.name, subject, tool.kind)
            if decision.action == perms.ASK:
                choice = self._approve(ApprovalRequest(f"{session.id}-{next(self._ids)}", tool.name, tool.kind,
                                                       subject, call.arguments))
                record.approval = choice
                if choice == DENY:
                    decision = perms.Decision(perms.DENY, "the user declined")
            else:
                record.approval = decision.reason
            if decision.action == perms.DENY:
                record.summary = f"not allowed: {decision.reason}"
                record.result = f"error: not allowed ({decision.reason}); do something else or ask the user"
                if record.approval != DENY:
                    record.approval = f"denied: {decision.reason}"
            else:
                self._run_tool(tool, call, step, record)
        session.steps.append(record)
        self.publish(ev.ToolFinished(session.id, step, call.id, call.name, record.ok, record.summary,
                                     record.result, record.checkpoint_id, tuple(record.changed),
                                     bool(record.undo_paths)))
        return record

    def _run_tool(self, tool: AgentTool, call: ToolCall, step: int, record: StepRecord) -> ToolOutput | None:
        ctx = ToolContext(self.app, self.paths, self.changes, self.token, self.result_tokens, call.id, step,
                          on_output=lambda text: self.publish(ev.CommandOutput(self.session.id, call.id, text)),
                          ask_user=self._ask_user, label=self.session.task, apply_each=self.apply_each,
                          settings=self.app.settings)
        try:
            output = tool.run(ctx, call.arguments)
        except Cancelled:
            raise
        except (ToolError, PathRefused) as exc:
            record.summary, record.result = str(exc)[:200], f"error: {exc}"
            return None
        except Exception as exc:  # a bug or an unexpected failure in one tool must not end the run
            log.warning("agent tool %s failed", tool.name, exc_info=True)
            record.summary, record.result = f"{type(exc).__name__}: {exc}"[:200], f"error: {type(exc).__name__}: {exc}"
            return None
        if self.token.cancelled and tool.kind == "command":
            record.ok, record.summary, record.result = False, output.summary, output.text
            record.checkpoint_id, record.changed = output.checkpoint_id, list(output.changed)
            record.undo_paths = list(output.undo_paths)
            self.session.steps.append(record)
            self.publish(ev.ToolFinished(self.session.id, step, call.id, call.name, False, output.summary,
                                         output.text, output.checkpoint_id, tuple(output.changed), True))
            raise Cancelled()
        record.ok = output.ok
        record.summary, record.result = output.summary, output.text
        record.checkpoint_id, record.changed = output.checkpoint_id, list(output.changed)
        record.undo_paths = list(output.undo_paths)
        record.pending = bool(output.data.get("pending"))
        if output.checkpoint_id and not record.pending and tool.kind == "edit":
            self.session.applied.append({"checkpoint_id": output.checkpoint_id, "written": list(output.changed)})
        return output

    def _approve(self, request: ApprovalRequest) -> str:
        if self.approver is not None:
            choice = self.approver(request)
        else:
            self.publish(ev.ApprovalRequested(self.session.id, request.request_id, request.tool, request.subject,
                                              json.dumps(request.arguments, ensure_ascii=False)))
            choice = self._wait(request.request_id)
        choice = choice if choice in (ONCE, SESSION, RULE, DENY) else DENY
        self.session.approvals.append({"tool": request.tool, "subject": request.subject, "choice": choice})
        if choice in (SESSION, RULE):
            rule = perms.rule_for(request.tool, request.subject, request.kind)
            self.permissions.approve_for_session(rule)
            if choice == RULE:
                try:
                    perms.save_rule(self.app.settings, "allow", rule)
                except (perms.RuleLocked, RuntimeError, OSError) as exc:
                    self.app.events.notice(f"the rule was used for this session only: {exc}", "warning")
        return choice

    def _ask_user(self, question: str, options: tuple[str, ...]) -> str:
        if self.asker is not None:
            return self.asker(question, options)
        request_id = f"{self.session.id}-q{next(self._ids)}"
        self.publish(ev.QuestionAsked(self.session.id, request_id, question, options))
        return self._wait(request_id)

    # -- review, apply and undo ----------------------------------------------------------------
    def apply(self, changeset=None):
        """Write the (reviewed) change set: one checkpoint, undoable. Worker thread."""
        result = self.changes.apply(self.app, changeset, label=f"agent '{self.session.task[:40]}'")
        self.session.applied.append({"checkpoint_id": result.checkpoint_id, "written": result.written,
                                     "deleted": result.deleted})
        for record in self.session.steps:
            if record.pending and any(p in result.written + result.deleted for p in record.undo_paths):
                record.pending = False
                record.checkpoint_id = record.checkpoint_id or (result.checkpoint_id or "")
        self._save(None, full=True)
        return result

    def undo_step(self, call_id: str) -> list[str]:
        """Undo one step: a pending edit leaves the change set; a written edit or a command's
        changes are restored from the checkpoint taken before it (only the files it changed).
        Worker thread. Returns the paths put back."""
        record = self.session.step(call_id)
        if record.undone:
            return []
        if record.pending:
            # A reopened session knows its pending files, not each edit's text before: then the
            # file's pending edits go as a whole.
            restored = self.changes.undo_edit(call_id) or self.changes.discard(record.undo_paths)
        elif record.checkpoint_id and record.undo_paths:
            result = self.app.checkpoints.restore(record.checkpoint_id, paths=record.undo_paths)
            restored = sorted(set(result.written + result.deleted))
        else:
            return []
        record.undone = True
        self._save(None, full=True)
        self.publish(ev.StepUndone(self.session.id, record.step, call_id, tuple(restored)))
        return restored


def _subject(tool: AgentTool, arguments: dict) -> str:
    try:
        return tool.subject(arguments)
    except Exception:
        return ""


def _malformed_call(exc: Exception) -> bool:
    from marie.ai.errors import BadResponse

    return isinstance(exc, BadResponse) and "tool" in str(exc)


def _flatten_for_grammar(messages: list[Message]) -> list[Message]:
    """Tool turns as plain text (local chat templates know only system/user/assistant)."""
    out: list[Message] = []
    names: dict[str, str] = {}
    for m in messages:
        if m.role == "assistant" and m.tool_calls:
            for c in m.tool_calls:
                names[c.id] = c.name
            out.append(Message("assistant", m.content or prompts.call_text(m.tool_calls[0].name, m.tool_calls[0].arguments)))
        elif m.role == "tool":
            out.append(Message("user", prompts.result_text(names.get(m.tool_call_id, "tool"), m.tool_call_id, m.content)))
        else:
            out.append(Message(m.role, m.content))
    # Consecutive user turns are joined (templates expect alternation).
    merged: list[Message] = []
    for m in out:
        if merged and merged[-1].role == m.role == "user":
            merged[-1] = Message("user", merged[-1].content + "\n\n" + m.content)
        else:
            merged.append(m)
    return merged


def _parse_grammar_answer(text: str, step: int) -> tuple[list[ToolCall], str]:
    """A grammar-constrained answer -> ([call], "") or ([], final text)."""
    try:
        data = json.loads(text)
    except ValueError:
        # Cut off by max_tokens mid-JSON: show the model (as a call of an unknown tool) and go on.
        return [ToolCall(f"call_{step}_1", "(malformed)", {"raw": text[:200]})], ""
    if not isinstance(data, dict):
        return [ToolCall(f"call_{step}_1", "(malformed)", {"raw": text[:200]})], ""
    name = data.get("tool")
    arguments = data.get("arguments")
    if name == "answer":
        return [], str((arguments or {}).get("text", "")) if isinstance(arguments, dict) else ""
    return [ToolCall(f"call_{step}_1", str(name), arguments if isinstance(arguments, dict) else {})], ""
