"""read_file, list_folder, find_files (the quick-open engine) and search (the rg engine).

Every path goes through ``AgentPaths``: nothing outside the workspace, under .git/, or kept from the
AI is read or listed. Worker thread (disk and subprocess I/O)."""

from __future__ import annotations

import os

from marie.agent.budget import cut
from marie.agent.paths import PathRefused
from marie.agent.tools.base import INT, STR, AgentTool, ToolContext, ToolError, ToolOutput, schema
from marie.text import codec

MAX_READ_BYTES = 2_000_000


def read_text(ctx: ToolContext, rel: str) -> tuple[str, str]:
    """(normalised rel, text) of a file as the agent sees it: its pending edit if it has one."""
    try:
        norm, path = ctx.paths.readable(rel)
    except PathRefused as exc:
        raise ToolError(str(exc)) from None
    pending = ctx.changes.pending_text(norm)
    if pending is not None:
        if pending is ctx.changes.DELETED:
            raise ToolError(f"{norm}: deleted by a pending edit")
        return norm, pending
    if path.is_dir():
        raise ToolError(f"{norm}: is a folder; use list_folder")
    if not path.exists():
        raise ToolError(f"{norm}: no such file")
    if path.stat().st_size > MAX_READ_BYTES:
        raise ToolError(f"{norm}: too large to read ({path.stat().st_size} bytes)")
    try:
        text, _fmt = codec.decode(path.read_bytes())
    except codec.BinaryFileError:
        raise ToolError(f"{norm}: is a binary file") from None
    return norm, text


def _read_file(ctx: ToolContext, args: dict) -> ToolOutput:
    norm, text = read_text(ctx, args["path"])
    lines = text.splitlines()
    start = max(1, int(args.get("start_line") or 1))
    end = int(args.get("end_line") or len(lines))
    end = min(max(end, start), len(lines))
    body = "\n".join(f"{n:>5}  {lines[n - 1]}" for n in range(start, end + 1)) if lines else ""
    head = f"{norm} lines {start}-{end} of {len(lines)}" if lines else f"{norm} (empty)"
    return ToolOutput(cut(f"{head}\n{body}", ctx.result_tokens, "file"), f"{head}")


def _list_folder(ctx: ToolContext, args: dict) -> ToolOutput:
    try:
        norm, path = ctx.paths.readable(args.get("path") or ".", folder=True)
    except PathRefused as exc:
        raise ToolError(str(exc)) from None
    if not path.is_dir():
        raise ToolError(f"{norm or '.'}: not a folder")
    entries = []
    with os.scandir(path) as it:
        for entry in sorted(it, key=lambda e: e.name):
            rel = f"{norm}/{entry.name}" if norm else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if not ctx.paths.visible(rel + ("/" if is_dir else "")) or not ctx.paths.visible(rel):
                continue
            entries.append(entry.name + ("/" if is_dir else ""))
    for rel in ctx.changes.created_in(norm):
        if rel not in entries:
            entries.append(rel + "  (pending)")
    text = "\n".join(entries) or "(empty)"
    return ToolOutput(cut(text, ctx.result_tokens, "listing"), f"{len(entries)} entries in {norm or '.'}")


def _find_files(ctx: ToolContext, args: dict) -> ToolOutput:
    query = str(args["query"])
    limit = max(1, min(int(args.get("limit") or 30), 200))
    index = ctx.app.index
    if not index.snapshot().files():
        index.scan()
    matches = index.find(query, limit=limit * 2)
    found = [m.path for m in matches if ctx.paths.visible(m.path)][:limit]
    return ToolOutput(cut("\n".join(found) or "no files match", ctx.result_tokens, "list"),
                      f"{len(found)} files for {query!r}")


def _search(ctx: ToolContext, args: dict) -> ToolOutput:
    from marie.index.search import SearchError, SearchOptions

    pattern = str(args["pattern"])
    include = tuple(str(g) for g in (args.get("include") or ()))
    limit = max(1, min(int(args.get("max_results") or 100), 2000))
    options = SearchOptions(regex=bool(args.get("regex", False)), case_sensitive=bool(args.get("case_sensitive", False)),
                            include=include, max_results=limit)
    lines: list[str] = []
    budget = ctx.result_tokens * 4
    size = [0]
    files = [0]

    def on_match(found) -> None:
        if not ctx.paths.visible(found.path):
            return
        files[0] += 1
        for m in found.matches:
            if size[0] > budget:
                return
            line = f"{found.path}:{m.line}: {m.text.strip()[:200]}"
            size[0] += len(line) + 1
            lines.append(line)

    try:
        summary = ctx.app.index.search(pattern, options, on_match, ctx.token)
    except SearchError as exc:
        raise ToolError(str(exc)) from None
    more = " (more matches were left out)" if summary.truncated or size[0] > budget else ""
    text = "\n".join(lines) + (f"\n[{summary.matches} matches in {files[0]} files{more}]" if lines else "no matches")
    return ToolOutput(cut(text, ctx.result_tokens, "search"), f"{summary.matches} matches in {files[0]} files{more}")


def tools() -> list[AgentTool]:
    path_arg = lambda a: str(a.get("path") or ".")
    return [
        AgentTool("read_file", "Read a text file of the workspace, optionally only lines start_line..end_line "
                  "(1-based, inclusive). Lines come numbered.",
                  schema({"path": STR, "start_line": INT, "end_line": INT}, ("path",)), "read", _read_file, path_arg),
        AgentTool("list_folder", "List a folder of the workspace (\".\" for the top); folders end with '/'.",
                  schema({"path": STR}), "read", _list_folder, path_arg),
        AgentTool("find_files", "Find files by (fuzzy) name, like quick open.",
                  schema({"query": STR, "limit": INT}, ("query",)), "read", _find_files, lambda a: str(a.get("query", ""))),
        AgentTool("search", "Search file contents with ripgrep (literal text unless regex is true); include "
                  "limits the search to files matching these globs.",
                  schema({"pattern": STR, "regex": {"type": "boolean"}, "case_sensitive": {"type": "boolean"},
                          "include": {"type": "array", "items": STR}, "max_results": INT}, ("pattern",)),
                  "read", _search, lambda a: str(a.get("pattern", ""))),
    ]
