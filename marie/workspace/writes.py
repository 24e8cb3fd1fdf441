"""The ONE write path: every write MarieIDE makes for the user goes through ``WritePath.apply``.

Order: refuse unsafe paths (``marie.workspace.guard``); checkpoint what will be touched (labelled
"before: <label>"); write every file atomically, all or nothing (on a failure the files already
written are put back as they were); record the change with the auditor; publish ``FilesWritten`` so
the index, git status and open editors refresh. Composer apply, agent edits, replace in files, git
discard, file operations, LSP rename and checkpoint restore all call ``apply``; none of them writes
files itself. Writes another tool makes for us (git's checkouts: switch, merge, stash, pull, rebase)
are bracketed with ``external``: a checkpoint before, the audit record and ``FilesWritten`` after, so
they are undone like any other write (restore the "before: ..." checkpoint).

Checkpoints and audit come in through the ``Checkpointer`` and ``Auditor`` protocols (the app gives
``CheckpointService`` and the governance audit log), so this module imports neither package.

``apply`` and ``external`` do blocking I/O: call them from a worker (``app.tasks``), never the GUI
thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from marie.core import atomic
from marie.core.event_types import FilesWritten
from marie.core.events import EventBus
from marie.workspace.guard import PathRefused, resolve_inside

log = logging.getLogger(__name__)


class Checkpointer(Protocol):
    """What the write path needs from the checkpoint store (``marie.checkpoints.CheckpointService``)."""

    def create(self, label: str = "", paths: Iterable[str] | None = None, auto: bool = False) -> str:
        """Checkpoint the workspace (and the ignored files among ``paths``); the new id. Worker."""
        ...


@dataclass(frozen=True)
class WriteRecord:
    """One audited write: what ``Auditor.record_write`` receives."""

    label: str
    source: str
    written: tuple[str, ...]
    deleted: tuple[str, ...]
    checkpoint_id: str | None


class Auditor(Protocol):
    """Where writes are recorded (``app.audit``: the governance audit log)."""

    def record_write(self, record: WriteRecord) -> None:
        """Append one record. Called on the writing worker thread; must not raise for I/O trouble."""
        ...


class NullAuditor:
    """Records nothing: the auditor of an app without governance (and of unit tests)."""

    def record_write(self, record: WriteRecord) -> None:
        return None


class WriteHost(Protocol):
    """What ``WritePath`` takes from the app (``marie.app.App`` is one)."""

    @property
    def root(self) -> Path: ...

    @property
    def events(self) -> EventBus: ...

    @property
    def checkpoints(self) -> Checkpointer: ...

    @property
    def audit(self) -> Auditor: ...


@dataclass(frozen=True)
class FileChange:
    """One file operation, with a workspace-relative POSIX path.

    ``content`` None means delete. ``rename_from`` set means move that file to ``path`` (with
    ``content`` None the bytes move unchanged; with content they are replaced too).
    ``mode`` sets permission bits (None keeps the existing ones, or the default for new files).
    ``link`` set makes ``path`` a symbolic link with that text. ``exact`` replaces whatever is at
    ``path`` (a symlink there is replaced, not written through): checkpoint restore uses it.
    ``chmod_only`` changes only the permission bits (the content and mtime stay).
    ``folder`` makes it a folder operation: create ``path`` (``make_folder``), remove the empty folder
    ``path`` (``remove_folder``), or rename the folder ``rename_from`` with everything in it, ignored
    files included, to ``path`` (``move_folder``: one rename, so nothing inside is left behind).
    """

    path: str
    content: bytes | None = None
    rename_from: str | None = None
    mode: int | None = None
    delete: bool = False
    link: str | None = None
    exact: bool = False
    chmod_only: bool = False
    folder: bool = False

    @classmethod
    def write(cls, path: str, content: bytes, mode: int | None = None) -> "FileChange":
        return cls(path, content, None, mode)

    @classmethod
    def remove(cls, path: str) -> "FileChange":
        return cls(path, None, None, None, True)

    @classmethod
    def move(cls, src: str, dst: str, content: bytes | None = None) -> "FileChange":
        return cls(dst, content, src)

    @classmethod
    def symlink(cls, path: str, target: str) -> "FileChange":
        return cls(path, None, None, None, False, target, True)

    @classmethod
    def chmod(cls, path: str, mode: int) -> "FileChange":
        return cls(path, None, None, mode, False, None, False, True)

    @classmethod
    def make_folder(cls, path: str) -> "FileChange":
        return cls(path, folder=True)

    @classmethod
    def remove_folder(cls, path: str) -> "FileChange":
        return cls(path, delete=True, folder=True)

    @classmethod
    def move_folder(cls, src: str, dst: str) -> "FileChange":
        return cls(dst, rename_from=src, folder=True)

    def touched(self) -> list[str]:
        return [p for p in (self.rename_from, self.path) if p]


@dataclass
class WriteResult:
    """What a write did: workspace-relative POSIX paths written and deleted (a move is both)."""

    label: str
    checkpoint_id: str | None
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class WriteError(RuntimeError):
    """A write failed; every file is as it was before ``apply`` started."""


@dataclass
class _Before:
    path: Path
    existed: bool
    data: bytes | None
    mode: int | None
    link: str | None


def _capture(path: Path) -> _Before:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return _Before(path, False, None, None, None)
    if stat.S_ISLNK(st.st_mode):
        return _Before(path, True, None, None, os.readlink(path))
    return _Before(path, True, path.read_bytes(), stat.S_IMODE(st.st_mode), None)


def _put_back(before: _Before) -> None:
    if not before.existed:
        with contextlib.suppress(FileNotFoundError):
            before.path.unlink()
        return
    if before.link is not None:
        _replace_with_link(before.path, before.link)
        return
    before.path.parent.mkdir(parents=True, exist_ok=True)
    # The file was a regular file before: if a link now stands there, replace it rather than write through it.
    atomic.write_bytes(before.path, before.data or b"", before.mode, follow_symlinks=False)


def _files_below(folder: Path) -> Iterator[str]:
    """Every file and symlink below ``folder`` (relative POSIX), ignored ones included; links to
    folders are listed, never followed."""
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath).relative_to(folder).as_posix()
        prefix = "" if base == "." else base + "/"
        for name in filenames:
            yield prefix + name
        for name in list(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                yield prefix + name
                dirnames.remove(name)


def _replace_with_link(target: Path, text: str) -> None:
    """Make ``target`` a symlink to ``text`` atomically (a temp link renamed over it)."""
    tmp = target.parent / f"{atomic.TEMP_PREFIX}{os.getpid()}-{target.name}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(text, tmp)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    atomic.fsync_dir(target.parent)


# Writes that carry the AI's proposals (the composer's apply, which the agent's edits use too).
AI_SOURCES = frozenset({"composer", "agent"})
# (workspace-relative path, source) -> why the write is refused, or None: extra rules the app adds
# (the admin policy's protected paths for AI edits) without this module knowing governance.
PathRule = Callable[[str, str], "str | None"]


class WritePath:
    """``app.writes``. Methods: any worker thread (never the GUI thread: they block on I/O)."""

    def __init__(self, app: WriteHost, rules: Iterable[PathRule] = ()) -> None:
        self.app = app
        self.root = Path(app.root)
        self.rules: list[PathRule] = list(rules)

    def check(self, changes: list[FileChange], *, allow_protected: bool = False, source: str = "user") -> None:
        """Raise ``PathRefused`` for the first unsafe path; nothing is written. Any thread."""
        for change in changes:
            for rel in change.touched():
                try:
                    resolve_inside(self.root, rel, allow_protected=allow_protected)
                except PathRefused as exc:
                    if not self._replaces_link(change, rel, exc):
                        raise
                for rule in self.rules:
                    reason = rule(rel, source)
                    if reason:
                        raise PathRefused(f"{rel}: {reason}")

    def _replaces_link(self, change: FileChange, rel: str, exc: PathRefused) -> bool:
        """A change that replaces or deletes a symlink itself (never writes through it) may act on a
        link that points outside the workspace, as long as the link's folder is inside."""
        if not (change.exact or change.link is not None or change.delete):
            return False
        if "symbolic link" not in str(exc) or not os.path.islink(self.root / rel):
            return False
        parent = rel.rpartition("/")[0]
        if parent:
            resolve_inside(self.root, parent, allow_protected=True)
        return True

    def apply(self, changes: list[FileChange], label: str, *, checkpoint: bool = True,
              allow_protected: bool = False, source: str = "user") -> WriteResult:
        """Checkpoint, then write all changes atomically (all or nothing). Worker thread."""
        self.check(changes, allow_protected=allow_protected, source=source)
        touched = sorted(set(self._files_touched(changes)))
        checkpoint_id = None
        if checkpoint:
            checkpoint_id = self.app.checkpoints.create(label=f"before: {label}", paths=touched, auto=True)
        result = WriteResult(label, checkpoint_id)
        befores: dict[str, _Before] = {}
        undo_folders: list[Callable[[], None]] = []
        try:
            for change in changes:
                if change.folder:
                    undo_folders.append(self._apply_folder(change, result))
                    continue
                for rel in change.touched():
                    if rel not in befores:
                        befores[rel] = _capture(self.root / rel)
                self._apply_one(change, result)
        except BaseException as exc:
            for undo in reversed(undo_folders):
                try:
                    undo()
                except OSError:
                    log.exception("could not undo a folder change after a failed write")
            for rel, before in befores.items():
                try:
                    _put_back(before)
                except OSError:
                    log.exception("could not put back %s after a failed write", rel)
            if isinstance(exc, OSError):
                name = exc.filename or ""
                raise WriteError(f"{label}: could not write {name}: {exc.strerror or exc}; nothing was changed") from exc
            raise
        self._record(result, source, tuple(changes))
        return result

    def _files_touched(self, changes: list[FileChange]) -> Iterator[str]:
        """The files the checkpoint must cover, ignored ones included: a folder move covers every file
        below the folder under both names (so a restore puts them back and removes the moved copies)."""
        for change in changes:
            if not change.folder:
                yield from change.touched()
            elif change.rename_from and (self.root / change.rename_from).is_dir():
                for rel in _files_below(self.root / change.rename_from):
                    yield f"{change.rename_from}/{rel}"
                    yield f"{change.path}/{rel}"

    @contextlib.contextmanager
    def external(self, label: str, *, source: str, paths: Iterable[str] = ()) -> Iterator[WriteResult]:
        """Bracket a write another tool makes in the workspace (git's checkouts). Worker thread.

        Takes a checkpoint "before: <label>" of the whole workspace (plus the ignored files among
        ``paths``) first; the body runs the tool and fills the yielded result's ``written`` and
        ``deleted`` (workspace-relative). Afterwards, even when the body raised (a merge that stopped
        on conflicts has still written files), the write is audited and ``FilesWritten`` published.
        """
        checkpoint_id = self.app.checkpoints.create(label=f"before: {label}", paths=sorted(paths), auto=True)
        result = WriteResult(label, checkpoint_id)
        try:
            yield result
        finally:
            if result.written or result.deleted:
                self._record(result, source, ())

    def _apply_folder(self, change: FileChange, result: WriteResult) -> Callable[[], None]:
        """Apply one folder change; returns how to undo it (used when a later change fails)."""
        target = self.root / change.path
        if change.rename_from:
            source = self.root / change.rename_from
            if not source.is_dir() or source.is_symlink():
                raise WriteError(f"{change.rename_from} is not a folder")
            if os.path.lexists(target):
                raise WriteError(f"{change.path} already exists")
            inside = sorted(_files_below(source))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(source, target)        # one atomic rename: ignored files and empty folders go along
            atomic.fsync_dir(target.parent)
            atomic.fsync_dir(source.parent)
            result.deleted.extend(f"{change.rename_from}/{rel}" for rel in inside)
            result.written.extend(f"{change.path}/{rel}" for rel in inside)
            return lambda: os.rename(target, source)
        if change.delete:
            if not os.path.lexists(target):
                return lambda: None
            os.rmdir(target)                 # only an empty folder: its files are deleted as changes first
            atomic.fsync_dir(target.parent)
            return lambda: target.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(target):
            raise WriteError(f"{change.path} already exists")
        target.mkdir(parents=True)
        atomic.fsync_dir(target.parent)
        return lambda: os.rmdir(target)

    def _apply_one(self, change: FileChange, result: WriteResult) -> None:
        target = self.root / change.path
        if change.rename_from:
            source = self.root / change.rename_from
            data = change.content if change.content is not None else source.read_bytes()
            mode = change.mode if change.mode is not None else stat.S_IMODE(source.stat().st_mode)
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_bytes(target, data, mode)
            atomic.delete(source)
            result.deleted.append(change.rename_from)
            result.written.append(change.path)
        elif change.link is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            _replace_with_link(target, change.link)
            result.written.append(change.path)
        elif change.chmod_only:
            os.chmod(target, change.mode if change.mode is not None else 0o644)
            result.written.append(change.path)
        elif change.delete:
            if os.path.lexists(target):
                atomic.delete(target)
            result.deleted.append(change.path)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            if change.exact and os.path.islink(target):
                # Restore puts back a regular file where a link now is: replace the link itself.
                atomic.write_bytes(target, change.content or b"", change.mode, follow_symlinks=False)
            else:
                atomic.write_bytes(target, change.content or b"", change.mode)
            result.written.append(change.path)

    def _record(self, result: WriteResult, source: str, changes: tuple[FileChange, ...]) -> None:
        record = WriteRecord(result.label, source, tuple(result.written), tuple(result.deleted), result.checkpoint_id)
        try:
            self.app.audit.record_write(record)
        except Exception:
            # the files are written: a failing audit log must not make the caller think otherwise
            log.exception("could not record %r in the audit log", result.label)
        paths = tuple(self.root / p for p in result.written + result.deleted)
        self.app.events.publish(FilesWritten(changes, result.label, result.checkpoint_id, tuple(result.written),
                                             tuple(result.deleted), paths, source))


__all__ = ["AI_SOURCES", "PathRule", "Auditor", "Checkpointer", "FileChange", "NullAuditor", "WriteError", "WriteHost", "WritePath",
           "WriteRecord", "WriteResult"]
