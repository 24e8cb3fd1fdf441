"""A text file on disk as MarieIDE sees it: content, format and the disk state it was read from.

``TextFile.load`` reads and decodes; ``save`` encodes with the same format and writes atomically;
``disk_state``/``changed_on_disk`` tell whether someone else changed the file since. No Qt here: the
editor widget holds the live text, this object holds what is needed to round-trip it.
Methods do blocking I/O: call them from a worker for large files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from marie.core import atomic
from marie.text.codec import BinaryFileError, TextFormat, decode, encode


class FileTooLargeError(ValueError):
    """The file is bigger than the configured maximum; it is not opened."""


@dataclass(frozen=True)
class DiskState:
    """What we last saw on disk: enough to notice an outside change cheaply."""

    exists: bool
    size: int = 0
    mtime_ns: int = 0
    sha256: str = ""

    @staticmethod
    def of(path: Path, data: bytes | None = None) -> "DiskState":
        try:
            st = path.stat()
        except FileNotFoundError:
            return DiskState(False)
        digest = hashlib.sha256(data).hexdigest() if data is not None else ""
        return DiskState(True, st.st_size, st.st_mtime_ns, digest)


@dataclass
class TextFile:
    path: Path
    text: str
    format: TextFormat
    disk: DiskState

    @classmethod
    def load(cls, path: Path | str, max_bytes: int | None = None) -> "TextFile":
        """Read a file; raises BinaryFileError, FileTooLargeError or OSError with a clear message."""
        path = Path(path)
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise FileTooLargeError(f"{path.name} is {size / 2**20:.0f} MiB, above the {max_bytes / 2**20:.0f} MiB limit (setting editor.max_file_bytes)")
        data = path.read_bytes()
        try:
            text, fmt = decode(data)
        except BinaryFileError as exc:
            raise BinaryFileError(f"{path.name}: {exc}; it is not opened as text") from None
        return cls(path, text, fmt, DiskState.of(path, data))

    @classmethod
    def new(cls, path: Path | str, fmt: TextFormat | None = None) -> "TextFile":
        return cls(Path(path), "", fmt or TextFormat(), DiskState(False))

    def save(self, text: str | None = None, fmt: TextFormat | None = None, path: Path | None = None) -> bytes:
        """Write atomically with this file's format (or ``fmt``); returns the bytes written."""
        if text is not None:
            self.text = text
        if fmt is not None:
            self.format = fmt
        if path is not None:
            self.path = Path(path)
        data = encode(self.text, self.format)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(self.path, data)
        self.disk = DiskState.of(self.path, data)
        return data

    def changed_on_disk(self) -> bool:
        """True when the file on disk is no longer what we loaded or saved (content, not just mtime)."""
        now = DiskState.of(self.path)
        if now.exists != self.disk.exists:
            return True
        if not now.exists:
            return False
        if (now.size, now.mtime_ns) == (self.disk.size, self.disk.mtime_ns):
            return False
        try:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return True
        return digest != self.disk.sha256

    @property
    def deleted_on_disk(self) -> bool:
        return self.disk.exists and not os.path.lexists(self.path)
