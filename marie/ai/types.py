"""Plain data passed between callers and providers (no I/O, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """One chat turn; ``role`` is "system", "user" or "assistant"."""

    role: str
    content: str


@dataclass
class ChatRequest:
    """What a caller asks of a model.

    ``grammar`` is a llama.cpp GBNF grammar, ``json_schema`` a JSON schema; either constrains the
    output where the provider's capabilities allow it (local llama.cpp supports both).
    """

    messages: list[Message]
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    grammar: str | None = None
    json_schema: dict | None = None


@dataclass(frozen=True)
class Capabilities:
    context_length: int
    grammar: bool
    json_schema: bool
    tools: bool
    local: bool


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0


@dataclass
class Completion:
    text: str
    usage: Usage
    provider: str
    model: str
    notes: list[str] = field(default_factory=list)
