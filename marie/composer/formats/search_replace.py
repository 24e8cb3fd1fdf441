"""Search/replace blocks (as Aider popularised them), with an optional line hint::

    path/to/file.py
    <<<<<<< SEARCH line 12
    old lines
    =======
    new lines
    >>>>>>> REPLACE

An empty SEARCH part creates the file (or appends to it). Markdown fences around blocks are allowed.
Pure functions, any thread.
"""

from __future__ import annotations

import re

from marie.composer.edits import Edit, Replace
from marie.composer.errors import ParseError
from marie.composer.formats.common import FENCE, OPS_HELP, clean_path, parse_op

NAME = "search_replace"
HEAD = re.compile(r"^\s*<{5,9}\s*SEARCH\b(?P<rest>.*)$", re.IGNORECASE)
DIVIDER = re.compile(r"^\s*={5,9}\s*$")
TAIL = re.compile(r"^\s*>{5,9}\s*REPLACE\b.*$", re.IGNORECASE)
HINT = re.compile(r"(\d+)")


def parse(text: str) -> list[Edit]:
    """Parse every block; raise ParseError (with the answer's line number) on malformed input."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    edits: list[Edit] = []
    candidate: str | None = None
    current: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        head = HEAD.match(line)
        if head:
            start = i + 1
            path = candidate or current
            if not path:
                raise ParseError(f"line {start}: a SEARCH block without a file path; put the file's path "
                                 "on the line before <<<<<<< SEARCH")
            hint_match = HINT.search(head["rest"])
            hint = int(hint_match.group(1)) if hint_match else None
            i += 1
            search: list[str] = []
            while i < len(lines) and not DIVIDER.match(lines[i]):
                if TAIL.match(lines[i]) or HEAD.match(lines[i]):
                    raise ParseError(f"line {i + 1}: the block that starts at line {start} has no ======= "
                                     "line between its SEARCH and REPLACE parts")
                search.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ParseError(f"line {start}: the block for {path} is cut off (no ======= line)")
            i += 1
            replace: list[str] = []
            while i < len(lines) and not TAIL.match(lines[i]):
                if HEAD.match(lines[i]) or DIVIDER.match(lines[i]):
                    raise ParseError(f"line {i + 1}: the block that starts at line {start} is not closed "
                                     "with >>>>>>> REPLACE")
                replace.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ParseError(f"line {start}: the block for {path} is cut off (no >>>>>>> REPLACE line)")
            where = f"block at line {start}"
            edits.append(Replace(path, search, replace, hint, False, where))
            current, candidate = path, None
            i += 1
            continue
        if DIVIDER.match(line) or TAIL.match(line):
            raise ParseError(f"line {i + 1}: {line.strip()!r} outside a <<<<<<< SEARCH block")
        op = parse_op(line, f"line {i + 1}")
        if op is not None:
            edits.append(op)
            candidate = None
        elif line.strip() and not FENCE.match(line.strip()):
            candidate = clean_path(line)
        i += 1
    if not edits:
        raise ParseError("no edit blocks found: write each change as the file path on its own line, then "
                         "<<<<<<< SEARCH, the exact current lines, =======, the new lines, >>>>>>> REPLACE. "
                         + OPS_HELP)
    return edits


def render(path: str, old: str | None, new: str | None, context: int = 3) -> str:
    """The answer a perfect model would give for changing ``old`` into ``new`` (used by the benchmark,
    the prompt examples and the tests)."""
    import difflib

    if new is None:
        return f"DELETE {path}\n"
    if old is None:
        return f"{path}\n<<<<<<< SEARCH\n=======\n{new if new.endswith(chr(10)) or not new else new + chr(10)}>>>>>>> REPLACE\n"
    a, b = old.splitlines(), new.splitlines()
    out = []
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in sm.get_grouped_opcodes(context):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        if i1 == i2:  # pure insertion with no context (empty file): widen
            i1, j1 = max(0, i1 - 1), max(0, j1 - 1)
        out.append(f"{path}\n<<<<<<< SEARCH line {i1 + 1}\n" + "".join(l + "\n" for l in a[i1:i2]) + "=======\n"
                   + "".join(l + "\n" for l in b[j1:j2]) + ">>>>>>> REPLACE\n")
    return "\n".join(out)
