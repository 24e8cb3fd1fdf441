"""One line per agent event, for the CLI's stderr and logs (the pane draws its own). Pure."""

from __future__ import annotations

from marie.agent import events as ev


def describe(event: object) -> str | None:
    """The line to show for ``event``, or None for events shown otherwise (command output)."""
    if isinstance(event, ev.AgentStarted):
        return f"agent: {event.task!r} in {event.mode} mode" + (f" with {event.model}" if event.model else "")
    if isinstance(event, ev.ModelTurn):
        said = f": {event.text.strip()[:200]}" if event.text.strip() else ""
        calls = f" -> {', '.join(event.calls)}" if event.calls else ""
        return (f"[{event.step}] model{said}{calls} ({event.prompt_tokens}+{event.completion_tokens} tokens, "
                f"${event.cost_usd:.4f})")
    if isinstance(event, ev.ToolStarted):
        return f"[{event.step}] {event.tool} {event.arguments[:300]}"
    if isinstance(event, ev.ToolFinished):
        mark = "ok" if event.ok else "error"
        where = f" (checkpoint {event.checkpoint_id})" if event.checkpoint_id else ""
        return f"[{event.step}]   {mark}: {event.summary}{where}"
    if isinstance(event, ev.StepUndone):
        return f"[{event.step}] undone: {', '.join(event.restored) or 'nothing to restore'}"
    if isinstance(event, ev.AgentFinished):
        tail = f": {event.error}" if event.error else ""
        return (f"agent: finished ({event.reason}{tail}); {event.prompt_tokens}+{event.completion_tokens} tokens, "
                f"${event.cost_usd:.4f}")
    return None
