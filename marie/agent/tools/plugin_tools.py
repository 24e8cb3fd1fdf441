"""Agent tools contributed by plugins (``marie.plugins``), as ordinary agent tools: the same schema
check, permissions (a read-only plugin tool has kind "read", so plan mode offers it; any other is
"other", asked about like the built-in tools that are neither reads nor edits) and audit. A plugin
tool that raises gives the model the error, never a crash of the run. Worker thread."""

from __future__ import annotations

import logging
from typing import Any

from marie.agent.tools.base import AgentTool, ToolContext, ToolOutput

log = logging.getLogger(__name__)


def plugin_tools(app: Any) -> list[AgentTool]:
    """The active plugins' tools (loads the plugins first if needed: call on a worker)."""
    try:
        contributions = app.plugins.agent_tools()
    except Exception:
        log.exception("plugin tools are unavailable")
        return []
    return [_wrap(c) for c in contributions]


def _wrap(contribution: Any) -> AgentTool:
    def run(ctx: ToolContext, arguments: dict) -> ToolOutput:
        try:
            text = str(contribution.run(ctx.app, arguments))
        except Exception as exc:
            return ToolOutput(f"the plugin tool {contribution.name} failed: {type(exc).__name__}: {exc}",
                              summary="failed", ok=False)
        first = text.strip().splitlines()[0] if text.strip() else "(empty)"
        return ToolOutput(text, summary=first[:80])

    return AgentTool(contribution.name, contribution.description, contribution.parameters,
                     "read" if contribution.read_only else "other", run,
                     subject=lambda args: " ".join(str(v) for v in args.values())[:200])
