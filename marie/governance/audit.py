"""The audit log: append-only JSONL, every record chained to the one before by SHA-256, fsynced.

One log per user (``<data dir>/audit/``), shared by every MarieIDE process (``fcntl.flock``).
A record is one line::

    {"seq": 7, "ts": 1764740000.1, "prev": "<hash of record 6>", "kind": "ai.request",
     "data": {...}, "hash": sha256(canonical JSON of the record without "hash")}

With encryption on, ``kind`` and ``data`` are sealed together in ``"enc"`` (AES-GCM, associated
data = seq and prev) and the hash covers the ciphertext, so ``verify`` checks the chain even without
the key (an auditor's copy) and, with it, each record's authenticity too.

What ``verify`` catches: an edited record (its hash), a removed, inserted or reordered one (the
``prev`` link and the sequence numbers), damage (bad JSON), and, given a head exported earlier
(``marie audit head``), truncation of the newest records. Rotation renames ``audit.jsonl`` to
``audit-<n>.jsonl`` and the chain goes on into the new file; retention deletes old rotated files
and says so in a record naming the last removed hash, so a cut-off start is explained, not hidden.
Raw secrets never reach this log: the gate records kinds and placeholders only.
Any thread; ``record`` blocks for one fsync.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol

GENESIS = "0" * 64
CURRENT = "audit.jsonl"
_ROTATED = re.compile(r"^audit-(\d{6})\.jsonl$")


class Auditor(Protocol):
    """What the write path, the gate and the agent call (``app.audit``)."""

    def record(self, kind: str, **fields: Any) -> dict: ...


def _canonical(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    records: int
    head: str                      # "seq:hash" of the last good record
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.records} records, head {self.head}"
        return "audit log NOT intact:\n" + "\n".join(f"  - {p}" for p in self.problems)


class AuditLog:
    """The tamper-evident log. ``record`` implements ``Auditor``."""

    def __init__(self, folder: Path, *, cipher: Any = None, max_bytes: int = 8 << 20,
                 retention_days: float = 0, enabled: bool = True) -> None:
        self.folder = Path(folder)
        self.cipher = cipher
        self.max_bytes = max_bytes
        self.retention_days = retention_days
        self.enabled = enabled
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.folder / CURRENT

    # -- writing -------------------------------------------------------------------------------
    def record(self, kind: str, **fields: Any) -> dict:
        """Append one record (chained, fsynced) and return it. Any thread; blocks for the fsync."""
        if not self.enabled:
            return {}
        data = json.loads(json.dumps(fields, default=str))   # plain JSON types, paths as strings
        with self._lock, self._file_lock():
            rotated = self._maybe_rotate()
            seq, prev = self._tail()
            record = self._make(seq + 1, prev, kind, data)
            self._append(record)
            if rotated and self.retention_days:
                self._apply_retention()
        return record

    def record_tool_call(self, tool: str, arguments: dict, *, mode: str, approved: bool | None,
                         approved_by: str = "", result_bytes: int = 0, error: str = "") -> dict:
        """An agent tool call and its approval (for marie/agent). ``approved`` None: no approval was needed."""
        return self.record("agent.tool_call", tool=tool, arguments=arguments, mode=mode, approved=approved,
                           approved_by=approved_by, result_bytes=result_bytes, error=error)

    def _make(self, seq: int, prev: str, kind: str, data: dict) -> dict:
        record: dict[str, Any] = {"seq": seq, "ts": round(time.time(), 6), "prev": prev}
        if self.cipher is not None:
            sealed = self.cipher.seal(_canonical({"kind": kind, "data": data}), f"{seq}:{prev}".encode())
            record["enc"] = base64.b64encode(sealed).decode("ascii")
        else:
            record["kind"] = kind
            record["data"] = data
        record["hash"] = record_hash(record)
        return record

    def _append(self, record: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = _canonical(record) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            size = os.fstat(fd).st_size
            if size:
                with open(self.path, "rb") as handle:   # a crash may have left half a line: start a new one
                    handle.seek(size - 1)
                    if handle.read(1) != b"\n":
                        line = b"\n" + line
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _tail(self) -> tuple[int, str]:
        """(seq, hash) of the newest record: the current file's last line, or the last rotated file's."""
        rotated = [p for p in self.segments() if p != self.path]
        for path in [self.path, *reversed(rotated)]:
            last = _last_line(path)
            if last is None:
                continue
            try:
                record = json.loads(last)
                return int(record["seq"]), str(record["hash"])
            except (ValueError, KeyError, TypeError):
                # A damaged last line: chain on from its text so nothing is silently re-rooted;
                # verify reports the damage.
                return _seq_guess(path), hashlib.sha256(last).hexdigest()
        return 0, GENESIS

    def _maybe_rotate(self) -> bool:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return False
        if size < self.max_bytes:
            return False
        numbers = [int(m.group(1)) for p in self.folder.iterdir() if (m := _ROTATED.match(p.name))]
        target = self.folder / f"audit-{(max(numbers) + 1 if numbers else 1):06d}.jsonl"
        os.replace(self.path, target)
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _apply_retention(self) -> None:
        cutoff = time.time() - self.retention_days * 86400
        removed: list[str] = []
        last_hash, last_seq = "", 0
        for path in [p for p in self.segments() if p != self.path][:-1]:   # never the newest rotated file
            if path.stat().st_mtime >= cutoff:
                break
            line = _last_line(path)
            if line is not None:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    rec = json.loads(line)
                    last_hash, last_seq = rec["hash"], rec["seq"]
            path.unlink()
            removed.append(path.name)
        if removed:
            seq, prev = self._tail()
            self._append(self._make(seq + 1, prev, "audit.retention",
                                    {"removed": removed, "last_removed_hash": last_hash,
                                     "last_removed_seq": last_seq, "days": self.retention_days}))

    # -- reading -------------------------------------------------------------------------------
    def segments(self) -> list[Path]:
        """Rotated files oldest first, then the current file (if any)."""
        if not self.folder.is_dir():
            return []
        rotated = sorted((p for p in self.folder.iterdir() if _ROTATED.match(p.name)), key=lambda p: p.name)
        return rotated + ([self.path] if self.path.exists() else [])

    def head(self) -> str:
        """"seq:hash" of the newest record: keep it elsewhere to detect truncation later."""
        with self._lock, self._file_lock():
            seq, digest = self._tail()
        return f"{seq}:{digest}"

    def open_record(self, record: dict) -> dict:
        """``record`` with ``kind`` and ``data`` decrypted (needs the cipher when it is sealed)."""
        if "enc" not in record:
            return record
        if self.cipher is None:
            return {**record, "kind": "(encrypted)", "data": {}}
        plain = self.cipher.open(base64.b64decode(record["enc"]), f"{record['seq']}:{record['prev']}".encode(),
                                 what=f"audit record {record['seq']}")
        return {**record, **json.loads(plain)}

    def entries(self) -> Iterator[dict]:
        """Every readable record, oldest first, decrypted when possible (damaged lines skipped)."""
        for path in self.segments():
            with open(path, "rb") as handle:
                for line in handle:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        yield self.open_record(json.loads(line))
                    except Exception:
                        continue

    def verify(self, expected_head: str = "") -> VerifyResult:
        """Check the whole chain (and, with ``expected_head`` "seq:hash", that nothing was cut off)."""
        problems: list[str] = []
        prev, seq, count, first = GENESIS, 0, 0, True
        retention_hashes: set[str] = set()
        seen: dict[int, str] = {}
        pending_start: tuple[str, str, int] | None = None   # a first record that does not start the chain
        for path in self.segments():
            with open(path, "rb") as handle:
                for number, raw in enumerate(handle, 1):
                    raw = raw.strip()
                    if not raw:
                        continue
                    where = f"{path.name} line {number}"
                    try:
                        record = json.loads(raw)
                        rseq, rprev, rhash = int(record["seq"]), str(record["prev"]), str(record["hash"])
                    except (ValueError, KeyError, TypeError):
                        problems.append(f"{where}: not a valid record (damaged or half-written)")
                        prev = hashlib.sha256(raw).hexdigest()
                        seq += 1
                        continue
                    if record_hash(record) != rhash:
                        problems.append(f"{where}: record {rseq} was changed (its hash does not match its content)")
                    if first and rprev != GENESIS:
                        # Older files removed by retention: allowed only if a retention record says so (checked below).
                        pending_start = (where, rprev, rseq)
                    elif not first and rprev != prev:
                        problems.append(f"{where}: record {rseq} does not follow record {seq} (a record was removed, "
                                        "inserted or moved before it)")
                    if not first and rseq != seq + 1:
                        problems.append(f"{where}: sequence jumps from {seq} to {rseq}")
                    if self.cipher is not None and "enc" in record:
                        try:
                            self.open_record(record)
                        except Exception as exc:
                            problems.append(f"{where}: {exc}")
                    try:
                        opened = self.open_record(record) if "enc" in record else record
                        if opened.get("kind") == "audit.retention":
                            retention_hashes.add(str(opened.get("data", {}).get("last_removed_hash", "")))
                    except Exception:
                        pass
                    seen[rseq] = rhash
                    first = False
                    prev, seq = rhash, rseq
                    count += 1
        if pending_start is not None:
            where, rprev, rseq = pending_start
            if rprev not in retention_hashes:
                problems.append(f"{where}: the log starts at record {rseq}, but no retention record explains "
                                "the removal of the records before it")
        if expected_head:
            try:
                want_seq_s, want_hash = expected_head.split(":", 1)
                want_seq = int(want_seq_s)
            except ValueError:
                problems.append(f"the expected head {expected_head!r} is not \"seq:hash\"")
            else:
                if want_seq > seq:
                    problems.append(f"the log was truncated: it ends at record {seq} but head {want_seq} was exported")
                elif seen.get(want_seq) != want_hash:
                    problems.append(f"record {want_seq} is not the one exported as the head (the log was rewritten)")
        return VerifyResult(not problems, count, f"{seq}:{prev}", problems)

    def close(self) -> None:
        pass


def _last_line(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            if not size:
                return None
            chunk = 1 << 16
            while True:
                start = max(0, size - chunk)
                handle.seek(start)
                data = handle.read(size - start)
                lines = [line for line in data.split(b"\n") if line.strip()]
                if lines and (start == 0 or len(lines) > 1):
                    return lines[-1].strip()
                if start == 0:
                    return None
                chunk *= 4
    except FileNotFoundError:
        return None


def _seq_guess(path: Path) -> int:
    best = 0
    with contextlib.suppress(OSError):
        for line in open(path, "rb"):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                best = max(best, int(json.loads(line)["seq"]))
    return best + 1
