"""Which paths a model's answer may name, beyond the workspace guard: nothing under ``.marie/`` (the
project's MarieIDE rules and settings, which go into every later prompt, so one answer must never be
able to plant lasting instructions there), and no path that only makes sense to a shell or another
OS (``~``, ``$VAR``, percent-encoding, drive colons, backslashes), which would otherwise be written
as odd literal names. Pure, any thread.

The shared guard (``resolve_inside``) refuses what no writer may touch; this is the composer's own,
stricter rule for what a model may name.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

OWNED = ".marie"
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_VARIABLE = re.compile(r"\$(\w+|\{)")


def _parts(path: str) -> list[str]:
    # Windows would read ".marie." or ".marie " as ".marie": compare without trailing dots and spaces.
    return [p.rstrip(". ") or p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]


def refusal(path: str) -> str | None:
    """Why a model's answer may not name ``path`` (a sentence), or None when it may."""
    decoded = unquote(path)
    for text in {path, decoded}:
        parts = _parts(text)
        if parts and parts[0].lower() == OWNED:
            return (f"refused: {path}: files under .marie/ belong to MarieIDE (project rules and settings); "
                    "an answer may not create, change, rename or delete them")
    if path.startswith("~"):
        return f"refused: {path}: '~' (a home folder) is not a workspace path; write the path relative to the workspace"
    if _VARIABLE.search(path):
        return f"refused: {path}: shell variables ($NAME) are not expanded; write the path relative to the workspace"
    if _PERCENT.search(path):
        return f"refused: {path}: percent-encoded characters are not decoded in paths; write the plain name"
    if ":" in path:
        return f"refused: {path}: ':' is not allowed in a path (a drive letter or a stream name on Windows)"
    if "\\" in path:
        return f"refused: {path}: use '/' between folders, not backslashes"
    return None
