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
# Any line starting with "@@" is a hunk header: "@@ -3,4 +3,5 @@", "@@ ... @@", or a bare "@@".
HUNK = re.compile(r"^@@(?!@)(?P<rest>.*)$")
# The line numbers and counts of a well-formed header ("-3,4 +3,5"; a count left out means 1).
COUNTS = re.compile(r"^\s*-(?P<old>\d+)(?:,(?P<old_n>\d+))?\s+\+(?P<new>\d+)(?:,(?P<new_n>\d+))?\s*@@")
LOOSE_OLD = re.compile(r"^\s*-(?P<old>\d+)")
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
                # skip the hunk that lists the removed lines (up to the next header or operation line)
                while i < n and (HUNK.match(lines[i]) or not lines[i].strip() or lines[i].startswith("\\")
                                 or (lines[i].startswith("-") and not (lines[i].startswith("--- ") and i + 1 < n
                                                                       and lines[i + 1].startswith("+++ ")))):
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
            counts = _counts(m["rest"])
            loose = LOOSE_OLD.match(m["rest"])
            hint = counts[0] if counts else (int(loose["old"]) if loose else None)
            start = i + 1
            i, hunk = _read_hunk(lines, i + 1, counts)
            _check_counts(hunk, counts, new_path, start)
            edits.append(_make(old_path, new_path, hunk, hint, start, counts))
            continue
        op = parse_op(line, f"line {i + 1}")
        if op is not None:
            edits.append(op)
        i += 1
    if not edits:
        raise ParseError("no diff found: write a unified diff with `--- path` and `+++ path` lines and "
                         "`@@ ... @@` hunks whose lines start with ' ', '-' or '+'. " + OPS_HELP)
    return _merge_creates(edits)


def _counts(rest: str) -> tuple[int, int, int, int] | None:
    """(old start, old count, new start, new count) of a header's ``-a,b +c,d`` part, or None."""
    m = COUNTS.match(rest)
    if not m:
        return None
    return (int(m["old"]), int(m["old_n"]) if m["old_n"] is not None else 1,
            int(m["new"]), int(m["new_n"]) if m["new_n"] is not None else 1)


def _read_hunk(lines: list[str], i: int, counts: tuple[int, int, int, int] | None = None
               ) -> tuple[int, list[tuple[str, str]]]:
    """The hunk's (op, text) lines from ``lines[i]`` on. With the header's counts, the hunk ends once
    they are reached, unless the next line is plainly one more hunk line (models miscount); without
    them it ends at the next header, fence or file operation line."""
    hunk: list[tuple[str, str]] = []
    n = len(lines)
    old_seen = new_seen = 0
    while i < n:
        line = lines[i]
        if HUNK.match(line) or line.startswith(("diff ", "```")):
            break
        if line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            break
        if line.startswith("\\"):
            i += 1
            continue
        if counts is not None and old_seen >= counts[1] and new_seen >= counts[3] and line[:1] not in ("+", "-"):
            break  # the announced lines are all there; what follows is not this hunk's
        if parse_op(line, "") is not None and line[:1] not in ("+", "-", " "):
            break  # "DELETE path" / "RENAME a -> b" after a hunk is an operation, not a context line
        if line[:1] in ("+", "-", " "):
            hunk.append((line[0], line[1:]))
        elif not line.strip():
            hunk.append((" ", ""))
        else:
            hunk.append((" ", line))  # a context line that lost its leading space
        op = hunk[-1][0]
        old_seen += op in " -"
        new_seen += op in " +"
        i += 1
    while hunk and hunk[-1] == (" ", "") and not _needed_blank(hunk, counts):
        hunk.pop()  # blank lines after the last hunk are spacing, not context
    return i, hunk


def _needed_blank(hunk: list[tuple[str, str]], counts: tuple[int, int, int, int] | None) -> bool:
    """Whether the header's counts say the hunk's trailing blank line is a context line."""
    if counts is None:
        return False
    old = sum(1 for op, _ in hunk if op in " -")
    new = sum(1 for op, _ in hunk if op in " +")
    return old <= counts[1] and new <= counts[3]


def _check_counts(hunk: list[tuple[str, str]], counts: tuple[int, int, int, int] | None, path: str | None,
                  where: int) -> None:
    """A hunk with fewer new lines than its header announces, beyond the context lines it left out,
    was cut off (an answer stopped by the token limit): applying what is there would delete the lines
    it never got to add back."""
    if counts is None:
        return
    old = sum(1 for op, _ in hunk if op in " -")
    new = sum(1 for op, _ in hunk if op in " +")
    # Context lines left out lower both counts alike (a model's miscount: matching copes with it);
    # more missing on the new side means added lines are missing: the hunk was cut off.
    if new < counts[3] and counts[3] - new > max(0, counts[1] - old):
        raise ParseError(f"line {where}: the hunk for {path} is cut off or miscounted: its @@ line announces "
                         f"{counts[1]} old and {counts[3]} new lines, but it has {old} and {new}; write the "
                         "whole hunk")


def _make(old_path: str | None, new_path: str | None, hunk: list[tuple[str, str]], hint: int | None, where: int,
          counts: tuple[int, int, int, int] | None = None) -> Edit:
    if not hunk or all(op == " " for op, _ in hunk):
        raise ParseError(f"line {where}: a hunk for {new_path} with no added or removed lines")
    if old_path == DEV_NULL:
        return WholeFile(new_path or "", "".join(t + "\n" for op, t in hunk if op != "-"), f"line {where}")
    search = [t for op, t in hunk if op in " -"]
    replace = [t for op, t in hunk if op in " +"]
    return Replace(new_path or "", search, replace, hint, True, f"hunk at line {where}", list(hunk), counts)


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
