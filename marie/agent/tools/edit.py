"""edit: a search/replace or a whole new file into the session's change set (never straight to
disk; with the "step" apply setting the file is then written through the composer's apply, which
checkpoints). A failed edit (no match, ambiguous, refused path) is a tool error the model can act on.
Worker thread."""

from __future__ import annotations

from marie.agent.budget import cut
from marie.agent.paths import PathRefused
from marie.agent.tools.base import STR, AgentTool, ToolContext, ToolError, ToolOutput, schema
from marie.composer.errors import ComposerError, EditError


def _edit(ctx: ToolContext, args: dict) -> ToolOutput:
    try:
        rel, path = ctx.paths.writable(str(args["path"]))
    except PathRefused as exc:
        raise ToolError(f"refused: {exc}") from None
    content = args.get("content")
    try:
        if args.get("delete"):
            tier, diff = "delete", ctx.changes.delete(ctx.call_id, rel, path)
        else:
            tier, diff = ctx.changes.edit(ctx.call_id, rel, path, search=args.get("search"),
                                          replace=args.get("replace"), content=content)
    except EditError as exc:
        raise ToolError(f"edit failed: {exc}") from None
    summary = f"edited {rel} ({tier})"
    if not ctx.apply_each:
        return ToolOutput(cut(f"{summary}; pending in the change set. The file now differs by:\n{diff}",
                              ctx.result_tokens, "diff"), summary, changed=(rel,), undo_paths=(rel,),
                          data={"pending": True})
    try:
        result = ctx.changes.apply_file(ctx.app, rel, f"agent step {ctx.step}: edit {rel}")
    except ComposerError as exc:
        ctx.changes.undo_edit(ctx.call_id)
        raise ToolError(f"edit could not be written: {exc}") from None
    return ToolOutput(cut(f"{summary}; written to disk. Diff:\n{diff}", ctx.result_tokens, "diff"),
                      summary + ", written", checkpoint_id=result.checkpoint_id or "",
                      changed=tuple(result.written + result.deleted), undo_paths=(rel,))


def tools() -> list[AgentTool]:
    return [AgentTool(
        "edit", "Change a file: give search (exact lines copied from the file, enough to be unique) and "
        "replace, or content (the whole new file; also creates a file), or delete: true. The change goes into "
        "the change set the user reviews.",
        schema({"path": STR, "search": STR, "replace": STR, "content": STR, "delete": {"type": "boolean"}},
               ("path",)), "edit", _edit,
        lambda a: str(a.get("path", "")))]
