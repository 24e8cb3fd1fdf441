"""Incremental checkpoints fed by the index's real watcher (the dirty set), and the full walk when
no watcher feeds it (the CLI)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from marie.workspace.writes import FileChange


def put(root: Path, rel: str, data: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)


def start_index(app) -> None:
    app.index.start().future.result(timeout=30)
    assert app.index.wait_idle(10)


def wait_until_dirty(app, rels: set[str], timeout: float = 10.0) -> None:
    """Wait until the watcher delivered events for ``rels`` (real inotify events, debounced)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.index.wait_idle(timeout)
        with app.checkpoints._feed._lock:
            if rels <= app.checkpoints._feed._paths:
                return
        time.sleep(0.02)
    raise AssertionError(f"the watcher never reported {rels}")


def full_walk_root(workspace: Path) -> str:
    """The root tree a fresh process (no index, a full walk) computes for the same disk."""
    code = ("import sys; from marie.app import App\n"
            "with App(sys.argv[1]) as a:\n"
            "    cid = a.checkpoints.create(label='walk')\n"
            "    print(a.checkpoints.store.read_manifest(cid)['root'], a.checkpoints.last_mode)\n")
    import sys
    out = subprocess.run([sys.executable, "-c", code, str(workspace)], capture_output=True, text=True,
                         timeout=60, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    root, mode = out.stdout.split()
    assert mode == "full"
    return root


def test_watcher_events_feed_the_next_checkpoint(app, workspace):
    put(workspace, ".gitignore", "*.log\n")
    for n in range(30):
        put(workspace, f"pkg{n % 3}/m{n}.py", f"v1 {n}\n")
    put(workspace, "gone/x.txt", "x")
    start_index(app)
    cps = app.checkpoints
    base = cps.create(label="baseline")
    assert cps.last_mode == "full"

    put(workspace, "pkg1/m1.py", "v2 edited outside MarieIDE\n")
    put(workspace, "new/deep/n.py", "new\n")
    (workspace / "gone/x.txt").unlink()
    (workspace / "gone").rmdir()
    put(workspace, "debug.log", "ignored")
    wait_until_dirty(app, {"pkg1/m1.py", "new/deep/n.py", "gone/x.txt"})
    cid = cps.create(label="after edits")
    assert cps.last_mode == "incremental"

    items = cps.items(cid)
    assert cps.store.get(items["pkg1/m1.py"].ref) == b"v2 edited outside MarieIDE\n"
    assert "new/deep/n.py" in items and "gone/x.txt" not in items and "debug.log" not in items
    assert {d.path: d.status for d in cps.diff(base, cid)} == {
        "pkg1/m1.py": "modified", "new/deep/n.py": "added", "gone/x.txt": "deleted"}
    assert cps.info(cid).files_changed == 3
    # Merkle state and a fresh full walk agree to the byte: same root tree hash.
    assert cps.store.read_manifest(cid)["root"] == full_walk_root(workspace)

    # Restore goes back through the incremental path too, and the watcher sees its writes.
    result = cps.restore(base)
    assert sorted(result.written) == ["gone/x.txt", "pkg1/m1.py"] and result.deleted == ["new/deep/n.py"]
    assert (workspace / "pkg1/m1.py").read_text() == "v1 1\n" and not (workspace / "new").exists()
    assert cps.diff(base) == []
    again = cps.create(label="after restore")
    assert cps.store.read_manifest(again)["root"] == cps.store.read_manifest(base)["root"]


def test_undelivered_change_is_still_saved_before_restore_and_write(app, workspace):
    put(workspace, "a.txt", "1")
    put(workspace, "b.txt", "b1")
    start_index(app)
    cps = app.checkpoints
    first = cps.create(label="first")
    put(workspace, "a.txt", "2")
    wait_until_dirty(app, {"a.txt"})
    cps.create(label="second")
    assert cps.last_mode == "incremental"

    app.index.watcher.pause()          # events now wait in the watcher: the dirty set misses them
    put(workspace, "a.txt", "3 (never reported)")
    put(workspace, "b.txt", "b2 (never reported)")
    result = app.writes.apply([FileChange.write("b.txt", b"b3")], "composer 'x'")
    # The write path re-stats what it touches: its checkpoint holds the unreported content.
    held = cps.items(result.checkpoint_id)
    assert cps.store.get(held["b.txt"].ref) == b"b2 (never reported)"

    restored = cps.restore(first)
    assert (workspace / "a.txt").read_text() == "1" and (workspace / "b.txt").read_text() == "b1"
    # The restore re-stat'ed the files it wrote, so its safety checkpoint has the unreported text.
    safety = cps.items(restored.safety_checkpoint_id)
    assert cps.store.get(safety["a.txt"].ref) == b"3 (never reported)"
    app.index.watcher.resume()
    cps.undo_last_restore()
    assert (workspace / "a.txt").read_text() == "3 (never reported)"
    assert (workspace / "b.txt").read_text() == "b3"


def test_cli_full_walk_catches_a_change_made_while_no_watcher_ran(workspace):
    from marie.app import App

    put(workspace, "a.txt", "same size 1")
    put(workspace, "b.txt", "b")
    with App(workspace) as app:
        start_index(app)
        base = app.checkpoints.create(label="live")
    # The app (and its watcher) is gone; the file changes, keeping its size and mtime.
    st = os.stat(workspace / "a.txt")
    put(workspace, "a.txt", "same size 2")
    os.utime(workspace / "a.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
    made = subprocess.run(["marie", "checkpoint", "create", "--label", "cli"], cwd=workspace,
                          capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert made.returncode == 0, made.stderr
    cid = made.stdout.split()[0]
    with App(workspace) as app:
        assert [(d.path, d.status, d.new) for d in app.checkpoints.diff(base, cid)] == [
            ("a.txt", "modified", b"same size 2")]


def test_random_edits_incremental_tree_equals_a_full_walk(app, workspace, tmp_path):
    """Seeded random file operations seen only through the watcher: after each round the
    incremental checkpoint's root tree is exactly what a full walk of the disk builds.
    (A chmod alone is the documented exception: see marie/checkpoints/dirty.py.)"""
    import random
    import shutil

    from marie.checkpoints.capture import Capturer, StatCache, build_trees
    from marie.checkpoints.store import ObjectStore
    from marie.index.ignore import matcher_for

    rng = random.Random(5)
    put(workspace, ".gitignore", "*.log\nout/\n")
    names = [f"{d}{n}.txt" for d in ("", "a/", "a/b/", "c/", "out/", "c/d/e/") for n in range(3)] + ["x.log", "a/y.log"]
    for name in names[:6]:
        put(workspace, name, "seed")
    start_index(app)
    cps = app.checkpoints
    cps.create(label="baseline")
    scratch = ObjectStore(tmp_path / "scratch-store")
    for round_ in range(12):
        for _ in range(rng.randint(1, 6)):
            rel = rng.choice(names)
            path = workspace / rel
            action = rng.random()
            if action < 0.5:
                if path.is_symlink():
                    path.unlink()   # write a file in its place, never through the link
                put(workspace, rel, f"r{round_} {rng.random()}")
            elif action < 0.65 and path.exists() and not path.is_symlink():
                # A mode change alone is not in the index's changes (its entries hold size and
                # mtime only); written together with content it is.
                os.chmod(path, rng.choice([0o600, 0o644, 0o755]))
                put(workspace, rel, f"r{round_} chmod {rng.random()}")
            elif action < 0.75 and not os.path.lexists(path):
                path.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(rng.choice(names), path)
            elif action < 0.9 and (path.exists() or path.is_symlink()):
                path.unlink()
            else:
                folder = workspace / rel.rpartition("/")[0] if "/" in rel else None
                if folder is not None and folder.is_dir():
                    shutil.rmtree(folder)
        time.sleep(0.25)
        assert app.index.wait_idle(10)
        cid = cps.create(label=f"round {round_}")
        assert cps.last_mode == "incremental"
        walked = Capturer(workspace, matcher_for(workspace, app.settings), StatCache(tmp_path / "sc"), 1 << 20)
        walk = walked.capture(scratch).items
        expected = build_trees(scratch, walk)
        scratch.discard_pending()
        got = cps.items(cid)
        assert {k: v for k, v in got.items() if walk.get(k) != v} == {}, f"round {round_}: extra or stale"
        assert [k for k in walk if k not in got] == [], f"round {round_}: missing"
        assert cps.store.read_manifest(cid)["root"] == expected, f"round {round_}"
