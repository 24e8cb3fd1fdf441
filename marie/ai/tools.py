"""Tool calling shared by the HTTP providers: declarations in each API's shape, and the streamed
pieces of tool calls (OpenAI ``delta.tool_calls``, Anthropic ``tool_use`` blocks with
``input_json_delta``) gathered into one list of ``ToolCall``. No I/O; any thread.
"""

from __future__ import annotations

import json

from marie.ai import errors
from marie.ai.types import ChatRequest, Tool, ToolCall


def check_request(request: ChatRequest, provider: str, supported: bool) -> None:
    """Refuse tools a provider cannot take, and a ``tool_choice`` naming no declared tool."""
    if not request.tools:
        return
    if not supported:
        raise errors.AIError(f"{provider} does not take tool declarations here; route this task to an "
                             "OpenAI-compatible or Anthropic model", provider=provider)
    names = [t.name for t in request.tools]
    if len(set(names)) != len(names):
        raise errors.AIError(f"two tools share a name: {', '.join(sorted(names))}", provider=provider)
    choice = request.tool_choice
    if choice not in (None, "auto", "required", "none") and choice not in names:
        raise errors.AIError(f"tool_choice {choice!r} names no declared tool ({', '.join(names)})", provider=provider)


def openai_tools(tools: tuple[Tool, ...], choice: str | None) -> dict:
    """The ``tools`` / ``tool_choice`` fields of a chat completions body."""
    out: dict = {"tools": [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                             "parameters": t.parameters}} for t in tools]}
    if choice in ("auto", "required", "none"):
        out["tool_choice"] = choice
    elif choice:
        out["tool_choice"] = {"type": "function", "function": {"name": choice}}
    return out


def anthropic_tools(tools: tuple[Tool, ...], choice: str | None) -> dict:
    """The ``tools`` / ``tool_choice`` fields of a Messages API body."""
    out: dict = {"tools": [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                           for t in tools]}
    if choice in ("auto", "none"):
        out["tool_choice"] = {"type": choice}
    elif choice == "required":
        out["tool_choice"] = {"type": "any"}
    elif choice:
        out["tool_choice"] = {"type": "tool", "name": choice}
    return out


class ToolCallCollector:
    """Tool calls arriving in pieces, keyed by the stream's index for them.

    ``start(index, id, name)`` when a call opens (OpenAI may repeat or omit id/name on later pieces),
    ``add(index, json_piece)`` for each piece of its arguments, ``calls()`` at the end of the stream.
    """

    def __init__(self, what: str, provider: str) -> None:
        self.what = what
        self.provider = provider
        self._calls: dict[int, list] = {}  # index -> [id, name, [json pieces]]

    def start(self, index: int, call_id: str | None = None, name: str | None = None) -> None:
        entry = self._calls.setdefault(index, ["", "", []])
        if call_id:
            entry[0] = call_id
        if name:
            entry[1] = name

    def add(self, index: int, piece: str) -> None:
        if piece:
            self._calls.setdefault(index, ["", "", []])[2].append(piece)

    def calls(self) -> list[ToolCall]:
        out = []
        for index in sorted(self._calls):
            call_id, name, pieces = self._calls[index]
            raw = "".join(pieces).strip()
            if not name:
                raise errors.BadResponse(f"{self.what} sent a tool call without a name", provider=self.provider)
            try:
                arguments = json.loads(raw) if raw else {}
            except ValueError:
                raise errors.BadResponse(f"{self.what} sent arguments for tool {name!r} that are not JSON: "
                                         f"{raw[:80]!r}", provider=self.provider) from None
            if not isinstance(arguments, dict):
                raise errors.BadResponse(f"{self.what} sent arguments for tool {name!r} that are not a JSON "
                                         f"object: {raw[:80]!r}", provider=self.provider)
            out.append(ToolCall(call_id or f"call_{index}", name, arguments))
        return out
