"""Guess a file's indentation (tabs or spaces, and how many spaces) from its text.

Like VS Code's ``editor.detectIndentation``: ``detect(text)`` looks at the first lines of a file
and returns an ``Indentation`` whose fields are ``None`` where the text says nothing (a one-line
file, a file with no indented lines), so the editor keeps its own setting there. The editor uses
it only for files whose ``.editorconfig`` says nothing about indentation. No Qt; any thread.

How it decides (each rule keeps a common kind of noise from voting):
- tabs or spaces: the kind that starts more indented lines wins; a tie decides nothing;
- the width: every line indented *deeper* than the previous non-blank line votes for the
  difference (dedents skip levels, so they are not counted); the most voted of 2, 4, 6, 8, 3, 5, 7
  wins, and 2 wins over 4 when it has at least half of 4's votes (a 2-space file nests by 4
  now and then, a 4-space file almost never moves by 2);
- lines inside triple-quoted strings (docstrings, long literals) do not vote;
- lines inside a ``(``/``[`` group opened on an earlier line are continuation lines (hanging or
  aligned arguments, long literals) and do not vote for the width; a line ending in ``{`` opens a
  block, not a group (``describe("x", function () {`` in JavaScript);
- `` * text`` under ``/**`` (a block comment's one-space alignment) does not vote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Indentation", "detect", "MAX_LINES", "MAX_CHARS"]

# Like VS Code: the first 10,000 lines are plenty and keep opening a big file cheap (about 10 ms
# for the full 512 KiB on this machine).
MAX_LINES = 10_000
MAX_CHARS = 1 << 19
_CANDIDATES = (2, 4, 6, 8, 3, 5, 7)
_LEADING = re.compile(r"[ \t]*")
# A bracket inside a string could leave a "group" open for ever: give up on it after this many lines.
_MAX_GROUP_LINES = 200
_TRIPLE = re.compile(r'"""|\'\'\'')


@dataclass(frozen=True)
class Indentation:
    """What the text shows: ``use_tabs`` (None: no indented lines or a tie) and ``indent_size``
    (spaces per level; None when no width could be told). ``tab_lines``/``space_lines`` count the
    indented lines of each kind, for messages and tests."""

    use_tabs: bool | None = None
    indent_size: int | None = None
    tab_lines: int = 0
    space_lines: int = 0

    @property
    def known(self) -> bool:
        return self.use_tabs is not None or self.indent_size is not None


def _lines(text: str, max_lines: int, max_chars: int):
    """The first ``max_lines`` lines of ``text`` (any line ending), without splitting all of it."""
    head = text[:max_chars]
    lines = head.splitlines()
    if len(head) < len(text) and lines:
        lines.pop()          # the last line may be cut in the middle
    return lines[:max_lines]


def detect(text: str, *, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS) -> Indentation:
    """Guess the indentation of ``text`` (its first ``max_lines`` lines / ``max_chars`` chars)."""
    tab_lines = space_lines = 0
    votes = dict.fromkeys(range(1, 9), 0)
    prev_spaces: int | None = None      # indentation (in spaces) of the previous voting line
    group = 0                           # ( and [ still open in the current continuation run
    group_lines = 0
    in_string = False
    match_leading = _LEADING.match
    for line in _lines(text, max_lines, max_chars):
        quotes = len(_TRIPLE.findall(line)) if ('"""' in line or "'''" in line) else 0
        if in_string:
            if quotes % 2:
                in_string = False
            continue                    # inside a docstring or long literal: its layout is free
        if quotes % 2:
            in_string = True            # the string's own first line still counts
        leading = match_leading(line).group()
        rest = line[len(leading):]
        if not rest:
            continue                    # blank or whitespace-only lines say nothing
        if leading.startswith("\t"):
            tab_lines += 1
        elif leading.startswith(" ") and "\t" not in leading:
            space_lines += 1
        continuation = group > 0
        if continuation or "(" in rest or "[" in rest:
            net = rest.count("(") + rest.count("[") - rest.count(")") - rest.count("]")
        else:
            net = 0
        if continuation:
            group += net
            group_lines += 1
            if group <= 0 or group_lines > _MAX_GROUP_LINES:
                group = 0               # the group closes on this line (or a stray bracket in a string)
        elif net > 0 and not rest.rstrip().endswith("{"):
            group, group_lines = net, 0
        if "\t" in leading:
            prev_spaces = None          # tabs (or a mix) carry no width
            continue
        spaces = len(leading)
        if prev_spaces is not None and not continuation:
            diff = spaces - prev_spaces
            if 0 < diff <= 8 and not (diff == 1 and rest.startswith("*")):
                votes[diff] += 1
        if not continuation:
            prev_spaces = spaces
    if tab_lines == space_lines:
        use_tabs = None
    else:
        use_tabs = tab_lines > space_lines
    size = None
    if use_tabs is not True:
        best = 0
        for candidate in _CANDIDATES:
            if votes[candidate] > best:
                best, size = votes[candidate], candidate
        if size == 4 and votes[2] and votes[2] * 2 >= votes[4]:
            size = 2
    return Indentation(use_tabs, size, tab_lines, space_lines)
