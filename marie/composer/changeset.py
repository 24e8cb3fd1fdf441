"""A proposal as a change set: per file the base content hash, the proposed text, the operations and
the hunks the user accepts, rejects or edits before applying.

``build_changeset`` turns parsed edits into a ``ChangeSet`` without touching the disk (paths are
checked with ``resolve_inside`` first). ``ChangeSet.unified_diff()`` renders what would be applied.
Building and rendering are pure in-memory work, safe on any thread; reading the base files is I/O,
so build on a worker for large proposals.
"""

from __future__ import annotations

import difflib
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marie.composer import edits as edit_ops
from marie.composer import matching, path_policy
from marie.composer.errors import EditError
from marie.workspace.guard import PathRefused, resolve_inside
from marie.text import codec

MAX_FILE_BYTES = 2_000_000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Hunk:
    """One region of change: base lines ``[start, end)`` become ``new`` (lines with endings)."""

    start: int
    end: int
    old: list[str]
    new: list[str]
    accepted: bool = True
    edited: bool = False

    @property
    def whitespace_only(self) -> bool:
        """The hunk changes only whitespace (re-aligned values, re-indented or stripped lines): the
        review marks it, so it can be rejected on its own."""
        return _words(self.old) == _words(self.new)

    def header(self) -> str:
        return f"@@ -{self.start + 1},{self.end - self.start} +{len(self.new)} lines @@"


def _words(lines: list[str]) -> list[str]:
    return [" ".join(matching.body(line).split()) for line in lines if matching.body(line).strip()]


