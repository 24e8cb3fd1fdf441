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


def parse(text: str) -> list[Edit]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    edits: list[Edit] = []
    candidate: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line.strip())
        if fence and line.strip() == line.rstrip():
            marker = fence.group(1)
            info = fence.group(2).strip()
            path = candidate
            if path is None and info:
                # ```python path/to/x.py  or  ```path/to/x.py
                for word in reversed(info.split()):
                    word = word.removeprefix("path=").removeprefix("file=")
                    if "." in word or "/" in word:
                        path = clean_path(word)
                        break
            start = i + 1
            i += 1
            body: list[str] = []
            while i < len(lines):
                close = lines[i].strip()
                if close and set(close) == {marker[0]} and len(close) >= len(marker):
                    break
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ParseError(f"line {start}: the fenced block{' for ' + path if path else ''} is not closed "
                                 f"with {marker}")
            if path is None:
                raise ParseError(f"line {start}: a fenced block without a file path; put the path on the line "
                                 "before the opening ```")
            edits.append(WholeFile(path, "".join(b + "\n" for b in body), f"block at line {start}"))
            candidate = None
            i += 1
            continue
        op = parse_op(line, f"line {i + 1}")
        if op is not None:
            edits.append(op)
            candidate = None
        elif line.strip():
            candidate = clean_path(line)
        i += 1
    if not edits:
        raise ParseError("no file found: write the file's path on its own line, then its complete new "
                         "content in a ``` fenced block. " + OPS_HELP)
    return edits


def render(path: str, old: str | None, new: str | None, context: int = 3) -> str:
    if new is None:
        return f"DELETE {path}\n"
    fence = "````" if "```" in new else "```"
    body = new if new.endswith("\n") or not new else new + "\n"
    return f"{path}\n{fence}\n{body}{fence}\n"
