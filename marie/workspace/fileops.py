"""File operations on files and folders (``app.fileops``), all through the one write path.

Used by the file tree, ``marie files mv|rm|mkdir`` and the agent. Each operation is ONE
``app.writes.apply`` call: checkpointed first (a folder's ignored files such as ``.env`` included),
atomic, audited, announced with ``FilesWritten``, and undone by restoring its "before: ..." checkpoint.

Folders are listed from the disk, not from the index's snapshot: the snapshot holds no ignored
files, and a folder operation must take them along (a renamed folder is one ``rename``; a deleted
folder loses every file below it, then its empty folders, deepest first).

Every method blocks on I/O: call it from a worker (``app.tasks``) or the CLI, never the GUI thread.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import Protocol

from marie.workspace.guard import PathRefused, resolve_inside
from marie.workspace.writes import FileChange, WriteResult


class FileOpError(ValueError):
    """An operation that cannot be done as asked (missing source, existing target); nothing changed."""


class Writes(Protocol):
    """What file operations need from the write path (``marie.workspace.writes.WritePath``)."""

    root: Path

    def apply(self, changes: list[FileChange], label: str, *, checkpoint: bool = True,
              allow_protected: bool = False, source: str = "user") -> WriteResult: ...


def _clean(rel: str) -> str:
    """A workspace-relative POSIX path without "./", doubled or trailing slashes."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts:
        raise PathRefused(f"{rel!r}: names the workspace folder itself, not a file")
    return "/".join(parts)


class FileOperations:
    """``app.fileops``. Methods: any worker thread (never the GUI thread)."""

    def __init__(self, writes: Writes) -> None:
        self.writes = writes
        self.root = Path(writes.root)

    def _path(self, rel: str) -> Path:
        return resolve_inside(self.root, rel)

    # -- create ----------------------------------------------------------------------------------
    def create_file(self, rel: str, content: bytes = b"", *, source: str = "user") -> WriteResult:
        """Create a new file (parents as needed); refuses an existing path."""
        rel = _clean(rel)
        if os.path.lexists(self._path(rel)):
            raise FileOpError(f"{rel} already exists")
        return self.writes.apply([FileChange.write(rel, content)], f"new file {rel}", source=source)

    def create_folder(self, rel: str, *, source: str = "user") -> WriteResult:
        """Create a new empty folder (parents as needed); refuses an existing path."""
        rel = _clean(rel)
        if os.path.lexists(self._path(rel)):
            raise FileOpError(f"{rel} already exists")
        return self.writes.apply([FileChange.make_folder(rel)], f"new folder {rel}", source=source)

    # -- rename / move ---------------------------------------------------------------------------
    def rename(self, src: str, dst: str, *, into_folder: bool = False, source: str = "user") -> WriteResult:
        """Rename or move a file, symlink or folder (with everything in it, ignored files too).

        ``dst`` is the new path; an existing ``dst`` is refused, except that with ``into_folder``
        (``mv``'s rule) an existing folder ``dst`` receives ``src`` inside it."""
        src, dst = _clean(src), _clean(dst)
        source_path = self._path(src)
        if not os.path.lexists(source_path):
            raise FileOpError(f"{src} does not exist")
        target = self._path(dst)
        if into_folder and target.is_dir() and not target.is_symlink():
            dst = f"{dst}/{PurePosixPath(src).name}"
            target = self._path(dst)
        if dst == src:
            raise FileOpError(f"{src} is already called that")
        if dst.startswith(src + "/"):
            raise FileOpError(f"cannot move {src} into itself ({dst})")
        if os.path.lexists(target):
            raise FileOpError(f"{dst} already exists")
        label = f"rename {src} to {dst}"
        if source_path.is_symlink():
            change = [FileChange.symlink(dst, os.readlink(source_path)), FileChange.remove(src)]
        elif source_path.is_dir():
            change = [FileChange.move_folder(src, dst)]
        else:
            change = [FileChange.move(src, dst)]
        return self.writes.apply(change, label, source=source)

    # -- delete ----------------------------------------------------------------------------------
    def delete(self, rel: str, *, source: str = "user") -> WriteResult:
        """Delete a file, symlink (never its target) or folder with everything below it."""
        rel = _clean(rel)
        path = self._path(rel)
        if not os.path.lexists(path):
            raise FileOpError(f"{rel} does not exist")
        if path.is_symlink() or not path.is_dir():
            return self.writes.apply([FileChange.remove(rel)], f"delete {rel}", source=source)
        files: list[FileChange] = []
        folders: list[str] = [rel]
        for dirpath, dirnames, filenames in os.walk(path):
            base = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                files.append(FileChange.remove(f"{base}/{name}"))
            for name in list(dirnames):
                if os.path.islink(os.path.join(dirpath, name)):
                    files.append(FileChange.remove(f"{base}/{name}"))   # the link, never what it points to
                    dirnames.remove(name)
                else:
                    folders.append(f"{base}/{name}")
        folders.sort(key=lambda f: f.count("/"), reverse=True)        # deepest first: each is empty by then
        return self.writes.apply(files + [FileChange.remove_folder(f) for f in folders], f"delete {rel}",
                                 source=source)

    # -- duplicate -------------------------------------------------------------------------------
    def duplicate(self, rel: str, *, source: str = "user") -> WriteResult:
        """Copy a file next to itself as "name copy.ext" ("name copy 2.ext", ...)."""
        rel = _clean(rel)
        path = self._path(rel)
        if not path.is_file():
            raise FileOpError(f"{rel} is not a file")
        pure = PurePosixPath(rel)
        stem, dot, ext = pure.name.rpartition(".")
        if not stem:
            stem, dot, ext = pure.name, "", ""
        parent = "" if str(pure.parent) == "." else f"{pure.parent}/"
        number = 1
        while True:
            dest = f"{parent}{stem} copy{'' if number == 1 else f' {number}'}{dot}{ext}"
            if not os.path.lexists(self.root / dest):
                break
            number += 1
        change = FileChange.write(dest, path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        return self.writes.apply([change], f"duplicate {rel}", source=source)


__all__ = ["FileOpError", "FileOperations"]
