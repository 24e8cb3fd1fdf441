"""Unified diffs as models write them: ``---``/``+++`` headers, ``@@`` hunks whose line numbers are
only hints (``@@ ... @@`` is accepted), blank context lines without their leading space, git's
``rename from``/``rename to`` and ``/dev/null`` for created and deleted files. Pure, any thread.
"""

from __future__ import annotations

import re

from marie.composer.edits import Delete, Edit, Rename, Replace, WholeFile
from marie.composer.errors import ParseError
from marie.composer.formats.common import FENCE, OPS_HELP, parse_op

NAME = "udiff"
HUNK = re.compile(r"^@@\s*(?:-(?P<old>\d+)(?:,\d+)?)?.*?@@?.*$")
DEV_NULL = "/dev/null"


def _header_path(text: str) -> str:
    text = text.strip().split("\t")[0].strip()
    if text == DEV_NULL:
        return DEV_NULL
    text = text.strip('"').strip("`")
    if text.startswith(("a/", "b/")) and len(text) > 2:
        text = text[2:]
    return text


def parse(text: str) -> list[Edit]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    edits: list[Edit] = []
    old_path = new_path = None
    rename_from = None
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            old_path, new_path = _header_path(line[4:]), _header_path(lines[i + 1][4:])
            if not old_path or not new_path:
                raise ParseError(f"line {i + 1}: a ---/+++ header without a file path")
            if rename_from and old_path != DEV_NULL and new_path != DEV_NULL and old_path != new_path:
                rename_from = None
            if old_path != DEV_NULL and new_path != DEV_NULL and old_path != new_path:
                edits.append(Rename(old_path, new_path, f"line {i + 1}"))
            i += 2
            if new_path == DEV_NULL:
                edits.append(Delete(old_path, f"line {i - 1}"))
                # skip the hunk that lists the removed lines
                while i < n and not lines[i].startswith(("--- ", "diff ", "```")):
                    i += 1
                old_path = new_path = None
                continue
            if i < n and not HUNK.match(lines[i]) and lines[i].strip():
                # a hunk without its @@ line: take the lines that follow as one
                i, hunk = _read_hunk(lines, i)
                edits.append(_make(old_path, new_path, hunk, None, i))
            continue
        if line.startswith("rename from "):
            rename_from = line[len("rename from "):].strip()
            i += 1
            continue
        if line.startswith("rename to ") and rename_from:
            edits.append(Rename(rename_from, line[len("rename to "):].strip(), f"line {i + 1}"))
            rename_from = None
            i += 1
            continue
        m = HUNK.match(line)
        if m:
            if new_path is None:
                raise ParseError(f"line {i + 1}: a @@ hunk before any ---/+++ file header")
            hint = int(m["old"]) if m["old"] else None
            start = i + 1
            i, hunk = _read_hunk(lines, i + 1)
            edits.append(_make(old_path, new_path, hunk, hint, start))
            continue
        op = parse_op(line, f"line {i + 1}")
        if op is not None:
            edits.append(op)
        i += 1
    if not edits:
        raise ParseError("no diff found: write a unified diff with `--- path` and `+++ path` lines and "
                         "`@@ ... @@` hunks whose lines start with ' ', '-' or '+'. " + OPS_HELP)
    return _merge_creates(edits)


def _read_hunk(lines: list[str], i: int) -> tuple[int, list[tuple[str, str]]]:
    hunk: list[tuple[str, str]] = []
    n = len(lines)
    while i < n:
        line = lines[i]
        if HUNK.match(line) or line.startswith(("diff ", "```")):
            break
        if line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            break
        if line.startswith("\\"):
            i += 1
            continue
        if line[:1] in ("+", "-", " "):
            hunk.append((line[0], line[1:]))
        elif not line.strip():
            hunk.append((" ", ""))
        else:
            hunk.append((" ", line))  # a context line that lost its leading space
        i += 1
    while hunk and hunk[-1] == (" ", ""):
        hunk.pop()  # blank lines after the last hunk are spacing, not context
    return i, hunk


def _make(old_path: str | None, new_path: str | None, hunk: list[tuple[str, str]], hint: int | None, where: int) -> Edit:
    if not hunk or all(op == " " for op, _ in hunk):
        raise ParseError(f"line {where}: a hunk for {new_path} with no added or removed lines")
    if old_path == DEV_NULL:
        return WholeFile(new_path or "", "".join(t + "\n" for op, t in hunk if op != "-"), f"line {where}")
    search = [t for op, t in hunk if op in " -"]
    replace = [t for op, t in hunk if op in " +"]
    return Replace(new_path or "", search, replace, hint, True, f"hunk at line {where}", list(hunk))


def _merge_creates(edits: list[Edit]) -> list[Edit]:
    """Several /dev/null hunks for one new file are one created file."""
    out: list[Edit] = []
    for edit in edits:
        if isinstance(edit, WholeFile) and out and isinstance(out[-1], WholeFile) and out[-1].path == edit.path:
            out[-1] = WholeFile(edit.path, out[-1].content + edit.content, out[-1].where)
        else:
            out.append(edit)
    return out


def render(path: str, old: str | None, new: str | None, context: int = 3) -> str:
    import difflib

    a = [] if old is None else old.splitlines(keepends=True)
    b = [] if new is None else new.splitlines(keepends=True)
    a = [l if l.endswith("\n") else l + "\n" for l in a]
    b = [l if l.endswith("\n") else l + "\n" for l in b]
    text = "".join(difflib.unified_diff(a, b, DEV_NULL if old is None else f"a/{path}",
                                        DEV_NULL if new is None else f"b/{path}", n=context))
    return text
