"""Pieces shared by the edit-format parsers: cleaning path lines and file operation lines."""

from __future__ import annotations

import re

from marie.composer.edits import Delete, Edit, Rename

FENCE = re.compile(r"^(`{3,}|~{3,})([^`]*)$")
_OP_DELETE = re.compile(r"^\s*(?:DELETE|REMOVE)(?:\s+FILE)?\s*:?\s+(?P<path>\S.*?)\s*$")
_OP_RENAME = re.compile(r"^\s*(?:RENAME|MOVE)(?:\s+FILE)?\s*:?\s+(?P<src>\S+?)\s*(?:->|=>|→|\s+to\s+)\s*(?P<dst>\S+)\s*$")


def clean_path(line: str) -> str | None:
    """The file path on a line like ``path/to/x.py``, ``**x.py**``, ``File: x.py`` or ``# x.py:``;
    None when the line does not look like a lone path."""
    text = line.strip()
    for prefix in ("File:", "file:", "Path:", "path:", "Filename:", "filename:"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    text = text.lstrip("#").strip().strip("*").strip("`").strip("'\"").strip()
    text = text.rstrip(":").strip()
    if not text or " " in text or "\t" in text or len(text) > 300:
        return None
    if text.startswith(("<<<", "===", ">>>", "@@", "---", "+++")):
        return None
    if not re.search(r"[A-Za-z0-9_]", text):
        return None
    return text


def parse_op(line: str, where: str) -> Edit | None:
    """A DELETE/RENAME operation line, or None."""
    m = _OP_RENAME.match(line)
    if m:
        src, dst = clean_path(m["src"]), clean_path(m["dst"])
        if src and dst:
            return Rename(src, dst, where)
    m = _OP_DELETE.match(line)
    if m:
        path = clean_path(m["path"])
        if path:
            return Delete(path, where)
    return None


OPS_HELP = ("To delete a file write a line `DELETE path/to/file`; to rename one write "
            "`RENAME old/path -> new/path`.")
