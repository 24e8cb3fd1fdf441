"""What every agent tool is: a name, a description, a JSON schema for its arguments, its kind (for
permissions) and a function. ``ToolContext`` is what a running tool may use. Any thread unless a
tool says otherwise (tools run on the agent's worker thread)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from marie.agent.changes import AgentChanges
    from marie.agent.paths import AgentPaths
    from marie.core.tasks import CancelToken

KINDS = ("read", "edit", "command", "other")


class ToolError(Exception):
    """A tool could not do what was asked; the message goes back to the model as a tool error."""


@dataclass
class ToolOutput:
    """A tool's answer: ``text`` for the model, ``summary`` (one line) for the folded step view."""

    text: str
    summary: str = ""
    checkpoint_id: str = ""
    changed: tuple[str, ...] = ()
    undo_paths: tuple[str, ...] = ()
    ok: bool = True
    data: dict = field(default_factory=dict)


@dataclass
class ToolContext:
    """Everything a tool call may use; built by the loop for each call."""

    app: Any
    paths: "AgentPaths"
    changes: "AgentChanges"
    token: "CancelToken"
    result_tokens: int
    call_id: str = ""
    step: int = 0
    on_output: Callable[[str], None] | None = None
    ask_user: Callable[[str, tuple[str, ...]], str] | None = None
    label: str = ""
    apply_each: bool = False          # the "step" apply setting: edits are written at once
    settings: Any = None


@dataclass(frozen=True)
class AgentTool:
    name: str
    description: str
    parameters: dict
    kind: str                                   # read | edit | command | other
    run: Callable[[ToolContext, dict], ToolOutput]
    subject: Callable[[dict], str] = lambda args: ""   # what permission patterns match

    def declaration(self):
        from marie.ai.types import Tool

        return Tool(self.name, self.description, self.parameters)


def schema(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


STR = {"type": "string"}
INT = {"type": "integer"}
