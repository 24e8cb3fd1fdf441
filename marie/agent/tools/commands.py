"""run_command and run_tests: a shell command in a pseudo-terminal in the workspace, with a
checkpoint before it and the list of files it changed after it (the step can be undone exactly:
the changed files are restored from the checkpoint, the ones it created removed). Worker thread."""

from __future__ import annotations

from marie.agent.budget import cut
from marie.agent.pty_command import filtered_env, run_isolated
from marie.agent.tools.base import INT, STR, AgentTool, ToolContext, ToolError, ToolOutput, schema


def run_checkpointed(ctx: ToolContext, command: str, timeout_s: float | None) -> ToolOutput:
    settings = ctx.settings or ctx.app.settings
    if not command.strip():
        raise ToolError("no command given")
    limit = float(settings.get("agent.commands.timeout_s"))
    timeout = min(float(timeout_s), limit) if timeout_s else limit
    cap = int(settings.get("agent.commands.output_cap_bytes"))
    env = filtered_env(list(settings.get("agent.commands.env_deny") or []))
    checkpoints = ctx.app.checkpoints
    cid = checkpoints.create(label=f"before: agent step {ctx.step}: {command[:60]}", auto=True)
    result = run_isolated(command, ctx.paths.root, timeout_s=timeout, output_cap=cap, env=env, token=ctx.token,
                         on_output=ctx.on_output)
    changed = tuple(sorted(f"{d.status} {d.path}" for d in checkpoints.diff(cid)))
    paths = tuple(line.split(" ", 1)[1] for line in changed)
    if result.timed_out:
        status = f"killed after {timeout:g} s (timeout)"
    elif result.cancelled:
        status = "cancelled by the user"
    else:
        status = f"exit code {result.exit_code}"
    notes = [status]
    if result.cut_bytes:
        notes.append(f"{result.cut_bytes} bytes of output past the {cap}-byte cap were cut")
    pending = ctx.changes.pending_paths()
    if pending and not ctx.apply_each:
        notes.append(f"note: {len(pending)} edited files are pending review and not on disk "
                     f"({', '.join(pending[:5])})")
    if changed:
        notes.append("files changed by the command: " + ", ".join(changed[:50]))
    text = cut(result.output, ctx.result_tokens, "output") + "\n[" + "; ".join(notes) + "]"
    summary = f"$ {command[:80]} -> {status}" + (f", {len(changed)} files changed" if changed else "")
    return ToolOutput(text, summary, checkpoint_id=cid, changed=paths, undo_paths=paths, ok=result.ok,
                      data={"exit_code": result.exit_code, "timed_out": result.timed_out,
                            "cancelled": result.cancelled, "cut_bytes": result.cut_bytes})


def _run_command(ctx: ToolContext, args: dict) -> ToolOutput:
    return run_checkpointed(ctx, str(args["command"]), args.get("timeout_s"))


def _run_tests(ctx: ToolContext, args: dict) -> ToolOutput:
    settings = ctx.settings or ctx.app.settings
    command = str(args.get("command") or settings.get("agent.test_command"))
    return run_checkpointed(ctx, command, args.get("timeout_s"))


def _test_subject(args: dict) -> str:
    return str(args.get("command") or "")


def tools() -> list[AgentTool]:
    return [
        AgentTool("run_command", "Run a shell command in the workspace (a pseudo-terminal; output is capped, "
                  "the command is killed at its timeout). Files it changes are listed and can be undone.",
                  schema({"command": STR, "timeout_s": INT}, ("command",)), "command", _run_command,
                  lambda a: str(a.get("command", ""))),
        AgentTool("run_tests", "Run the project's tests (the configured test command, or the one given).",
                  schema({"command": STR, "timeout_s": INT}), "command", _run_tests, _test_subject),
    ]