@dataclass
class FileProposal:
    path: str
    status: str                       # "modified" | "created" | "deleted" | "renamed"
    base_sha256: str | None           # hash of the file's bytes on disk when proposed (None: absent)
    base_text: str | None             # the text the edits were applied to (an unsaved buffer's, if given)
    proposed_text: str | None         # the model's full proposal (None: delete)
    fmt: codec.TextFormat = field(default_factory=codec.TextFormat)
    renamed_from: str | None = None
    tiers: list[str] = field(default_factory=list)
    accepted: bool = True
    hunks: list[Hunk] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.hunks:
            self.hunks = compute_hunks(self.base_text or "", self.proposed_text or "") \
                if self.proposed_text is not None else []

    # -- review --------------------------------------------------------------------------------
    def set_hunk(self, index: int, accepted: bool) -> None:
        self.hunks[index].accepted = accepted

    def edit_hunk(self, index: int, new_text: str) -> None:
        """Replace what hunk ``index`` proposes with ``new_text`` (the user's own version)."""
        hunk = self.hunks[index]
        lines = matching.split_lines(new_text)
        eol = matching.dominant_eol(matching.split_lines(self.base_text or "")) if self.base_text else "\n"
        lines = [matching.body(l) + eol for l in lines]
        hunk.new, hunk.edited, hunk.accepted = lines, True, True

    def result_text(self) -> str | None:
        """The text that applying this file would write (accepted hunks only); None deletes."""
        if self.proposed_text is None:
            return None
        base = matching.split_lines(self.base_text or "")
        out: list[str] = []
        pos = 0
        for hunk in self.hunks:
            out += base[pos:hunk.start]
            out += hunk.new if hunk.accepted else base[hunk.start:hunk.end]
            pos = hunk.end
        out += base[pos:]
        return "".join(out)

    @property
    def changes_anything(self) -> bool:
        if not self.accepted:
            return False
        if self.status in ("deleted", "renamed", "created"):
            return True
        return self.result_text() != self.base_text

    def diff(self, context: int = 3) -> str:
        old_name = f"a/{self.renamed_from or self.path}" if self.base_text is not None else "/dev/null"
        new_text = self.result_text() if self.accepted else self.base_text
        new_name = f"b/{self.path}" if new_text is not None else "/dev/null"
        a = _for_diff(self.base_text)
        b = _for_diff(new_text)
        head = ""
        if self.renamed_from:
            head = f"rename from {self.renamed_from}\nrename to {self.path}\n"
        body = "".join(difflib.unified_diff(a, b, old_name, new_name, n=context))
        if not body and head:
            return f"diff --marie a/{self.renamed_from} b/{self.path}\n{head}"
        return head + body

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "base_sha256": self.base_sha256,
                "base_text": self.base_text, "proposed_text": self.proposed_text,
                "fmt": {"encoding": self.fmt.encoding, "bom": self.fmt.bom.hex(), "eol": self.fmt.eol,
                        "mixed_eol": self.fmt.mixed_eol, "final_newline": self.fmt.final_newline,
                        "fallback": self.fmt.fallback},
                "renamed_from": self.renamed_from, "tiers": self.tiers, "accepted": self.accepted,
                "hunks": [{"start": h.start, "end": h.end, "old": h.old, "new": h.new, "accepted": h.accepted,
                           "edited": h.edited} for h in self.hunks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FileProposal":
        f = data["fmt"]
        fmt = codec.TextFormat(f["encoding"], bytes.fromhex(f["bom"]), f["eol"], f["mixed_eol"],
                               f["final_newline"], f["fallback"])
        hunks = [Hunk(**h) for h in data.get("hunks", [])]
        proposal = cls(data["path"], data["status"], data["base_sha256"], data["base_text"], data["proposed_text"],
                       fmt, data.get("renamed_from"), list(data.get("tiers", [])), data.get("accepted", True), hunks)
        return proposal


def _for_diff(text: str | None) -> list[str]:
    if text is None:
        return []
    lines = [matching.body(l) + "\n" for l in matching.split_lines(text)]
    if lines and text and not text.endswith(("\n", "\r")):
        lines[-1] = lines[-1][:-1] + "\n\\ No newline at end of file\n"
    return lines


def compute_hunks(base: str, new: str) -> list[Hunk]:
    a = matching.split_lines(base)
    b = matching.split_lines(new)
    sm = difflib.SequenceMatcher(a=[matching.body(x) for x in a], b=[matching.body(x) for x in b], autojunk=False)
    hunks = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            # Same bodies but different endings (e.g. a final newline added) are still a change.
            for k in range(i2 - i1):
                if a[i1 + k] != b[j1 + k]:
                    hunks.append(Hunk(i1 + k, i1 + k + 1, [a[i1 + k]], [b[j1 + k]]))
            continue
        hunks.append(Hunk(i1, i2, a[i1:i2], b[j1:j2]))
    return hunks


@dataclass
class ChangeSet:
    instruction: str
    files: list[FileProposal] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    format: str = ""
    created: float = field(default_factory=time.time)
    answer: str = ""

    @property
    def applicable(self) -> bool:
        """A proposal with errors (refused paths, edits that did not match) is never applied."""
        return not self.errors and any(f.changes_anything for f in self.files)

    def file(self, path: str) -> FileProposal:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def tiers(self) -> dict[str, list[str]]:
        return {f.path: list(f.tiers) for f in self.files}

    def unified_diff(self, context: int = 3) -> str:
        return "".join(f.diff(context) for f in self.files if f.accepted)

    def summary(self) -> str:
        parts = [f"{f.status} {f.path}" + (f" (from {f.renamed_from})" if f.renamed_from else "")
                 + (f" [{', '.join(f.tiers)}]" if f.tiers else "") for f in self.files]
        return "; ".join(parts) if parts else "no changes"

    def to_dict(self) -> dict[str, Any]:
        return {"instruction": self.instruction, "files": [f.to_dict() for f in self.files],
                "errors": self.errors, "format": self.format, "created": self.created, "answer": self.answer}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ChangeSet":
        return cls(data["instruction"], [FileProposal.from_dict(f) for f in data.get("files", [])],
                   list(data.get("errors", [])), data.get("format", ""), data.get("created", time.time()),
                   data.get("answer", ""))


class _Reader:
    """Reads base files once (unsaved buffers first) and remembers their bytes, hash and format."""

    def __init__(self, root: Path, buffers: dict[str, str] | None, max_bytes: int) -> None:
        self.root = root
        self.buffers = buffers or {}
        self.max_bytes = max_bytes
        self.info: dict[str, tuple[str | None, codec.TextFormat, str | None]] = {}

    def __call__(self, rel: str) -> str | None:
        if rel in self.info:
            return self.info[rel][0]
        path = resolve_inside(self.root, rel)
        sha = None
        fmt = codec.TextFormat()
        text: str | None = None
        if path.is_dir():
            raise EditError(f"{rel}: is a folder, not a file", rel)
        if path.exists():
            size = path.stat().st_size
            if size > self.max_bytes:
                raise EditError(f"{rel}: the file is too large to edit here ({size} bytes)", rel)
            data = path.read_bytes()
            sha = sha256(data)
            try:
                text, fmt = codec.decode(data)
            except codec.BinaryFileError:
                raise EditError(f"{rel}: is a binary file; the composer only edits text files", rel) from None
        if rel in self.buffers:
            text = self.buffers[rel]
        self.info[rel] = (text, fmt, sha)
        return text


def build_changeset(root: Path, edits: list[edit_ops.Edit], instruction: str = "", *, format: str = "",
                    buffers: dict[str, str] | None = None, fuzzy_threshold: float = matching.FUZZY_THRESHOLD,
                    max_bytes: int = MAX_FILE_BYTES, answer: str = "", ai_ignore: Any = None) -> ChangeSet:
    """Apply ``edits`` in memory to the workspace files; never writes. Errors land in ``.errors``.

    ``ai_ignore`` (an ``AiIgnore``) refuses files kept from the AI: their content must not reach the
    model, not even through an error message on retry."""
    changeset = ChangeSet(instruction, format=format, answer=answer)
    for edit in edits:
        for rel in edit_ops.edit_paths(edit):
            why = path_policy.refusal(rel)
            if why is not None:
                changeset.errors.append(why)
                continue
            try:
                resolve_inside(Path(root), rel)
            except PathRefused as exc:
                changeset.errors.append(f"refused: {exc}")
                continue
            if ai_ignore is not None and ai_ignore.is_ignored(rel):
                changeset.errors.append(f"refused: {rel}: this file is kept from the AI (.marieignore)")
    if changeset.errors:
        return changeset  # a proposal naming an unsafe path is refused whole
    reader = _Reader(Path(root), buffers, max_bytes)
    states, errors = _safe_apply(edits, reader, fuzzy_threshold)
    changeset.errors += [str(e) for e in errors]
    changeset.errors += _result_refusals(states, max_bytes)
    for rel, state in states.items():
        text, fmt, sha = reader.info.get(rel, (None, codec.TextFormat(), None))
        if state.text is None and state.base is None:
            continue
        if state.renamed_from:
            src_text, src_fmt, src_sha = reader.info[state.renamed_from]
            changeset.files.append(FileProposal(rel, "renamed", src_sha, src_text, state.text, src_fmt,
                                                state.renamed_from, state.tiers))
            continue
        if state.text is None:
            if any(f.renamed_from == rel for f in changeset.files) or any(
                    s.renamed_from == rel for s in states.values()):
                continue  # the source of a rename
            changeset.files.append(FileProposal(rel, "deleted", sha, state.base, None, fmt, None, state.tiers))
        elif state.base is None:
            changeset.files.append(FileProposal(rel, "created", None, None, state.text, fmt, None, state.tiers))
        elif state.text != state.base:
            changeset.files.append(FileProposal(rel, "modified", sha, state.base, state.text, fmt, None, state.tiers))
    return changeset


def _result_refusals(states: dict[str, edit_ops.FileState], max_bytes: int) -> list[str]:
    """What the edits would write that a text file must not hold: more than ``max_bytes`` (the limit
    the composer reads files up to) or NUL characters (the mark of binary data)."""
    out = []
    for rel, state in states.items():
        if state.text is None or state.text == state.base:
            continue
        size = len(state.text.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            out.append(f"refused: {rel}: the result would be {size} bytes, over composer.max_file_bytes "
                       f"({max_bytes}); the composer does not write files that large")
        if "\x00" in state.text and "\x00" not in (state.base or ""):
            out.append(f"refused: {rel}: the edit writes NUL bytes into a text file")
    return out


def _safe_apply(edits: list[edit_ops.Edit], reader: _Reader, threshold: float):
    """``apply_edits`` with read errors (binary, too large, refused) turned into edit errors."""
    def read(rel: str) -> str | None:
        try:
            return reader(rel)
        except PathRefused as exc:
            raise EditError(f"refused: {exc}", rel) from None

    states: dict[str, edit_ops.FileState] = {}
    errors: list[EditError] = []
    for edit in edits:
        try:
            for rel in edit_ops.edit_paths(edit):
                read(rel)
        except EditError as exc:
            errors.append(exc)
            continue
        sub_states, sub_errors = edit_ops.apply_edits([edit], lambda rel: states[rel].text if rel in states else read(rel),
                                                      threshold)
        for rel, st in sub_states.items():
            if rel in states:
                prev = states[rel]
                prev.text = st.text
                prev.tiers += st.tiers
                prev.renamed_from = st.renamed_from or prev.renamed_from
            else:
                states[rel] = st
        errors += sub_errors
    return states, errors
