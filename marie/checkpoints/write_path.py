"""The single write path: every write MarieIDE makes for the user goes through ``WritePath.apply``.

Order: refuse unsafe paths; checkpoint what will be touched (labelled "before: <label>"); write every
file atomically, all or nothing (on a failure the files already written are put back as they were);
record the change (audit, when governance is present); announce ``files.written`` so the index, git
status and open editors refresh. Composer apply, replace in files, git discard, file-tree
delete/rename, LSP rename and checkpoint restore all call this; none of them writes files itself.

``apply`` does blocking I/O: call it from a worker (``app.tasks``), not from the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marie.core import atomic
from marie.core.events import FILES_WRITTEN
from marie.core.workspace import PathRefused, resolve_inside

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileChange:
    """One file operation, with a workspace-relative POSIX path.

    ``content`` None means delete. ``rename_from`` set means move that file to ``path`` (with
    ``content`` None the bytes move unchanged; with content they are replaced too).
    ``mode`` sets permission bits (None keeps the existing ones, or the default for new files).
    ``link`` set makes ``path`` a symbolic link with that text. ``exact`` replaces whatever is at
    ``path`` (a symlink there is replaced, not written through): checkpoint restore uses it.
    ``chmod_only`` changes only the permission bits (the content and mtime stay).
    """

    path: str
    content: bytes | None = None
    rename_from: str | None = None
    mode: int | None = None
    delete: bool = False
    link: str | None = None
    exact: bool = False
    chmod_only: bool = False

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

    def touched(self) -> list[str]:
        return [p for p in (self.rename_from, self.path) if p]


@dataclass
class WriteResult:
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


class WritePath:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.root = Path(app.root)

    def check(self, changes: list[FileChange], *, allow_protected: bool = False) -> None:
        """Raise ``PathRefused`` for the first unsafe path; nothing is written."""
        for change in changes:
            for rel in change.touched():
                try:
                    resolve_inside(self.root, rel, allow_protected=allow_protected)
                except PathRefused as exc:
                    if not self._replaces_link(change, rel, exc):
                        raise

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
        self.check(changes, allow_protected=allow_protected)
        touched = sorted({rel for c in changes for rel in c.touched()})
        checkpoint_id = None
        if checkpoint:
            checkpoint_id = self.app.checkpoints.create(label=f"before: {label}", paths=touched, auto=True)
        result = WriteResult(label, checkpoint_id)
        befores: dict[str, _Before] = {}
        try:
            for change in changes:
                for rel in change.touched():
                    if rel not in befores:
                        befores[rel] = _capture(self.root / rel)
                self._apply_one(change, result)
        except BaseException as exc:
            for rel, before in befores.items():
                try:
                    _put_back(before)
                except OSError:
                    log.exception("could not put back %s after a failed write", rel)
            if isinstance(exc, OSError):
                name = exc.filename or ""
                raise WriteError(f"{label}: could not write {name}: {exc.strerror or exc}; nothing was changed") from exc
            raise
        self._record(result, source)
        return result

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

    def _record(self, result: WriteResult, source: str) -> None:
        audit = getattr(self.app, "audit", None)
        if audit is not None:
            audit.record("files.write", label=result.label, source=source,
                         written=result.written, deleted=result.deleted, checkpoint=result.checkpoint_id)
        paths = [self.root / p for p in result.written + result.deleted]
        self.app.events.emit(FILES_WRITTEN, paths=paths, label=result.label)
