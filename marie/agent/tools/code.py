"""go_to_symbol (the index's symbols), references and diagnostics (the LSP service, jedi as its
fallback). Worker thread: the LSP calls block on the language server."""

from __future__ import annotations

from pathlib import Path

from marie.agent.budget import cut
from marie.agent.paths import PathRefused
from marie.agent.tools.base import INT, STR, AgentTool, ToolContext, ToolError, ToolOutput, schema


def _rel(ctx: ToolContext, path: Path | str) -> str | None:
    try:
        rel = Path(path).resolve().relative_to(ctx.paths.root.resolve()).as_posix()
    except ValueError:
        return None
    return rel if ctx.paths.visible(rel) else None


def _go_to_symbol(ctx: ToolContext, args: dict) -> ToolOutput:
    name = str(args["name"])
    limit = max(1, min(int(args.get("limit") or 20), 100))
    index = ctx.app.index
    if not index.snapshot().files():
        index.scan()
    found = [s for s in index.workspace_symbols(name, limit=limit * 2) if ctx.paths.visible(s.path)][:limit]
    lines = [f"{s.path}:{s.line}: {s.kind} {s.container + '.' if s.container else ''}{s.name}" for s in found]
    return ToolOutput(cut("\n".join(lines) or f"no symbol matches {name!r}", ctx.result_tokens, "list"),
                      f"{len(found)} symbols for {name!r}")


def _references(ctx: ToolContext, args: dict) -> ToolOutput:
    try:
        norm, path = ctx.paths.readable(str(args["path"]))
    except PathRefused as exc:
        raise ToolError(str(exc)) from None
    try:
        locations = ctx.app.lsp.references(path, int(args["line"]), int(args["column"]))
    except Exception as exc:  # the LSP layer's errors carry user-facing messages
        raise ToolError(f"references failed: {exc}") from None
    lines = []
    for loc in locations:
        rel = _rel(ctx, loc.path)
        if rel is not None:
            lines.append(f"{rel}:{loc.line}:{loc.column}")
    return ToolOutput(cut("\n".join(lines) or "no references", ctx.result_tokens, "list"),
                      f"{len(lines)} references")


def _diagnostics(ctx: ToolContext, args: dict) -> ToolOutput:
    lsp = ctx.app.lsp
    if args.get("path"):
        try:
            norm, path = ctx.paths.readable(str(args["path"]))
        except PathRefused as exc:
            raise ToolError(str(exc)) from None
        try:
            report = {path: lsp.check(path, timeout=float(args.get("timeout_s") or 15))}
        except Exception as exc:
            raise ToolError(f"diagnostics for {norm} failed: {exc}") from None
    else:
        report = lsp.diagnostics()
    lines = []
    for path, items in sorted(report.items(), key=lambda kv: str(kv[0])):
        rel = _rel(ctx, path)
        if rel is None:
            continue
        for d in items:
            lines.append(f"{rel}:{d.line}:{d.column}: {d.severity}: {d.message}")
    return ToolOutput(cut("\n".join(lines) or "no problems reported", ctx.result_tokens, "list"),
                      f"{len(lines)} problems")


def tools() -> list[AgentTool]:
    return [
        AgentTool("go_to_symbol", "Find where a class, function or other symbol is defined (fuzzy name).",
                  schema({"name": STR, "limit": INT}, ("name",)), "read", _go_to_symbol, lambda a: str(a.get("name", ""))),
        AgentTool("references", "List references to the symbol at path:line:column (1-based).",
                  schema({"path": STR, "line": INT, "column": INT}, ("path", "line", "column")), "read",
                  _references, lambda a: str(a.get("path", ""))),
        AgentTool("diagnostics", "Errors and warnings from the language servers: for one file (checked now) "
                  "or, without a path, every problem known.",
                  schema({"path": STR, "timeout_s": INT}), "read", _diagnostics, lambda a: str(a.get("path", ""))),
    ]
