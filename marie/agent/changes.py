"""The session's change set: every edit the agent makes lands here, never straight on the disk.

Edits stack per file on top of the file as it was when first edited (reads by later tools see the
pending text). ``changeset()`` is a composer ``ChangeSet`` (the same review, hunk by hunk, and
three-way merge on apply as the composer's), ``apply`` writes it through the composer's apply (one
checkpoint, atomic, undoable). ``apply_file`` writes one file at once (the "step" apply setting).
Each edit remembers the text before it, so one step's edit can be taken back (``undo_edit``).
A lock makes the methods safe from any thread; they read files (worker thread preferred).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marie.composer import edits as edit_ops
from marie.composer.changeset import ChangeSet, FileProposal, sha256
from marie.composer.errors import EditError
from marie.text import codec


class _Deleted:
    def __repr__(self) -> str:
        return "DELETED"


@dataclass
class _Base:
    exists: bool
    text: str | None
    sha: str | None
    fmt: codec.TextFormat


@dataclass
class EditRecord:
    call_id: str
    path: str
    before: Any          # pending text before this edit (None: no pending edit, the base)
    tier: str


class AgentChanges:
    DELETED = _Deleted()

    def __init__(self, root: Path, task: str = "", fuzzy_threshold: float = 0.88) -> None:
        self.root = Path(root)
        self.task = task
        self.fuzzy_threshold = fuzzy_threshold
        self._base: dict[str, _Base] = {}
        self._pending: dict[str, Any] = {}
        self.history: list[EditRecord] = []
        self._lock = threading.RLock()
        self.version = 0                          # grows with every change (callers save when it moved)
        self._dicts: dict[str, tuple[Any, dict]] = {}   # rel -> (pending text, its proposal as a dict)

    # -- reading -----------------------------------------------------------------------------
    def pending_text(self, rel: str) -> Any:
        with self._lock:
            return self._pending.get(rel)

    def pending_paths(self) -> list[str]:
        with self._lock:
            return sorted(self._pending)

    def created_in(self, folder: str) -> list[str]:
        """Names of pending new files directly in ``folder`` (for list_folder)."""
        prefix = f"{folder}/" if folder else ""
        with self._lock:
            return sorted(rel[len(prefix):] for rel, b in self._base.items()
                          if not b.exists and rel in self._pending and rel.startswith(prefix)
                          and "/" not in rel[len(prefix):])

    def _load_base(self, rel: str, path: Path) -> _Base:
        base = self._base.get(rel)
        if base is None:
            if path.is_dir():
                raise EditError(f"{rel}: is a folder, not a file", rel)
            if path.exists():
                data = path.read_bytes()
                try:
                    text, fmt = codec.decode(data)
                except codec.BinaryFileError:
                    raise EditError(f"{rel}: is a binary file; only text files are edited", rel) from None
                base = _Base(True, text, sha256(data), fmt)
            else:
                base = _Base(False, None, None, codec.TextFormat())
            self._base[rel] = base
        return base

    # -- editing -----------------------------------------------------------------------------
    def edit(self, call_id: str, rel: str, path: Path, *, search: str | None = None, replace: str | None = None,
             content: str | None = None) -> tuple[str, str]:
        """Apply one edit in memory; returns (tier, unified diff of the file so far). Raises EditError."""
        with self._lock:
            base = self._load_base(rel, path)
            before = self._pending.get(rel)
            current = base.text if before is None else (None if before is self.DELETED else before)
            if content is not None:
                new, tier = edit_ops.whole_file_text(current, content), "whole"
            else:
                if search is None or replace is None:
                    raise EditError(f"{rel}: give either content (the whole new file) or both search and replace", rel)
                if not search.strip():
                    if current is not None and current.strip():
                        raise EditError(f"{rel}: search is empty; to replace the whole file give content", rel)
                op = edit_ops.Replace(rel, search.splitlines(), replace.splitlines())
                new, tier = edit_ops.apply_replace(current, op, self.fuzzy_threshold)
            if new == current:
                raise EditError(f"{rel}: the edit changes nothing (the replacement equals the text found)", rel)
            self._pending[rel] = new
            self.history.append(EditRecord(call_id, rel, before, tier))
            self.version += 1
            return tier, self._proposal(rel).diff()

    def delete(self, call_id: str, rel: str, path: Path) -> str:
        """Propose deleting a file; returns its diff. Raises EditError."""
        with self._lock:
            base = self._load_base(rel, path)
            before = self._pending.get(rel)
            if before is self.DELETED or (before is None and not base.exists):
                raise EditError(f"{rel}: no such file to delete", rel)
            if not base.exists:       # created earlier in this session: forget it
                self._pending.pop(rel)
            else:
                self._pending[rel] = self.DELETED
            self.history.append(EditRecord(call_id, rel, before, "delete"))
            self.version += 1
            return self._proposal(rel).diff() if rel in self._pending else ""

    def undo_edit(self, call_id: str) -> list[str]:
        """Take back the edit made by ``call_id`` (and later pending edits of the same file)."""
        with self._lock:
            records = [r for r in self.history if r.call_id == call_id]
            if not records:
                return []
            first = records[0]
            index = self.history.index(first)
            later = [r for r in self.history[index:] if r.path == first.path]
            if first.before is None:
                self._pending.pop(first.path, None)
            else:
                self._pending[first.path] = first.before
            self.history = [r for r in self.history if r not in later]
            self.version += 1
            return [first.path]

    def discard(self, paths: list[str]) -> list[str]:
        """Drop the pending edits of ``paths`` (back to the file on disk)."""
        with self._lock:
            gone = [p for p in paths if p in self._pending]
            for rel in gone:
                self._pending.pop(rel, None)
                self._base.pop(rel, None)
            self.history = [r for r in self.history if r.path not in gone]
            if gone:
                self.version += 1
            return gone

    # -- change set --------------------------------------------------------------------------
    def _proposal(self, rel: str) -> FileProposal:
        base = self._base[rel]
        text = self._pending[rel]
        if text is self.DELETED:
            return FileProposal(rel, "deleted", base.sha, base.text, None, base.fmt)
        status = "modified" if base.exists else "created"
        return FileProposal(rel, status, base.sha, base.text, text, base.fmt,
                            tiers=[r.tier for r in self.history if r.path == rel])

    def changeset(self, paths: list[str] | None = None) -> ChangeSet:
        with self._lock:
            wanted = [p for p in sorted(self._pending) if paths is None or p in paths]
            return ChangeSet(self.task, [self._proposal(p) for p in wanted], format="agent")

    def to_dict(self) -> dict:
        """``changeset().to_dict()``, computing only the files changed since the last call."""
        with self._lock:
            files = []
            for rel in sorted(self._pending):
                text = self._pending[rel]
                cached = self._dicts.get(rel)
                if cached is None or cached[0] is not text:
                    cached = (text, self._proposal(rel).to_dict())
                    self._dicts[rel] = cached
                files.append(cached[1])
            for rel in set(self._dicts) - set(self._pending):
                del self._dicts[rel]
            return {"instruction": self.task, "files": files, "errors": [], "format": "agent",
                    "created": 0.0, "answer": ""} if files else {}

    def unified_diff(self) -> str:
        return self.changeset().unified_diff()

    def _settle(self, written: list[str]) -> None:
        """Files now on disk as proposed: they leave the pending set; their new base is the disk."""
        for rel in written:
            self._pending.pop(rel, None)
            self._base.pop(rel, None)
            self.history = [r for r in self.history if r.path != rel]
        self.version += 1

    def apply(self, app: Any, changeset: ChangeSet | None = None, label: str = ""):
        """Write the (reviewed) change set: one checkpoint, atomic, three-way merged. Worker thread."""
        from marie.composer.apply import apply_changeset

        with self._lock:
            changeset = changeset or self.changeset()
            if label:
                changeset.instruction = label
            result = apply_changeset(app, changeset)
            self._settle([f.path for f in changeset.files])
            return result

    def apply_file(self, app: Any, rel: str, label: str):
        """Write one file's pending text at once (the "step" apply setting). Worker thread."""
        return self.apply(app, self.changeset([rel]), label)

    def restore(self, data: dict) -> None:
        """Bring back a saved pending change set (``ChangeSet.to_dict``) when a session reopens."""
        from marie.composer.changeset import ChangeSet

        changeset = ChangeSet.from_dict(data)
        with self._lock:
            for f in changeset.files:
                self._base[f.path] = _Base(f.base_text is not None, f.base_text, f.base_sha256, f.fmt)
                self._pending[f.path] = self.DELETED if f.proposed_text is None else f.proposed_text
                self.history.append(EditRecord(f"restored:{f.path}", f.path, None, "restored"))
            self.version += 1
