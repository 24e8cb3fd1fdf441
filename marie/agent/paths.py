"""What agent tools may read and write: the shared path guard plus the agent's own refusals.

Reads: inside the workspace, not kept from the AI (``.marieignore`` and its defaults), not under
``.git/``. Writes (edits): the same, and never ``.marie/`` (``.marie/rules.md`` goes into every
prompt: a write there would plant lasting instructions) nor MarieIDE's settings and policy files.
Before the shared guard runs, paths a model writes when it means something else are refused:
a leading ``~`` or ``$``, percent-encoded dot segments, ``:`` (an NTFS stream), a backslash, or a
control character. Pure functions over the disk's symlinks; any thread.
"""

from __future__ import annotations

import re
from pathlib import Path

from marie.workspace.ai_ignore import AiIgnore
from marie.workspace.guard import PathRefused, resolve_inside

__all__ = ["PathRefused", "AgentPaths"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENCODED_DOT = re.compile(r"%2e", re.IGNORECASE)


def precheck(text: str) -> None:
    """Refuse the path shapes that mean something outside the workspace or break elsewhere."""
    if not isinstance(text, str) or not text.strip():
        raise PathRefused("empty path")
    if _CONTROL.search(text):
        raise PathRefused(f"{text!r}: contains a control character")
    if text.startswith(("~", "$")) or any(p.startswith(("~", "$")) for p in text.split("/")):
        raise PathRefused(f"{text}: '~' and '$' are not expanded; give a path relative to the workspace")
    if _ENCODED_DOT.search(text):
        raise PathRefused(f"{text}: percent-encoded dots are not allowed")
    if "\\" in text:
        raise PathRefused(f"{text}: use '/' between folders, not a backslash")
    if ":" in text:
        raise PathRefused(f"{text}: ':' is not allowed in a path (a drive or an NTFS stream)")


class AgentPaths:
    """The checks for one workspace; ``ignore`` is re-read by ``refresh`` (edits to .marieignore)."""

    def __init__(self, root: Path, extra_ignore: tuple[str, ...] | list[str] = ()) -> None:
        self.root = Path(root)
        self.extra = tuple(extra_ignore)
        self.ignore = AiIgnore(self.root, self.extra)

    def refresh(self) -> None:
        self.ignore = AiIgnore(self.root, self.extra)

    def normalise(self, rel: str) -> str:
        precheck(rel)
        if rel.startswith("/"):
            raise PathRefused(f"{rel}: absolute paths are not allowed; use a path relative to the workspace")
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        return "/".join(parts)

    def readable(self, rel: str, *, folder: bool = False) -> tuple[str, Path]:
        """(normalised rel, absolute path) for a read, or ``PathRefused``. ``folder``: "." allowed."""
        if folder and rel.strip() in ("", ".", "./"):
            return "", self.root
        norm = self.normalise(rel)
        path = resolve_inside(self.root, norm, allow_protected=True)
        if self.ignore.is_ignored(norm + ("/" if folder else "")) or self.ignore.is_ignored(norm):
            raise PathRefused(f"{norm}: this file is kept from the AI (.marieignore)")
        return norm, path

    def writable(self, rel: str) -> tuple[str, Path]:
        """(normalised rel, absolute path) for an edit, or ``PathRefused``."""
        norm = self.normalise(rel)
        if norm.split("/")[0].lower() == ".marie":
            raise PathRefused(f"{norm}: files under .marie/ (rules, settings) are never changed by the agent")
        path = resolve_inside(self.root, norm)
        if self.ignore.is_ignored(norm):
            raise PathRefused(f"{norm}: this file is kept from the AI (.marieignore)")
        return norm, path

    def visible(self, rel: str) -> bool:
        """Whether a listed/found path may be shown to the model."""
        top = rel.split("/")[0].lower()
        return top != ".git" and not self.ignore.is_ignored(rel)
