"""Hot-exit backups: unsaved buffers kept outside the project so a crash never loses typing.

Each backup is one JSON file in ``<workspace data>/backups/``, written atomically: the buffer's path
(or ``None`` for an untitled buffer), its text, its TextFormat and the sha256 of the file on disk
when the buffer was last loaded or saved. On the next start the window restores a backup into a
dirty tab when the disk still holds that same content; otherwise the disk changed meanwhile and the
backup is only offered for comparison (``Backup.disk_changed``), never applied silently.
No Qt; any thread (the window writes from a worker so typing never waits on fsync).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from marie.core import atomic
from marie.text.codec import TextFormat

log = logging.getLogger(__name__)

VERSION = 1


def sha256_of_file(path: Path) -> str:
    """The file's content hash, or "" when it does not exist (or cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def key_for(path: Path | None, untitled_id: str = "") -> str:
    """A stable file name for a buffer: a hash of its path, or of ``untitled_id`` for new buffers."""
    source = str(Path(path).resolve()) if path else f"untitled:{untitled_id}"
    return hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def _format_to_json(fmt: TextFormat) -> dict:
    data = asdict(fmt)
    data["bom"] = fmt.bom.hex()
    return data


def _format_from_json(data: dict) -> TextFormat:
    data = dict(data)
    data["bom"] = bytes.fromhex(data.get("bom", ""))
    known = {k: v for k, v in data.items() if k in TextFormat.__dataclass_fields__}
    return TextFormat(**known)


@dataclass(frozen=True)
class Backup:
    key: str
    path: Path | None        # None for an untitled buffer
    text: str
    format: TextFormat
    disk_sha256: str         # what the file held when the buffer was loaded/saved ("" = no file)
    saved_at: float
    title: str = ""          # for untitled buffers: the tab title

    @property
    def disk_changed(self) -> bool:
        """True when the file on disk is no longer what this buffer was based on."""
        if self.path is None:
            return False
        return sha256_of_file(self.path) != self.disk_sha256


class BackupStore:
    """The backups of one workspace. Thread-safe in the sense that every write is an atomic replace.

    ``cipher`` (a ``marie.governance.crypto.Cipher``, or a callable returning one or None, asked
    on each use: ``app.governance.cipher``) seals each backup with its key as associated data, so a
    backup moved under another name fails to open. When encryption is on without a key the callable
    raises and nothing is written (never a plaintext backup instead)."""

    def __init__(self, folder: Path, cipher=None) -> None:
        self.folder = Path(folder)
        self._cipher = cipher

    @property
    def cipher(self):
        return self._cipher() if callable(self._cipher) else self._cipher

    def _file(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def save(self, key: str, path: Path | None, text: str, fmt: TextFormat, disk_sha256: str,
             title: str = "") -> Path:
        """Write (or replace) the backup for ``key`` atomically; returns the backup file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"version": VERSION, "key": key, "path": str(path) if path else None, "text": text,
                  "format": _format_to_json(fmt), "disk_sha256": disk_sha256, "saved_at": time.time(),
                  "title": title}
        data = json.dumps(record, ensure_ascii=False).encode("utf-8")
        cipher = self.cipher
        if cipher is not None:
            data = cipher.seal(data, key.encode("ascii", "replace"))
        return atomic.write_bytes(self._file(key), data, 0o600 if cipher is not None else None)

    def remove(self, key: str) -> None:
        """Forget a backup (the buffer was saved, reverted or closed without saving)."""
        try:
            atomic.delete(self._file(key))
        except FileNotFoundError:
            pass

    def load(self, key: str) -> Backup | None:
        try:
            raw = self._file(key).read_bytes()
            try:
                cipher = self.cipher
            except Exception as exc:   # encryption on, key unavailable: keep the backup for later
                log.warning("hot-exit backup %s cannot be opened now: %s", key, exc)
                return None
            if raw[:4] == b"MRE1" and cipher is None:
                log.warning("hot-exit backup %s is encrypted and encryption is off; left as it is", key)
                return None
            if cipher is not None:
                raw = cipher.open(raw, key.encode("ascii", "replace"), what=f"hot-exit backup {key}")
            data = json.loads(raw.decode("utf-8"))
            return Backup(key=data["key"], path=Path(data["path"]) if data.get("path") else None,
                          text=data["text"], format=_format_from_json(data["format"]),
                          disk_sha256=data.get("disk_sha256", ""), saved_at=float(data.get("saved_at", 0)),
                          title=data.get("title", ""))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:   # RuntimeError: EncryptionError
            # A damaged backup is kept on disk (renamed) for a human to look at, never deleted.
            log.warning("hot-exit backup %s is unreadable (%s); kept as .bad", key, exc)
            try:
                self._file(key).rename(self._file(key).with_suffix(".bad"))
            except OSError:
                pass
            return None

    def all(self) -> list[Backup]:
        """Every readable backup, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [self.load(p.stem) for p in sorted(self.folder.glob("*.json"))]
        return sorted((b for b in found if b is not None), key=lambda b: b.saved_at)
