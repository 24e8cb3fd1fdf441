"""Errors raised by the composer; every message is written for the user (and for the model on retry)."""

from __future__ import annotations


class ComposerError(Exception):
    """Base class: something the composer could not do; ``str(exc)`` explains what and why."""


class ParseError(ComposerError):
    """The model's answer is not well-formed in the expected edit format."""


class EditError(ComposerError):
    """An edit could not be located in (or applied to) its file."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class NoMatch(EditError):
    """The text to replace was not found, even approximately."""


class AmbiguousMatch(EditError):
    """The text to replace occurs at several equally good places; we never guess."""


class ConflictError(ComposerError):
    """The file changed since the proposal and the three-way merge has conflicts."""

    def __init__(self, message: str, conflicts: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.conflicts = conflicts or {}
