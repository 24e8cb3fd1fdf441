"""The events that travel on ``app.events``: frozen dataclasses, subscribed by class.

Publish with ``app.events.publish(IndexChanged(snapshot, changes))``; subscribe with
``app.events.on(IndexChanged, handler)``: the handler gets the event object, on the thread the bus's
dispatcher delivers to (the GUI thread in the window, inline in tests).

This module is the catalogue of the events more than one package cares about. A package may keep an
event only it publishes and only its own views read in its own module (subclass ``Event``).
Payload types from other packages are imported for annotations only (``TYPE_CHECKING``): importing
this module loads nothing outside ``marie.core``, so every package can depend on it without a cycle
(``tests/core/test_import_graph.py`` allows exactly this module such annotation-only imports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from marie.git.model import StatusSnapshot
    from marie.index.snapshot import Change, Snapshot
    from marie.lsp.types import Diagnostic
    from marie.workspace.writes import FileChange

NoticeLevel = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Event:
    """Base of every event (``app.events.on(Event, h)`` sees them all: logging, tests)."""


# -- core -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notice(Event):
    """Tell the user something: the status bar in the GUI, stderr in the CLI."""

    message: str
    level: NoticeLevel = "info"


@dataclass(frozen=True)
class SettingsChanged(Event):
    """These settings keys changed (user, project or policy file edited, or ``settings.set``)."""

    keys: frozenset[str]


@dataclass(frozen=True)
class FileSaved(Event):
    """The editor saved ``path`` (absolute) itself, outside the write path."""

    path: Path


# -- workspace (the one write path) --------------------------------------------------------------------
@dataclass(frozen=True)
class FilesWritten(Event):
    """The write path (``app.writes.apply``) changed files in the workspace.

    ``written`` and ``deleted`` are workspace-relative POSIX paths (a move is a delete plus a write);
    ``paths`` the same files as absolute paths. ``checkpoint_id`` is the checkpoint taken before the
    write (None when the caller asked for none, e.g. a restore). ``source`` names the caller
    ("composer", "git", "file tree", "replace", "lsp", "checkpoint", "agent", ...).
    """

    changes: tuple[FileChange, ...]
    label: str
    checkpoint_id: str | None = None
    written: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    paths: tuple[Path, ...] = ()
    source: str = "user"


@dataclass(frozen=True)
class CheckpointsChanged(Event):
    """The list of checkpoints changed (created, restored, pinned, collected)."""


# -- index -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexChanged(Event):
    """A new immutable snapshot, and what changed since the previous one."""

    snapshot: Snapshot
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class IndexProgress(Event):
    """Progress of a scan: ``done`` entries so far; ``finished`` on the last one."""

    done: int
    message: str
    finished: bool = False


# -- git -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GitStatusChanged(Event):
    """The repository's status after any change to it (an immutable snapshot)."""

    status: StatusSnapshot


# -- ai --------------------------------------------------------------------------------------------
ModelStateName = Literal["unloaded", "loading", "ready", "error"]


@dataclass(frozen=True)
class ModelState(Event):
    """The local model's state changed; ``detail`` carries what the provider reported."""

    state: str
    model: str = ""
    detail: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class PromptProgress(Event):
    """The local model has read ``done`` of the ``total`` prompt tokens of the request it is working
    on (one request at a time): the wait before the first token, shown by the composer and agent."""

    model: str
    done: int
    total: int


# -- lsp -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LspDiagnostics(Event):
    """The diagnostics of ``path`` (absolute) now; an empty tuple clears them."""

    path: Path
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class LspStatus(Event):
    """A language server's state ("starting", "running", "restarting", "failed", ...)."""

    language: str
    state: str
    message: str = ""


@dataclass(frozen=True)
class LspLog(Event):
    """One line of a language server's stderr or log messages (``language`` "" for the service)."""

    language: str
    line: str


__all__ = [
    "CheckpointsChanged", "Event", "FileSaved", "FilesWritten", "GitStatusChanged", "IndexChanged",
    "IndexProgress", "LspDiagnostics", "LspLog", "LspStatus", "ModelState", "ModelStateName", "Notice",
    "NoticeLevel", "SettingsChanged",
]
