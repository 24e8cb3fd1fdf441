"""Search in a terminal's scrollback and screen: plain text (case-insensitive unless asked) or a
regular expression, row by row. Takes a snapshot of the rows under the model's lock and scans it
without the lock, so run it on a worker for a full 10,000-row scrollback. Any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from marie.terminal.screen import ScreenModel, line_text


@dataclass(frozen=True)
class Match:
    row_id: int          # absolute row id (see ScreenModel)
    start: int           # column span
    end: int


def search(model: ScreenModel, query: str, case_sensitive: bool = False, regex: bool = False,
           limit: int = 10_000) -> list[Match]:
    """Every match, oldest row first. Raises ValueError for a bad regular expression."""
    if not query:
        return []
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        pattern = re.compile(query if regex else re.escape(query), flags)
    except re.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from exc
    first, rows, columns = model.lines_snapshot()
    matches: list[Match] = []
    for offset, row in enumerate(rows):
        text = line_text(row, columns)
        if not text:
            continue
        for found in pattern.finditer(text):
            if found.end() > found.start():
                matches.append(Match(first + offset, found.start(), found.end()))
                if len(matches) >= limit:
                    return matches
    return matches
