"""git_status and git_diff through ``app.git`` (pygit2 on the git worker). Worker thread."""

from __future__ import annotations

from marie.agent.budget import cut
from marie.agent.tools.base import STR, AgentTool, ToolContext, ToolError, ToolOutput, schema


def _status(ctx: ToolContext, args: dict) -> ToolOutput:
    try:
        snap = ctx.app.git.status_sync(timeout=30)
    except Exception as exc:
        raise ToolError(f"git status failed: {exc}") from None
    if snap is None:
        raise ToolError("the workspace is not a git repository")
    lines = [f"branch {snap.branch or '(detached)'} at {snap.head or '(no commits)'}"]
    for path, st in sorted(snap.files.items()):
        if not ctx.paths.visible(path):
            continue
        what = "untracked" if st.untracked else "conflicted" if st.conflicted else \
            ", ".join(x for x in (f"staged {st.index}" if st.index else "", st.worktree or "") if x)
        lines.append(f"{what}: {path}")
    return ToolOutput(cut("\n".join(lines), ctx.result_tokens, "status"), f"{len(lines) - 1} changed files")


def _diff(ctx: ToolContext, args: dict) -> ToolOutput:
    paths = [str(args["path"])] if args.get("path") else []
    for p in paths:
        ctx.paths.readable(p)
    try:
        diffs = ctx.app.git.diff_sync(bool(args.get("staged", False)), paths, timeout=30)
    except Exception as exc:
        raise ToolError(f"git diff failed: {exc}") from None
    text = "".join(d.patch for d in diffs if ctx.paths.visible(d.path))
    return ToolOutput(cut(text or "no differences", ctx.result_tokens, "diff"), f"{len(diffs)} files differ")


def tools() -> list[AgentTool]:
    return [
        AgentTool("git_status", "The git branch and the changed, staged and untracked files.", schema({}),
                  "read", _status),
        AgentTool("git_diff", "The unstaged (or, with staged, the staged) diff, optionally for one path.",
                  schema({"path": STR, "staged": {"type": "boolean"}}), "read", _diff,
                  lambda a: str(a.get("path", ""))),
    ]
