"""Links in terminal output: ``path:line[:col]`` (compilers, grep -n, pytest) and Python's
``File "path", line N``. Found on one row's text; a match counts only when the file exists
(relative paths are tried against the shell's directory, then the workspace root). Any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PATH_LINE = re.compile(r"(?P<path>(?:~|\.{1,2})?[\w./+@-]*[\w+-]):(?P<line>\d+)(?::(?P<col>\d+))?")
_PYTHON = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


@dataclass(frozen=True)
class Link:
    start: int           # column span in the row's text
    end: int
    path: str            # as printed
    line: int
    column: int | None = None


def find_links(text: str) -> list[Link]:
    """Candidate links in one row of text, left to right (not yet checked against the disk)."""
    links = []
    for match in _PYTHON.finditer(text):
        links.append(Link(match.start(), match.end(), match["path"], int(match["line"])))
    for match in _PATH_LINE.finditer(text):
        path = match["path"]
        if not re.search(r"[A-Za-z]", path) or not ("." in path or "/" in path):
            continue             # "12:30:45" or "Error:3" are not links
        if any(link.start <= match.start() < link.end for link in links):
            continue
        column = int(match["col"]) if match["col"] else None
        links.append(Link(match.start(), match.end(), path, int(match["line"]), column))
    return sorted(links, key=lambda link: link.start)


def link_at(text: str, column: int) -> Link | None:
    return next((link for link in find_links(text) if link.start <= column < link.end), None)


def resolve(link: Link, *folders: Path) -> Path | None:
    """The existing file ``link`` names, tried against ``folders`` in order (None if none)."""
    raw = Path(link.path).expanduser()
    candidates = [raw] if raw.is_absolute() else [folder / raw for folder in folders]
    for candidate in candidates:
        try:
            if candidate.is_file():
                return candidate.resolve()
        except OSError:
            continue
    return None
