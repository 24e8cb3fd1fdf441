"""What of a model's answer becomes the ghost text.

Rules (the issue's): stop at a blank line; stop when a block is balanced (a line that opens nothing
ends the suggestion; a block that was opened ends where its indentation or brackets close); never
repeat the text that already follows the caret; never suggest only whitespace. Pure functions.
"""

from __future__ import annotations

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")": "(", "]": "[", "}": "{"}
# What may follow the caret on its line for a completion to make sense there (closers, quotes,
# separators): anything else means the caret is in the middle of code and nothing is suggested.
_TAIL_OK = set(")]}'\"`;:, \t")


def tail_allows_completion(rest_of_line: str) -> bool:
    """True when the text after the caret on its line is empty or only closers/quotes/separators."""
    return all(ch in _TAIL_OK for ch in rest_of_line)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _depth_change(line: str) -> tuple[int, int]:
    """(net bracket depth change, lowest depth reached) over ``line``, skipping quoted strings."""
    depth = low = 0
    quote = ""
    escaped = False
    for ch in line:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "#" and line.lstrip().startswith("#"):
            break
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            low = min(low, depth)
    return depth, low


def _opens_block(line: str, depth: int) -> bool:
    return depth > 0 or line.rstrip().endswith((":", "{", "(", "[", "\\", "=>"))


def trim(answer: str, line_before: str, rest_of_line: str, following: str = "", max_lines: int = 8) -> str:
    """The part of ``answer`` to show at a caret whose line reads ``line_before`` + caret +
    ``rest_of_line``; ``following`` is the text of the lines after the caret's line. Returns "" when
    nothing worth showing is left."""
    text = answer.replace("\r\n", "\n").replace("\r", "\n")
    blank = text.find("\n\n")
    if blank >= 0:
        text = text[:blank]   # a blank line ends it: the model moved on to something else
    lines = text.split("\n")[:max(1, max_lines)]
    base_indent = _indent(line_before) if line_before.strip() else len(line_before)
    kept = [lines[0].rstrip()]
    depth = _depth_change(line_before + lines[0])[0]
    if len(lines) > 1 and _opens_block(line_before + lines[0], depth):
        for line in lines[1:]:
            if not line.strip():
                break
            if depth <= 0 and _indent(line) <= base_indent:
                break   # dedented back to the caret's level: the block (Python style) has ended
            kept.append(line.rstrip())
            depth += _depth_change(line)[0]
            if depth <= 0 and _indent(line) <= base_indent:
                break   # the closing bracket line at the caret's level: the block is balanced
    out = "\n".join(kept).rstrip()
    out = _drop_repeat_of_tail(out, rest_of_line)
    out = _drop_repeat_of_following(out, following, line_before)
    return out if out.strip() else ""


def _drop_repeat_of_tail(text: str, rest_of_line: str) -> str:
    """Never repeat what follows the caret: a first line ending with the rest of the caret's line
    (``)`` or ``):``) loses that ending; a multi-line answer keeps its first line only."""
    tail = rest_of_line.strip()
    if not tail:
        return text
    first = text.partition("\n")[0]
    stripped = first.rstrip()
    if stripped.endswith(tail):
        first = stripped[: len(stripped) - len(tail)]
    return first   # there is code after the caret on its line: one line only


def _drop_repeat_of_following(text: str, following: str, line_before: str) -> str:
    """Cut the answer where it starts repeating the lines after the caret's line."""
    nxt = next((line.strip() for line in following.split("\n") if line.strip()), "")
    if not nxt:
        return text
    lines = text.split("\n")
    if (line_before + lines[0]).strip() == nxt:
        return ""   # the caret's line would become a copy of the next one
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == nxt:
            return "\n".join(lines[:i]).rstrip()
    return text


def is_final(raw: str, line_before: str, rest_of_line: str, following: str = "", max_lines: int = 8) -> bool:
    """True when more text cannot change what ``trim`` shows (generation may stop early): a blank
    line was seen, or the line after the last kept one is complete (and was not kept)."""
    text = raw.replace("\r\n", "\n")
    if "\n\n" in text:
        return True
    newlines = text.count("\n")
    if not newlines:
        return False
    if rest_of_line.strip():
        return True     # one line only there
    first = text.split("\n", 1)[0]
    if not _opens_block(line_before + first, _depth_change(line_before + first)[0]):
        return True     # a complete statement on the caret's line
    kept = trim(text, line_before, rest_of_line, following, max_lines)
    return newlines >= kept.count("\n") + 2 or kept.count("\n") + 1 >= max_lines
