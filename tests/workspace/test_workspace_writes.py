"""The write path's contract, run against the real app and against a host made of fakes (the
``Checkpointer`` and ``Auditor`` protocols are all the write path knows of checkpoints and audit)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pytest

from marie.core.event_types import FilesWritten
from marie.core.events import EventBus
from marie.workspace.guard import PathRefused
from marie.workspace.writes import FileChange, WriteError, WritePath, WriteRecord


@dataclass
class FakeCheckpointer:
    """Remembers what it was asked to cover; the id is a counter."""

    calls: list[tuple[str, list[str]]] = field(default_factory=list)

    def create(self, label: str = "", paths: Iterable[str] | None = None, auto: bool = False) -> str:
        self.calls.append((label, list(paths or ())))
        return f"cp{len(self.calls)}"


@dataclass
class RecordingAuditor:
    records: list[WriteRecord] = field(default_factory=list)

    def record_write(self, record: WriteRecord) -> None:
        self.records.append(record)


@dataclass
class FakeHost:
    root: Path
    events: EventBus = field(default_factory=EventBus)
    checkpoints: FakeCheckpointer = field(default_factory=FakeCheckpointer)
    audit: RecordingAuditor = field(default_factory=RecordingAuditor)


@pytest.fixture(params=["real app", "fakes"])
def host(request, workspace, monkeypatch):
    if request.param == "fakes":
        yield FakeHost(workspace)
        return
    from marie.app import App

    recorder = RecordingAuditor()
    monkeypatch.setattr(App, "audit", property(lambda self: recorder))   # see what the real path records
    app = App(workspace)
    yield app
    app.close()


def test_checkpoint_then_atomic_write_then_audit_then_event(host):
    root = Path(host.root)
    (root / "a.txt").write_text("old")
    seen: list[FilesWritten] = []
    host.events.on(FilesWritten, seen.append)
    writes = WritePath(host)

    result = writes.apply([FileChange.write("a.txt", b"new"), FileChange.write("d/n.txt", b"n")], "edit", source="test")

    assert (root / "a.txt").read_text() == "new" and (root / "d" / "n.txt").read_text() == "n"
    assert result.checkpoint_id is not None
    assert host.audit.records == [WriteRecord("edit", "test", ("a.txt", "d/n.txt"), (), result.checkpoint_id)]
    assert [(e.label, e.written, e.checkpoint_id, e.source) for e in seen] == \
        [("edit", ("a.txt", "d/n.txt"), result.checkpoint_id, "test")]
    assert seen[0].paths == (root / "a.txt", root / "d" / "n.txt")
    if isinstance(host, FakeHost):
        assert host.checkpoints.calls == [("before: edit", ["a.txt", "d/n.txt"])]


def test_all_or_nothing_and_nothing_announced(host, monkeypatch):
    root = Path(host.root)
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    seen: list[FilesWritten] = []
    host.events.on(FilesWritten, seen.append)
    auditor = host.audit
    real_replace = os.replace

    def failing_replace(src, dst, *a, **kw):
        if str(dst).endswith("c.txt"):
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(WriteError, match="nothing was changed"):
        WritePath(host).apply([FileChange.write("a.txt", b"A"), FileChange.remove("b.txt"),
                               FileChange.write("c.txt", b"C")], "bulk")
    monkeypatch.undo()
    assert (root / "a.txt").read_text() == "a" and (root / "b.txt").read_text() == "b"
    assert not (root / "c.txt").exists()
    assert seen == [] and auditor.records == []


def test_refused_paths_write_nothing(host):
    writes = WritePath(host)
    for rel in ("../x", ".git/config", ".marie/settings.toml", "~/x", "a:b"):
        with pytest.raises(PathRefused):
            writes.apply([FileChange.write("ok.txt", b"1"), FileChange.write(rel, b"x")], "bad")
    assert not (Path(host.root) / "ok.txt").exists()
    assert host.audit.records == []


def test_external_bracket_audits_and_announces_even_when_the_tool_fails(host):
    root = Path(host.root)
    seen: list[FilesWritten] = []
    host.events.on(FilesWritten, seen.append)
    with pytest.raises(RuntimeError):
        with WritePath(host).external("tool run", source="git") as result:
            (root / "made.txt").write_text("by the tool")
            result.written.append("made.txt")
            raise RuntimeError("the tool stopped half-way")
    assert seen and seen[0].written == ("made.txt",) and seen[0].label == "tool run"
    assert host.audit.records[0].source == "git" and host.audit.records[0].checkpoint_id == seen[0].checkpoint_id


def test_a_failing_audit_log_does_not_undo_a_finished_write(workspace):
    class BrokenAuditor:
        def record_write(self, record: WriteRecord) -> None:
            raise OSError("disk full")

    host = FakeHost(workspace, audit=BrokenAuditor())  # type: ignore[arg-type]
    WritePath(host).apply([FileChange.write("a.txt", b"x")], "edit")
    assert (workspace / "a.txt").read_bytes() == b"x"


def test_path_rules_refuse_ai_edits_only(workspace):
    from marie.workspace.writes import AI_SOURCES

    def protect_secrets(rel: str, source: str) -> str | None:
        return "protected" if source in AI_SOURCES and rel.startswith("secrets/") else None

    writes = WritePath(FakeHost(workspace), rules=[protect_secrets])
    with pytest.raises(PathRefused, match="secrets/key.txt: protected"):
        writes.apply([FileChange.write("ok.txt", b"1"), FileChange.write("secrets/key.txt", b"x")], "ai edit",
                     source="composer")
    assert not (workspace / "ok.txt").exists()
    writes.apply([FileChange.write("secrets/key.txt", b"mine")], "my edit", source="user")   # the user may
    assert (workspace / "secrets" / "key.txt").read_bytes() == b"mine"


def test_the_app_refuses_ai_edits_to_paths_the_admin_policy_protects(app, workspace, monkeypatch):
    policy = app.governance.policy
    monkeypatch.setattr(type(policy), "path_protected", lambda self, rel: rel.endswith(".lock"))
    with pytest.raises(PathRefused, match="admin policy"):
        app.writes.apply([FileChange.write("poetry.lock", b"x")], "composer edit", source="composer")
    assert not (workspace / "poetry.lock").exists()
    app.writes.apply([FileChange.write("poetry.lock", b"x")], "saved by hand", source="user")
    assert (workspace / "poetry.lock").read_bytes() == b"x"
