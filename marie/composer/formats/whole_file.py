"""Whole files: the path on its own line, then the complete new content in a fenced block::

    path/to/file.py
    ```python
    ...every line of the file...
    ```

The easiest format for small local models. Lines that differ from the file only in trailing
whitespace keep the file's exact text, and the file keeps its line endings. Pure, any thread.
"""

from __future__ import annotations

from marie.composer.edits import Edit, WholeFile
from marie.composer.errors import ParseError
from marie.composer.formats.common import FENCE, OPS_HELP, clean_path, parse_op

NAME = "whole"


# Markup files, whose content naturally holds fenced blocks of its own.
MARKUP = (".md", ".markdown", ".mdx", ".rst", ".txt", ".adoc")


def parse(text: str) -> list[Edit]:
    """Parse whole-file blocks. A block closes only at a line that is exactly its opening fence run at
    the start of a line (an indented ``` in a docstring, or a reST line of backticks, is content). When
    a file's content has such a line itself, the first reading goes wrong (a path that is none, a
    file named twice); then the reading that closes each block at its last such line before the next
    file is taken, if it names each file once."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    try:
        edits = _parse(lines, greedy=False)
    except ParseError as exc:
        greedy = _markup_reading(lines)
        if greedy is None:
            raise exc from None
        return greedy
    if _duplicates(edits):
        return _markup_reading(lines) or edits
    return edits


def _markup_reading(lines: list[str]) -> list[Edit] | None:
    """The reading that closes each block at its last fence line before the next file, taken only when
    it names each file once and every block it widens is a markup file (Markdown, reST, text), whose
    content naturally holds fenced blocks of its own. Elsewhere a widened block would swallow the
    model's chatter, so the first reading's error stands."""
    try:
        greedy = _parse(lines, greedy=True, require_distinct=True)
        strict_like = _parse(lines, greedy=False, partial=True)
    except ParseError:
        return None
    narrow = {e.path: e.content for e in strict_like if isinstance(e, WholeFile)}
    for edit in greedy:
        if isinstance(edit, WholeFile) and edit.path in narrow and narrow[edit.path] != edit.content:
            if not edit.path.lower().endswith(MARKUP):
                return None
    return greedy


def _duplicates(edits: list[Edit]) -> bool:
    paths = [e.path for e in edits if isinstance(e, WholeFile)]
    return len(paths) != len(set(paths))


def _path_like(path: str | None) -> bool:
    return bool(path) and ("/" in path or "." in path.rsplit("/", 1)[-1])


def _opening(line: str) -> tuple[str, str] | None:
    """(fence run, info) of an opening fence line at column 0, else None."""
    fence = FENCE.match(line.rstrip())
    if fence and line[:1] in "`~":
        return fence.group(1), fence.group(2).strip()
    return None


def _parse(lines: list[str], greedy: bool, require_distinct: bool = False, partial: bool = False
           ) -> list[Edit]:
    """One reading of the answer; ``partial`` returns the blocks read before an error instead of raising."""
    edits: list[Edit] = []
    try:
        _read(lines, greedy, edits)
    except ParseError:
        if partial:
            return edits
        raise
    if not edits:
        raise ParseError("no file found: write the file's path on its own line, then its complete new "
                         "content in a ``` fenced block. " + OPS_HELP)
    if require_distinct and _duplicates(edits):
        raise ParseError("a file is named twice")
    return edits


def _read(lines: list[str], greedy: bool, edits: list[Edit]) -> None:
    candidate: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _opening(line)
        if opening is not None:
            marker, info = opening
            path = candidate
            if path is None and info:
                # ```python path/to/x.py  or  ```path/to/x.py
                for word in reversed(info.split()):
                    word = word.removeprefix("path=").removeprefix("file=")
                    if "." in word or "/" in word:
                        path = clean_path(word)
                        break
            start = i + 1
            closes = [k for k in range(i + 1, len(lines)) if lines[k].rstrip() == marker]
            if not closes:
                raise ParseError(f"line {start}: the fenced block{' for ' + path if path else ''} is not closed "
                                 f"with {marker}")
            close = closes[0]
            if greedy:
                nxt = next((j for j in range(closes[0] + 1, len(lines) - 1) if _starts_block(lines, j)), len(lines))
                close = max(k for k in closes if k < nxt) if any(k < nxt for k in closes) else closes[0]
            if path is None:
                raise ParseError(f"line {start}: a fenced block without a file path; put the path on the line "
                                 "before the opening ```")
            edits.append(WholeFile(path, "".join(b + "\n" for b in lines[i + 1:close]), f"block at line {start}"))
            candidate = None
            i = close + 1
            continue
        op = parse_op(line, f"line {i + 1}")
        if op is not None:
            edits.append(op)
            candidate = None
        elif line.strip():
            candidate = clean_path(line)
        i += 1


def _starts_block(lines: list[str], j: int) -> bool:
    """Whether a new file's block starts at ``lines[j]``: a path line, then an opening fence."""
    return _path_like(clean_path(lines[j])) and _opening(lines[j + 1]) is not None


def render(path: str, old: str | None, new: str | None, context: int = 3) -> str:
    if new is None:
        return f"DELETE {path}\n"
    fence = "````" if "```" in new else "```"
    body = new if new.endswith("\n") or not new else new + "\n"
    return f"{path}\n{fence}\n{body}{fence}\n"
