"""Plain data passed between callers and providers (no I/O, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Tool:
    """A function the model may call: ``parameters`` is the JSON schema of its arguments (an object)."""

    name: str
    description: str
    parameters: dict = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for, the same for every provider: ``arguments`` is the parsed JSON
    object; ``id`` pairs the call with its result (a ``Message("tool", ..., tool_call_id=id)``)."""

    id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class Message:
    """One chat turn; ``role`` is "system", "user" or "assistant".

    ``cache`` asks providers with prompt caching (Anthropic) to put a cache breakpoint after this
    message: send a large stable context as its own message with ``cache=True`` followed by the
    question in another message of the same role (they are joined into one turn). Without any
    marked message the provider places breakpoints itself (see ``AnthropicProvider.body``).

    Tool use: an assistant turn that called tools carries them in ``tool_calls``; each result goes
    back as ``Message("tool", result_text, tool_call_id=call.id)``.
    """

    role: str
    content: str
    cache: bool = False
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""


@dataclass
class ChatRequest:
    """What a caller asks of a model.

    ``grammar`` is a llama.cpp GBNF grammar, ``json_schema`` a JSON schema; either constrains the
    output where the provider's capabilities allow it (local llama.cpp supports both).

    ``tools`` are declared per request (providers whose capabilities say ``tools``); ``tool_choice``
    is None (the model decides), "required" (it must call one), "none", or a tool's name. The calls
    come back in ``Completion.tool_calls``.
    """

    messages: list[Message]
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    grammar: str | None = None
    json_schema: dict | None = None
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None
    # Called as progress(done, total) with prompt tokens processed so far, on the provider's thread,
    # while a local model reads a long prompt (the wait before the first token). Not sent anywhere.
    progress: Callable[[int, int], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Capabilities:
    context_length: int
    grammar: bool
    json_schema: bool
    tools: bool
    local: bool


@dataclass
class Usage:
    """Tokens of one request. ``prompt_tokens`` counts every input token, including
    ``cached_tokens`` (read from the provider's prompt cache, billed cheaper) and
    ``cache_write_tokens`` (written to it on this request, billed dearer: Anthropic only)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    cache_write_tokens: int = 0
    # True when the server reported no counts and these are estimates (see openai_compat).
    estimated: bool = False


@dataclass
class Completion:
    text: str
    usage: Usage
    provider: str
    model: str
    notes: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
