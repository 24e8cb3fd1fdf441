"""Unified diffs of stored bytes for people to read (the checkpoint panel, ``marie checkpoint diff``).

Binary content is summarised, never dumped; text is decoded as UTF-8 with replacement (a diff to
read, not to apply). Any thread.
"""

from __future__ import annotations

import difflib


def readable_lines(data: bytes | None) -> list[str]:
    """The lines of ``data`` as text (one summary line for binary content, none for absent)."""
    if data is None:
        return []
    if b"\0" in data[:8000]:
        return [f"(binary, {len(data)} bytes)\n"]
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def unified_bytes(old: bytes | None, new: bytes | None, old_name: str, new_name: str) -> str:
    """A unified diff of two versions of a file ("" when their text is the same)."""
    return "".join(difflib.unified_diff(readable_lines(old), readable_lines(new), old_name, new_name))
