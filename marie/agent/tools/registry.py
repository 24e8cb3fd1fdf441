"""The tool set of one run: the built-in tools (minus those the mode refuses outright) and the MCP
servers' tools; argument checking against each tool's JSON schema (``jsonschema``), so a call with
wrong types goes back to the model as an error before the tool runs. Any thread."""

from __future__ import annotations

import json

import jsonschema  # type: ignore[import-untyped]

from marie.agent.tools import ask, code, commands, edit, files, git
from marie.agent.tools.base import AgentTool


def builtin_tools() -> list[AgentTool]:
    return files.tools() + code.tools() + git.tools() + edit.tools() + commands.tools() + ask.tools()


class ToolSet:
    def __init__(self, tools: list[AgentTool]) -> None:
        self.tools: dict[str, AgentTool] = {}
        for tool in tools:
            self.tools[tool.name] = tool
        self._validators = {t.name: jsonschema.Draft202012Validator(t.parameters) for t in tools}

    def __contains__(self, name: str) -> bool:
        return name in self.tools

    def names(self) -> list[str]:
        return list(self.tools)

    def declarations(self) -> tuple:
        return tuple(t.declaration() for t in self.tools.values())

    def check(self, name: str, arguments: object) -> str:
        """'' when the call is well-formed, else the error to give back to the model."""
        if name not in self.tools:
            return f"unknown tool {name!r}; the tools are: {', '.join(self.tools)}"
        if not isinstance(arguments, dict):
            return f"the arguments of {name} must be a JSON object, got {type(arguments).__name__}"
        errors = sorted(self._validators[name].iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            parts = []
            for e in errors[:3]:
                where = ".".join(str(p) for p in e.path) or "arguments"
                parts.append(f"{where}: {e.message}")
            return f"bad arguments for {name}: " + "; ".join(parts)
        return ""

    def call_schema(self, allow_answer: bool = True, only: str | None = None) -> dict:
        """A JSON schema whose instances are exactly one call of one tool, or a final answer:
        ``{"tool": NAME, "arguments": {...}}`` / ``{"tool": "answer", "arguments": {"text": ...}}``.
        Local llama.cpp models are constrained by its grammar, so they emit only valid calls."""
        choices = []
        for tool in self.tools.values():
            if only and tool.name != only:
                continue
            params = dict(tool.parameters)
            choices.append({"type": "object", "properties": {"tool": {"const": tool.name}, "arguments": params},
                            "required": ["tool", "arguments"], "additionalProperties": False})
        if not allow_answer:
            return {"oneOf": choices}
        choices.append({"type": "object", "properties": {"tool": {"const": "answer"},
                                                          "arguments": {"type": "object",
                                                                        "properties": {"text": {"type": "string"}},
                                                                        "required": ["text"],
                                                                        "additionalProperties": False}},
                        "required": ["tool", "arguments"], "additionalProperties": False})
        return {"oneOf": choices}

    def describe(self) -> str:
        """The tools in plain text (for prompts of models without native tool calling)."""
        return "\n".join(f"- {t.name}: {t.description} Arguments: {json.dumps(t.parameters['properties'])}"
                         for t in self.tools.values())
