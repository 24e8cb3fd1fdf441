"""Atomic file writes: the only way MarieIDE writes a user's file.

A write goes to a temporary file in the same folder, is fsynced, replaces the target with
``os.replace`` and then the folder is fsynced, so a crash leaves either the old or the new content,
never a partial file. The target's mode bits are kept; writing through a symlink updates the link's
target and leaves the link in place. Any thread may call these functions.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

TEMP_PREFIX = ".marie-tmp-"


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def resolve_target(path: Path) -> Path:
    """Follow symlinks so the write lands on the real file and the link survives."""
    path = Path(path)
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def write_bytes(path: Path | str, data: bytes, mode: int | None = None, *, follow_symlinks: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically and durably; returns the path actually written.

    ``mode`` sets the permission bits; by default an existing file keeps its own and a new file gets
    0o666 minus the umask, as ``open()`` would give it. With ``follow_symlinks=False`` a symlink at
    ``path`` is replaced by the file instead of having its target written (checkpoint restore).
    """
    target = resolve_target(Path(path)) if follow_symlinks else Path(path)
    folder = target.parent
    if mode is None and target.is_symlink():
        mode = _default_mode()
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = _default_mode()
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(folder)
    return target


def _default_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(path, text.encode(encoding))


def delete(path: Path | str) -> None:
    """Remove a file (or a symlink, never its target) and make the removal durable."""
    path = Path(path)
    path.unlink()
    fsync_dir(path.parent)
