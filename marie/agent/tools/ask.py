"""ask_user: a question (with optional choices) answered by the user in the pane or the terminal.
The loop waits for the answer; cancelling the run stops the wait. Worker thread."""

from __future__ import annotations

from marie.agent.tools.base import STR, AgentTool, ToolContext, ToolError, ToolOutput, schema


def _ask(ctx: ToolContext, args: dict) -> ToolOutput:
    if ctx.ask_user is None:
        raise ToolError("nobody can answer questions in this run; decide yourself and say what you assumed")
    options = tuple(str(o) for o in (args.get("options") or ()))
    answer = ctx.ask_user(str(args["question"]), options)
    return ToolOutput(f"The user answered: {answer}", f"answered: {answer[:60]}")


def tools() -> list[AgentTool]:
    return [AgentTool("ask_user", "Ask the user a question when you cannot go on without their decision.",
                      schema({"question": STR, "options": {"type": "array", "items": STR}}, ("question",)),
                      "read", _ask)]
