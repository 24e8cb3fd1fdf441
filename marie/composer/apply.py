"""Apply an accepted change set through the single write path (``app.writes.apply``).

Before writing, every accepted file is compared with what it is now (on disk, or in an unsaved editor
buffer passed in). A file that changed since the proposal is merged three ways (base, proposal,
current); when any merge has conflicts nothing is written and ``ConflictError`` lists them. The write
itself is checkpointed and all-or-nothing (``WritePath``). "Undo apply" restores that checkpoint.

Blocking I/O: call ``apply_changeset`` on a worker (``app.tasks``), never on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marie.workspace.writes import FileChange
from marie.composer.changeset import ChangeSet, FileProposal, sha256
from marie.composer.errors import ComposerError, ConflictError
from marie.composer.merge import merge3
from marie.workspace.guard import resolve_inside
from marie.text import codec


@dataclass
class ApplyResult:
    checkpoint_id: str | None
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)      # files merged with changes made since the proposal
    texts: dict[str, str] = field(default_factory=dict)  # what each written file now holds (for open buffers)

    def to_dict(self) -> dict[str, Any]:
        return {"checkpoint_id": self.checkpoint_id, "written": self.written, "deleted": self.deleted,
                "merged": self.merged}


def label_for(instruction: str) -> str:
    return f"composer '{instruction[:40]}'"


def _current(root: Path, rel: str, buffers: dict[str, str]) -> tuple[bool, str | None, str | None, codec.TextFormat | None]:
    """(exists, text, sha of disk bytes, format) for ``rel`` now; an unsaved buffer wins over the disk."""
    path = resolve_inside(root, rel)
    sha = None
    fmt = None
    text = None
    exists = path.exists()
    if exists:
        data = path.read_bytes()
        sha = sha256(data)
        try:
            text, fmt = codec.decode(data)
        except codec.BinaryFileError:
            raise ComposerError(f"{rel}: became a binary file since the proposal; nothing was applied") from None
    if rel in buffers:
        text = buffers[rel]
    return exists, text, sha, fmt


def plan_changes(root: Path, changeset: ChangeSet, buffers: dict[str, str] | None = None
                 ) -> tuple[list[FileChange], list[str], dict[str, str]]:
    """The FileChanges to write, the files that were merged, and the final text per written file.

    Raises ConflictError (nothing changes) when a file changed since the proposal and cannot be merged.
    """
    buffers = buffers or {}
    if changeset.errors:
        raise ComposerError("this proposal has errors and cannot be applied:\n" + "\n".join(changeset.errors))
    changes: list[FileChange] = []
    merged: list[str] = []
    texts: dict[str, str] = {}
    conflicts: dict[str, str] = {}
    for proposal in changeset.files:
        if not proposal.changes_anything:
            continue
        change, text, was_merged, conflict = _plan_one(Path(root), proposal, buffers)
        if conflict is not None:
            conflicts[proposal.path] = conflict
            continue
        if change is not None:
            changes.append(change)
        if text is not None:
            texts[proposal.path] = text
        if was_merged:
            merged.append(proposal.path)
    if conflicts:
        names = ", ".join(sorted(conflicts))
        raise ConflictError(f"{names}: changed since the proposal and the changes overlap; nothing was applied. "
                            "Review the conflicts, or ask again.", conflicts)
    if not changes:
        raise ComposerError("nothing to apply: every change was rejected or is already there")
    return changes, merged, texts


def _plan_one(root: Path, p: FileProposal, buffers: dict[str, str]):
    exists, current, _sha, fmt_now = _current(root, p.renamed_from or p.path, buffers)
    fmt = fmt_now or p.fmt
    if p.status == "created":
        dst_exists, dst_text, _, _ = _current(root, p.path, buffers)
        result = p.result_text() or ""
        if dst_exists and dst_text != result:
            return None, None, False, f"{p.path} was created by someone else since the proposal"
        return FileChange.write(p.path, codec.encode(result, p.fmt)), result, False, None
    if not exists:
        return None, None, False, f"{p.renamed_from or p.path} no longer exists"
    if p.status == "deleted":
        if current != p.base_text:
            return None, None, False, f"{p.path} changed since the proposal; not deleting it"
        return FileChange.remove(p.path), None, False, None
    ours = p.result_text()
    assert ours is not None and p.base_text is not None
    was_merged = False
    if current != p.base_text:
        result = merge3(p.base_text, ours, current or "")
        if not result.clean:
            return None, None, False, result.text
        ours, was_merged = result.text, True
    try:
        data = codec.encode(ours, fmt)
    except UnicodeEncodeError as exc:
        raise ComposerError(f"{p.path}: the new text has a character ({exc.object[exc.start:exc.end]!r}) that "
                            f"the file's encoding ({fmt.label}) cannot store; nothing was applied") from None
    if p.status == "renamed":
        dst_exists, _, _, _ = _current(root, p.path, {})
        if dst_exists:
            return None, None, False, f"{p.path} exists now; not renaming {p.renamed_from} onto it"
        return FileChange.move(p.renamed_from or "", p.path, data), ours, was_merged, None
    return FileChange.write(p.path, data), ours, was_merged, None


def apply_changeset(app: Any, changeset: ChangeSet, buffers: dict[str, str] | None = None) -> ApplyResult:
    """Checkpoint, merge where needed, and write every accepted file atomically. Worker thread."""
    changes, merged, texts = plan_changes(Path(app.root), changeset, buffers)
    result = app.writes.apply(changes, label=label_for(changeset.instruction), source="composer")
    return ApplyResult(result.checkpoint_id, list(result.written), list(result.deleted), merged, texts)


def undo_apply(app: Any, result: ApplyResult):
    """Put every file back as it was before the apply (restores the apply's checkpoint). Worker thread."""
    if not result.checkpoint_id:
        raise ComposerError("this apply made no checkpoint, so it cannot be undone")
    return app.checkpoints.restore(result.checkpoint_id)
