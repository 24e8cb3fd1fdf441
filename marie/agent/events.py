"""The agent's typed events, published with ``app.events.publish`` so the pane, the CLI and the
terminal panel show each step as it happens. Frozen dataclasses; they are published from the agent's
worker thread and delivered through the app's dispatcher (the GUI thread in the window)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AgentEvent:
    """Base class: every agent event names its session."""

    session_id: str


@dataclass(frozen=True)
class AgentStarted(AgentEvent):
    task: str
    mode: str
    model: str


@dataclass(frozen=True)
class ModelTurn(AgentEvent):
    """One model answer: its text, the tool calls it asked for, and what it cost."""

    step: int
    text: str
    calls: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class ToolStarted(AgentEvent):
    step: int
    call_id: str
    tool: str
    arguments: str          # JSON text, as the model sent it (after parsing)


@dataclass(frozen=True)
class ToolFinished(AgentEvent):
    """A tool's result: ``summary`` is the folded one-line form, ``result`` what the model saw."""

    step: int
    call_id: str
    tool: str
    ok: bool
    summary: str
    result: str
    checkpoint_id: str = ""
    changed: tuple[str, ...] = ()
    undoable: bool = False


@dataclass(frozen=True)
class CommandOutput(AgentEvent):
    """A piece of a running command's output (decoded text), as it streams."""

    call_id: str
    text: str


@dataclass(frozen=True)
class ApprovalRequested(AgentEvent):
    """The loop waits for ``AgentRun.answer_approval(request_id, ...)``."""

    request_id: str
    tool: str
    subject: str            # the path or command the rule patterns match
    arguments: str


@dataclass(frozen=True)
class QuestionAsked(AgentEvent):
    """ask_user: the loop waits for ``AgentRun.answer_question(request_id, text)``."""

    request_id: str
    question: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepUndone(AgentEvent):
    step: int
    call_id: str
    restored: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentFinished(AgentEvent):
    """The run ended: ``reason`` is "answered", "max_steps", "max_tokens", "cancelled" or "error"."""

    reason: str
    answer: str = ""
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    changed: tuple[str, ...] = field(default_factory=tuple)
