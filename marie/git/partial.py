"""Build the content of a file with only some changed lines of a diff applied (line staging).

One function serves staging, unstaging and discarding:
- stage lines:   index   := apply(index content,  diff index→worktree, selected)
- unstage lines: index   := apply(HEAD content,   diff HEAD→index,     all changes − selected)
- discard lines: worktree := apply(index content, diff index→worktree, all changes − selected)
Pure functions on bytes; any thread.
"""

from __future__ import annotations

from typing import Iterable

from marie.git.model import GitError, Hunk


def split_lines(data: bytes) -> list[bytes]:
    """Split on "\\n" only (as git does), keeping the line ends; a last line may lack one."""
    if not data:
        return []
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _append(out: list[bytes], piece: bytes) -> None:
    # A kept line that had no line end (end of the old file) gets one when more lines follow it.
    if out and not out[-1].endswith(b"\n"):
        out[-1] += b"\n"
    out.append(piece)


def apply_selected(old: bytes, hunks: Iterable[Hunk], selected: set[tuple[str, int]]) -> bytes:
    """``old`` with the changes named in ``selected`` (DiffLine.key values) applied, others not.

    Raises GitError when the hunks do not fit ``old`` (the file changed since the diff was made).
    """
    old_lines = split_lines(old)
    out: list[bytes] = []
    pos = 0
    for hunk in hunks:
        start = hunk.old_start - 1 if hunk.old_lines else hunk.old_start
        if start < pos or start > len(old_lines):
            raise GitError("the diff no longer matches the file; refresh and try again")
        for kept in old_lines[pos:start]:
            _append(out, kept)
        cursor = start
        for line in hunk.lines:
            if line.kind == " ":
                _check(old_lines, cursor, line.raw)
                _append(out, old_lines[cursor])
                cursor += 1
            elif line.kind == "-":
                _check(old_lines, cursor, line.raw)
                if line.key not in selected:
                    _append(out, old_lines[cursor])
                cursor += 1
            elif line.kind == "+" and line.key in selected:
                _append(out, line.raw)
        pos = cursor
    for rest in old_lines[pos:]:
        _append(out, rest)
    return b"".join(out)


def _check(old_lines: list[bytes], index: int, raw: bytes) -> None:
    if index >= len(old_lines) or old_lines[index].rstrip(b"\r\n") != raw.rstrip(b"\r\n"):
        raise GitError("the diff no longer matches the file; refresh and try again")
