"""CheckpointService against real files: create, diff, restore (exact and undoable), integrity, retention."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from marie.checkpoints.service import CheckpointDamaged, CheckpointError
from marie.core.event_types import FilesWritten
from marie.workspace.writes import FileChange, WriteError


def put(root: Path, rel: str, data: bytes | str, mode: int | None = None) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def test_restore_brings_back_content_modes_links_and_removes_new_files(app, workspace):
    put(workspace, "src/a.py", "one\n")
    put(workspace, "run.sh", "#!/bin/sh\n", 0o755)
    os.symlink("src/a.py", workspace / "alias")
    cid = app.checkpoints.create(label="start", note="before experiments")
    put(workspace, "src/a.py", "two\n")
    os.chmod(workspace / "run.sh", 0o644)
    (workspace / "alias").unlink()
    os.symlink("run.sh", workspace / "alias")
    put(workspace, "src/new.py", "new\n")

    statuses = {d.path: d.status for d in app.checkpoints.diff(cid)}
    assert statuses == {"src/a.py": "modified", "run.sh": "mode", "alias": "modified", "src/new.py": "added"}
    result = app.checkpoints.restore(cid)
    assert (workspace / "src/a.py").read_text() == "one\n"
    assert stat.S_IMODE((workspace / "run.sh").stat().st_mode) == 0o755
    assert os.readlink(workspace / "alias") == "src/a.py"
    assert not (workspace / "src/new.py").exists()
    assert sorted(result.deleted) == ["src/new.py"]
    assert app.checkpoints.diff(cid) == []
    info = app.checkpoints.list()[-1]
    assert (info.id, info.label, info.note, info.auto) == (cid, "start", "before experiments", False)

    # The restore is undoable: its safety checkpoint holds the state before it.
    app.checkpoints.undo_last_restore()
    assert (workspace / "src/a.py").read_text() == "two\n"
    assert (workspace / "src/new.py").read_text() == "new\n"
    assert os.readlink(workspace / "alias") == "run.sh"


def test_untouched_files_keep_their_mtime(app, workspace):
    for n in range(20):
        put(workspace, f"f{n}.txt", f"{n}\n")
    old = time.time_ns() - 10_000_000_000
    for n in range(20):
        os.utime(workspace / f"f{n}.txt", ns=(old, old))
    cid = app.checkpoints.create(label="base")
    put(workspace, "f3.txt", "changed\n")
    result = app.checkpoints.restore(cid)
    assert result.written == ["f3.txt"]
    for n in range(20):
        if n != 3:
            assert (workspace / f"f{n}.txt").stat().st_mtime_ns == old


def test_ignored_files_are_never_deleted_but_covered_ones_are_restored(app, workspace):
    put(workspace, ".gitignore", "*.log\nbuild/\n")
    put(workspace, "keep.txt", "k")
    put(workspace, "touched.log", "before")
    cid = app.checkpoints.create(label="op", paths=["touched.log", "created.log"], auto=True)
    put(workspace, "other.log", "untracked ignored file")
    put(workspace, "build/out.bin", b"\0\1")
    put(workspace, "touched.log", "after")
    put(workspace, "created.log", "made by the operation")
    app.checkpoints.restore(cid)
    assert (workspace / "touched.log").read_text() == "before"
    assert not (workspace / "created.log").exists()          # covered as absent by the checkpoint
    assert (workspace / "other.log").read_text() == "untracked ignored file"
    assert (workspace / "build/out.bin").read_bytes() == b"\0\1"


def test_files_ignored_when_checkpointed_survive_a_rule_change(app, workspace):
    put(workspace, ".gitignore", "data/\n")
    put(workspace, "data/big.csv", "1,2\n")
    cid = app.checkpoints.create(label="with data ignored")
    put(workspace, ".gitignore", "")      # now data/ is no longer ignored
    app.checkpoints.restore(cid)
    assert (workspace / ".gitignore").read_text() == "data/\n"
    assert (workspace / "data/big.csv").read_text() == "1,2\n"


def test_selected_paths_only(app, workspace):
    put(workspace, "a.txt", "a1")
    put(workspace, "d/b.txt", "b1")
    cid = app.checkpoints.create()
    put(workspace, "a.txt", "a2")
    put(workspace, "d/b.txt", "b2")
    put(workspace, "d/c.txt", "c2")
    result = app.checkpoints.restore(cid, paths=["d"])
    assert (workspace / "a.txt").read_text() == "a2"
    assert (workspace / "d/b.txt").read_text() == "b1"
    assert not (workspace / "d/c.txt").exists()
    assert result.written == ["d/b.txt"] and result.deleted == ["d/c.txt"]


def test_files_over_the_size_cap_are_recorded_but_not_restorable(app, workspace):
    app.settings._merged["checkpoints.max_file_bytes"] = 100
    put(workspace, "big.bin", b"x" * 1000)
    put(workspace, "small.txt", "s")
    cid = app.checkpoints.create()
    item = app.checkpoints.items(cid)["big.bin"]
    assert (item.kind, item.size, item.restorable) == ("x", 1000, False)
    assert not app.checkpoints.store.has(item.ref)
    put(workspace, "big.bin", b"y" * 1000)
    put(workspace, "small.txt", "t")
    result = app.checkpoints.restore(cid)
    assert (workspace / "small.txt").read_text() == "s"
    assert (workspace / "big.bin").read_bytes() == b"y" * 1000
    assert len(result.skipped) == 1 and "big.bin" in result.skipped[0] and "size cap" in result.skipped[0]


def test_damaged_checkpoint_is_reported_and_refused(app, workspace):
    put(workspace, "a.txt", "precious")
    put(workspace, "b.txt", "other")
    cid = app.checkpoints.create()
    digest = app.checkpoints.items(cid)["a.txt"].ref
    obj = app.checkpoints.store.path(digest)
    os.chmod(obj, 0o644)
    obj.write_bytes(b"bit rot")
    problems = app.checkpoints.verify()
    assert len(problems) == 1 and cid in problems[0] and "does not match its hash" in problems[0]
    put(workspace, "a.txt", "now")
    put(workspace, "b.txt", "changed")
    with pytest.raises(CheckpointDamaged, match="a.txt.*nothing was restored"):
        app.checkpoints.restore(cid)
    assert (workspace / "a.txt").read_text() == "now"
    assert (workspace / "b.txt").read_text() == "changed"


def test_permission_denied_during_restore_changes_nothing(app, workspace, monkeypatch):
    put(workspace, "a.txt", "a1")
    put(workspace, "b.txt", "b1")
    put(workspace, "c.txt", "c1")
    cid = app.checkpoints.create()
    put(workspace, "a.txt", "a2")
    put(workspace, "b.txt", "b2")
    put(workspace, "c.txt", "c2")
    put(workspace, "d.txt", "new")
    real_replace = os.replace

    def replace_refusing_b(src, dst, *args, **kwargs):   # simulates EACCES on b.txt only (tests run as root)
        if Path(dst).name == "b.txt":
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace_refusing_b)
    with pytest.raises(WriteError, match=r"b\.txt.*Permission denied.*nothing was changed"):
        app.checkpoints.restore(cid)
    monkeypatch.setattr(os, "replace", real_replace)
    assert [(workspace / n).read_text() for n in ("a.txt", "b.txt", "c.txt", "d.txt")] == ["a2", "b2", "c2", "new"]
    assert not [p for p in workspace.iterdir() if p.name.startswith(".marie-tmp-")]
    app.checkpoints.restore(cid)   # once the cause is gone the same restore succeeds
    assert [(workspace / n).read_text() for n in ("a.txt", "b.txt", "c.txt")] == ["a1", "b1", "c1"]


def test_folder_replaced_by_a_file_gives_a_clear_error(app, workspace):
    put(workspace, "pkg/mod.py", "x")
    put(workspace, "z.txt", "z1")
    cid = app.checkpoints.create()
    (workspace / "pkg/mod.py").unlink()
    (workspace / "pkg").rmdir()
    put(workspace, "pkg", "now a file")
    put(workspace, "z.txt", "z2")
    with pytest.raises(WriteError, match="nothing was changed"):
        app.checkpoints.restore(cid)
    assert (workspace / "pkg").read_text() == "now a file"
    assert (workspace / "z.txt").read_text() == "z2"


def test_write_path_checkpoints_first_and_is_all_or_nothing(app, workspace, monkeypatch):
    put(workspace, "a.txt", "a1")
    put(workspace, "b.txt", "b1")
    events = []
    app.events.on(FilesWritten, lambda event: events.append((sorted(p.name for p in event.paths), event.label)))
    result = app.writes.apply([FileChange.write("a.txt", b"a2"), FileChange.write("n.txt", b"n")], "composer 'x'")
    assert events == [(["a.txt", "n.txt"], "composer 'x'")]
    info = app.checkpoints.info(result.checkpoint_id)
    assert info.label == "before: composer 'x'" and info.auto
    app.checkpoints.restore(result.checkpoint_id)
    assert (workspace / "a.txt").read_text() == "a1" and not (workspace / "n.txt").exists()

    from marie.core import atomic
    real = atomic.write_bytes
    calls = []

    def failing(path, data, mode=None, **kw):   # fails on the third file of the change set
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(path))
        return real(path, data, mode, **kw)

    monkeypatch.setattr(atomic, "write_bytes", failing)
    changes = [FileChange.write("a.txt", b"A"), FileChange.remove("b.txt"), FileChange.write("c.txt", b"C"),
               FileChange.write("d.txt", b"D")]
    with pytest.raises(WriteError, match="No space left"):
        app.writes.apply(changes, "replace in files")
    monkeypatch.setattr(atomic, "write_bytes", real)
    assert (workspace / "a.txt").read_text() == "a1"
    assert (workspace / "b.txt").read_text() == "b1"
    assert not (workspace / "c.txt").exists() and not (workspace / "d.txt").exists()


def test_retention_keeps_last_n_and_pinned_and_gc_frees_objects(app, workspace):
    app.settings._merged["checkpoints.keep_last"] = 3
    ids = []
    for n in range(6):
        put(workspace, "f.txt", f"version {n}" * 50)
        ids.append(app.checkpoints.create(label=f"v{n}"))
        if n == 0:
            app.checkpoints.pin(ids[0])
    listed = [i.id for i in app.checkpoints.list()]
    assert listed == [ids[5], ids[4], ids[3], ids[0]]   # newest first, pinned v0 kept
    stats = app.checkpoints.gc()
    assert stats["removed_objects"] >= 2
    assert app.checkpoints.verify() == []
    app.checkpoints.restore(ids[0])
    assert (workspace / "f.txt").read_text() == "version 0" * 50
    (app.checkpoints.store.tmp / "obj-stray").write_bytes(b"half")
    assert app.checkpoints.gc()["stray_temp_files"] == 1


def test_unknown_and_ambiguous_ids(app, workspace):
    put(workspace, "a", "1")
    app.checkpoints.create()
    with pytest.raises(CheckpointError, match="no checkpoint"):
        app.checkpoints.restore("nope")


def test_store_is_outside_the_workspace_and_git_untouched(app, workspace):
    import subprocess

    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    put(workspace, "a.txt", "1")
    subprocess.run(["git", "-C", str(workspace), "add", "a.txt"], check=True)
    before = {p: p.read_bytes() for p in (workspace / ".git").rglob("*") if p.is_file()}
    cid = app.checkpoints.create()
    put(workspace, "a.txt", "2")
    app.checkpoints.restore(cid)
    after = {p: p.read_bytes() for p in (workspace / ".git").rglob("*") if p.is_file()}
    assert before == after
    assert workspace not in app.checkpoints.base.parents
    assert ".git/HEAD" not in app.checkpoints.items(cid)


def test_stat_cache_avoids_rereading_unchanged_files(app, workspace):
    for n in range(30):
        put(workspace, f"f{n}", str(n))
    old = time.time_ns() - 10_000_000_000
    for n in range(30):
        os.utime(workspace / f"f{n}", ns=(old, old))
    app.checkpoints.create()
    capturer = app.checkpoints._capturer()
    assert capturer.capture(None).hashed == 0
    put(workspace, "f7", "changed")
    assert capturer.capture(None).hashed == 1


def test_two_processes_share_the_store_safely(workspace, tmp_path):
    import subprocess
    import sys

    put(workspace, "a.txt", "x")
    code = ("import sys; from marie.app import App\n"
            "a = App(sys.argv[1])\n"
            "for n in range(15): a.checkpoints.create(label=f'p{sys.argv[2]}-{n}')\n"
            "a.close()\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(workspace), str(k)]) for k in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    from marie.app import App

    with App(workspace) as app:
        infos = app.checkpoints.list()
        assert len(infos) == 45 and len({i.id for i in infos}) == 45
        assert app.checkpoints.verify() == []
