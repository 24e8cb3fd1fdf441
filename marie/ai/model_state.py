"""How the local model's state reads to a user: one wording for the status bar, the AI Models panel
and the CLI. Plain functions over ``ModelState`` details (no Qt, no I/O; any thread)."""

from __future__ import annotations


def describe(active: str, state: dict) -> tuple[str, str]:
    """(short text, longer explanation) for ``active`` ("provider:model") in ``state``.

    ``state`` holds the latest ``ModelState``: "state" (unloaded | loading | ready | crashed | error)
    plus the provider's details (fraction, n_ctx, threads, threads_batch, safe, message). A crashed
    or failed model never reads "ready".
    """
    provider, _, name = active.partition(":")
    kind = state.get("state", "unloaded")
    if provider != "local":
        return f"{name or provider}", f"uses {active} (remote provider)"
    if kind == "loading":
        fraction = float(state.get("fraction", 0.0) or 0.0)
        return f"{name} · loading {int(fraction * 100)}%", "Loading the local model in the background"
    if kind == "ready":
        safe = bool(state.get("safe"))
        tip = (f"{name} is loaded (context {state.get('n_ctx', '?')} tokens, {state.get('threads', '?')} "
               f"generation / {state.get('threads_batch', '?')} prompt threads)")
        if safe:
            tip += "; safe mode after a crash: llama.cpp's weight repacking is off"
        return f"{name} · ready" + (" (safe mode)" if safe else ""), tip
    if kind == "crashed":
        return f"{name} · crashed — retrying", str(state.get("message", ""))
    if kind == "error":
        message = str(state.get("message", "the model failed to load"))
        failed = message.removeprefix("failed: ")
        short = failed[:60] + ("…" if len(failed) > 60 else "")
        return f"{name} · failed: {short}", message
    return f"{name} · not loaded", "Click to load the local model now (it also loads on first use)"
