"""Hypothesis stateful test: random file operations, checkpoints and restores against a model dict.

The model maps a path to ("f", bytes, mode) or ("l", link text). A checkpoint saves a copy of the
model; restoring it must make the disk equal that copy for every non-ignored path while ignored
files (``*.log``) stay exactly as they are now.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from marie.app import App

PATHS = ["a.txt", "b.py", "d/c.txt", "d/e/f.txt", "x/y.md", "skip.log", "d/keep.log"]
MODES = [0o644, 0o755, 0o600, 0o444]
CONTENT = st.binary(max_size=64) | st.sampled_from([b"", b"same", b"\r\nline\r\n", "ünï\n".encode()])


def ignored(rel: str) -> bool:
    return rel.endswith(".log")


def read_disk(root: Path) -> dict:
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel == ".gitignore":
                continue
            if os.path.islink(full):
                out[rel] = ("l", os.readlink(full))
            else:
                out[rel] = ("f", Path(full).read_bytes(), stat.S_IMODE(os.lstat(full).st_mode))
    return out


class CheckpointMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="marie-cp-state-"))
        self.root = self.tmp / "ws"
        self.root.mkdir()
        (self.root / ".gitignore").write_text("*.log\n")
        self.app = App(self.root)
        self.model: dict = {}
        self.saved: list[tuple[str, dict]] = []
        self.undo: list[dict] = []

    def teardown(self):
        if hasattr(self, "app"):
            self.app.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _clear(self, rel: str) -> Path:
        path = self.root / rel
        if os.path.lexists(path):
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @rule(rel=st.sampled_from(PATHS), data=CONTENT, mode=st.sampled_from(MODES))
    def write(self, rel, data, mode):
        path = self._clear(rel)
        path.write_bytes(data)
        os.chmod(path, mode)
        self.model[rel] = ("f", data, mode)

    @rule(rel=st.sampled_from(PATHS), dest=st.sampled_from(["a.txt", "../a.txt", "missing", "d"]))
    def link(self, rel, dest):
        os.symlink(dest, self._clear(rel))
        self.model[rel] = ("l", dest)

    @rule(rel=st.sampled_from(PATHS))
    def delete(self, rel):
        if rel in self.model:
            (self.root / rel).unlink()
            del self.model[rel]

    @rule(rel=st.sampled_from(PATHS), mode=st.sampled_from(MODES))
    def chmod(self, rel, mode):
        if rel in self.model and self.model[rel][0] == "f":
            os.chmod(self.root / rel, mode)
            self.model[rel] = ("f", self.model[rel][1], mode)

    @rule(label=st.text(max_size=8))
    def checkpoint(self, label):
        cid = self.app.checkpoints.create(label=label)
        self.saved.append((cid, {k: v for k, v in self.model.items() if not ignored(k)}))

    def _expected(self, snapshot: dict, selection: list[str] | None = None) -> dict:
        expected = dict(self.model)
        for rel in list(expected):
            if not ignored(rel) and (selection is None or rel in selection) and rel not in snapshot:
                del expected[rel]
        for rel, value in snapshot.items():
            if selection is None or rel in selection:
                expected[rel] = value
        return expected

    @precondition(lambda self: self.saved)
    @rule(pick=st.integers(min_value=0), some=st.none() | st.lists(st.sampled_from(PATHS), min_size=1, max_size=3))
    def restore(self, pick, some):
        cid, snapshot = self.saved[pick % len(self.saved)]
        before = dict(self.model)
        result = self.app.checkpoints.restore(cid, paths=some)
        self.model = self._expected(snapshot, some)
        self.undo.append(before)
        assert result.safety_checkpoint_id
        changed = {k for k in set(before) | set(self.model) if before.get(k) != self.model.get(k)}
        assert set(result.written) | set(result.deleted) == changed

    @precondition(lambda self: self.undo)
    @rule()
    def undo_restore(self):
        # Undo goes back to the state before the last restore (ignored files: as they are now).
        before = self.undo.pop()
        self.app.checkpoints.undo_last_restore()
        self.model = self._expected({k: v for k, v in before.items() if not ignored(k)})
        self.undo.clear()   # the undo itself became the newest restore

    @invariant()
    def disk_matches_model(self):
        if hasattr(self, "root"):
            assert read_disk(self.root) == self.model


TestCheckpointStateful = CheckpointMachine.TestCase
TestCheckpointStateful.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)
