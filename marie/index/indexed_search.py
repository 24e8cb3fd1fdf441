"""Indexed project search: which files rg must read for a query, from the text index.

``candidate_files(service, pattern, options)`` returns the workspace paths that may match, or
None when rg has to walk the tree itself: no text index (or not built yet), a query without a
required literal of three characters (``trigram_query``), include/exclude globs (rg does not apply
``--glob`` to paths it is given explicitly, so the index would have to re-implement its override
rules), or so many candidates that walking costs less than listing them. ``path_chunks`` cuts the
list into command lines that stay far below the system's argument limit. Worker thread.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from marie.index.trigram_query import required_trigrams

# Path text per rg command line: Linux allows 2 MiB of arguments in all (ARG_MAX with the default
# 8 MiB stack), Windows 32K characters for the whole command line.
CHUNK_BYTES = 24 * 1024 if os.name == "nt" else 512 * 1024
FIRST_CHUNK = 32
WALK_ABOVE = 0.6             # candidates above this share of all files: a plain walk is cheaper
WALK_MIN_FILES = 5000        # (only in trees this big: in a small one either way is instant)


def candidate_files(service: Any, pattern: str, options: Any) -> list[str] | None:
    text_index = getattr(service, "text_index_if_ready", None)
    text_index = text_index() if callable(text_index) else None
    if text_index is None or options.include or options.exclude:
        return None
    groups = required_trigrams(pattern, options.regex, options.case_sensitive)
    if groups is None:
        return None
    found = text_index.candidates(groups)
    if found is None:
        return None
    total = len(service.snapshot().entries)   # not files(): a new snapshot would sort 1M paths here
    if total > WALK_MIN_FILES and len(found) > WALK_ABOVE * total:
        return None
    return found


def path_chunks(paths: list[str]) -> Iterator[list[str]]:
    """``./path`` arguments (so rg prints paths as in a walk, and none reads as an option), a
    command line's worth at a time. The first chunks are small and grow fourfold: rg reads its
    whole argument list before it prints, so 8,000 paths delayed the first result by ~300 ms
    (100k-file tree) while 32 print at once."""
    chunk: list[str] = []
    size = 0
    count_cap = FIRST_CHUNK
    for path in paths:
        arg = "./" + path
        chunk.append(arg)
        size += len(arg) + 1
        if size >= CHUNK_BYTES or len(chunk) >= count_cap:
            yield chunk
            chunk, size = [], 0
            count_cap *= 4
    if chunk:
        yield chunk
