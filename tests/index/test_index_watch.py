"""The live watcher on real folders: real inotify events through watchdog's InotifyFD."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from marie.core.event_types import FilesWritten, IndexChanged, Notice


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def started(app):
    app.index.start().result(10)
    assert app.index.watcher is not None
    return app.index


def test_watcher_sees_adds_modifies_removes_and_renames(app, workspace: Path) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "a.py").write_text("a = 1\n")
    (workspace / ".gitignore").write_text("build/\n")
    (workspace / "build").mkdir()
    index = started(app)
    changes_seen = []
    app.events.on(IndexChanged, lambda event: changes_seen.append(event.changes))
    assert "build" not in index.watcher.watched()   # ignored folders are never watched
    assert "src" in index.watcher.watched()

    (workspace / "src" / "new.py").write_text("x = 1\n")
    assert wait_for(lambda: "src/new.py" in index.snapshot())

    (workspace / "src" / "a.py").write_text("a = 12345\n")
    assert wait_for(lambda: index.snapshot().get("src/a.py").size == len("a = 12345\n"))

    os.rename(workspace / "src" / "new.py", workspace / "src" / "renamed.py")
    assert wait_for(lambda: "src/renamed.py" in index.snapshot() and "src/new.py" not in index.snapshot())

    (workspace / "src" / "renamed.py").unlink()
    assert wait_for(lambda: "src/renamed.py" not in index.snapshot())

    # A whole folder created at once (the files land before its watch exists) is picked up.
    nested = workspace / "pkg" / "deep"
    nested.mkdir(parents=True)
    (nested / "m.py").write_text("m = 1\n")
    assert wait_for(lambda: "pkg/deep/m.py" in index.snapshot())
    assert wait_for(lambda: "pkg/deep" in index.watcher.watched())
    (nested / "later.py").write_text("later\n")
    assert wait_for(lambda: "pkg/deep/later.py" in index.snapshot())

    # Folder rename: the subtree moves, and later events under the new name are seen.
    os.rename(workspace / "pkg", workspace / "lib")
    assert wait_for(lambda: "lib/deep/m.py" in index.snapshot() and "pkg/deep/m.py" not in index.snapshot())
    (workspace / "lib" / "deep" / "after.py").write_text("after\n")
    assert wait_for(lambda: "lib/deep/after.py" in index.snapshot())

    shutil.rmtree(workspace / "lib")
    assert wait_for(lambda: not any(p.startswith("lib") for p in index.snapshot().entries))

    # Files in ignored folders never show up.
    (workspace / "build" / "out.o").write_text("junk")
    (workspace / "src" / "marker.py").write_text("m\n")
    assert wait_for(lambda: "src/marker.py" in index.snapshot())
    assert "build/out.o" not in index.snapshot()
    assert changes_seen and all(isinstance(c, tuple) for c in changes_seen)


def test_changed_ignore_rules_rescan(app, workspace: Path) -> None:
    (workspace / "keep.txt").write_text("k")
    (workspace / "drop.log").write_text("d")
    index = started(app)
    assert "drop.log" in index.snapshot()
    (workspace / ".gitignore").write_text("*.log\n")
    assert wait_for(lambda: "drop.log" not in index.snapshot() and ".gitignore" in index.snapshot())
    assert "keep.txt" in index.snapshot()


def test_overflow_rescans_and_tells_the_user_once(app, workspace: Path) -> None:
    (workspace / "a.py").write_text("a\n")
    index = app.index
    index.scan()
    # Files created while nothing watched: only a rescan can find them (as after a lost queue).
    (workspace / "missed").mkdir()
    (workspace / "missed" / "lost.py").write_text("lost\n")
    watcher = index.start_watcher()
    notices = []
    app.events.on(Notice, lambda event: notices.append((event.message, event.level)))
    generation = index.snapshot().generation
    watcher.on_queue_overflow()          # what InotifyFD calls on IN_Q_OVERFLOW
    assert wait_for(lambda: "missed/lost.py" in index.snapshot())
    assert index.snapshot().generation > generation
    assert wait_for(lambda: "missed" in watcher.watched())   # the rescan re-synced the watches
    watcher.on_queue_overflow()
    assert wait_for(lambda: watcher.idle())
    assert len(notices) == 1 and "overflow" in notices[0][0] and notices[0][1] == "warning"
    # Events keep flowing after the repair (no overflow loop).
    (workspace / "missed" / "after.py").write_text("x\n")
    assert wait_for(lambda: "missed/after.py" in index.snapshot())


def test_watch_limit_falls_back_to_polling(app, workspace: Path, monkeypatch) -> None:
    """The kernel's watch limit (ENOSPC from inotify_add_watch) is simulated by making the second
    add_callback fail like the kernel does; the service must switch to polling and say so once."""
    import errno

    from watchdog.observers.inotify_c import InotifyFD

    (workspace / "one").mkdir()
    (workspace / "two").mkdir()
    app.settings._merged["index.poll_seconds"] = 1   # poll fast in this test only
    real_add = InotifyFD.add_callback
    calls = {"n": 0}

    def add_callback_hitting_limit(self, path, mask, callback, id_):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")
        return real_add(self, path, mask, callback, id_)

    monkeypatch.setattr(InotifyFD, "add_callback", add_callback_hitting_limit)
    index = started(app)
    assert index.watcher.limited
    assert any("watch limit" in n for n in index.notices)
    # The notice says how to fix it: the sysctl command with a value above what is needed.
    assert any("sudo sysctl fs.inotify.max_user_watches=" in n and "folders to watch" in n for n in index.notices)
    (workspace / "two" / "unwatched.py").write_text("u\n")
    assert wait_for(lambda: "two/unwatched.py" in index.snapshot(), timeout=6)


def test_files_written_through_write_path_refresh_at_once(app, workspace: Path) -> None:
    app.index.scan()
    (workspace / "w.py").write_text("w\n")
    app.events.publish(FilesWritten((), "test", paths=(workspace / "w.py",)))
    assert "w.py" in app.index.snapshot()


def test_chmod_and_same_size_same_mtime_edit_are_reported(app, workspace: Path) -> None:
    """A bare chmod (inotify IN_ATTRIB) and an edit that restores size and mtime both reach
    ``index.changed`` as "modified" (the checkpoints' dirty set relies on it)."""
    (workspace / "run.sh").write_text("echo 1\n")
    os.chmod(workspace / "run.sh", 0o644)
    (workspace / "data.txt").write_text("same size 1")
    index = started(app)
    assert index.snapshot().get("run.sh").mode == 0o644
    seen: list[tuple[str, str]] = []
    app.events.on(IndexChanged, lambda event: seen.extend((c.kind, c.path) for c in event.changes))

    os.chmod(workspace / "run.sh", 0o755)
    assert wait_for(lambda: index.snapshot().get("run.sh").mode == 0o755)
    assert wait_for(lambda: ("modified", "run.sh") in seen)   # announced right after the swap

    st = os.stat(workspace / "data.txt")
    (workspace / "data.txt").write_text("same size 2")
    os.utime(workspace / "data.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert wait_for(lambda: ("modified", "data.txt") in seen)
    entry = index.snapshot().get("data.txt")
    assert (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_rescan_diff_reports_a_chmod(app, workspace: Path) -> None:
    """Without a watcher, a full rescan's diff names the file whose permissions changed."""
    (workspace / "tool.py").write_text("print(1)\n")
    (workspace / "other.py").write_text("x\n")
    os.chmod(workspace / "tool.py", 0o600)
    app.index.scan()
    os.chmod(workspace / "tool.py", 0o700)
    seen: list = []
    app.events.on(IndexChanged, lambda event: seen.append([(c.kind, c.path) for c in event.changes]))
    snap = app.index.scan()
    assert snap.get("tool.py").mode == 0o700
    assert seen[-1] == [("modified", "tool.py")]


def test_external_folder_rename_reaches_index_changed_as_a_rename(app, workspace: Path) -> None:
    from marie.index.snapshot import renames

    (workspace / "pkg" / "deep").mkdir(parents=True)
    (workspace / "pkg" / "a.py").write_text("a\n")
    (workspace / "pkg" / "deep" / "b.py").write_text("b\n")
    os.symlink("a.py", workspace / "pkg" / "link.py")
    (workspace / "other").mkdir()
    (workspace / "solo.txt").write_text("s\n")
    index = started(app)
    assert index.snapshot().get("pkg/link.py").kind == "symlink"
    seen: list = []
    app.events.on(IndexChanged, lambda event: seen.extend(event.changes))

    os.rename(workspace / "pkg", workspace / "lib")                 # outside the IDE
    assert wait_for(lambda: "lib/deep/b.py" in index.snapshot() and "pkg" not in index.snapshot())
    assert wait_for(lambda: ("pkg", "lib") in renames(seen))
    moved = dict(renames(seen))
    assert moved == {"pkg": "lib", "pkg/a.py": "lib/a.py", "pkg/deep": "lib/deep",
                     "pkg/deep/b.py": "lib/deep/b.py", "pkg/link.py": "lib/link.py"}
    gone = {c.path: c.moved_to for c in seen if c.kind == "removed"}
    assert gone["pkg/deep/b.py"] == "lib/deep/b.py"                  # both ends are linked
    assert index.snapshot().get("lib/link.py").kind == "symlink"    # a symlink stays a symlink

    seen.clear()
    os.rename(workspace / "solo.txt", workspace / "other" / "solo.txt")   # a file moved across folders
    assert wait_for(lambda: renames(seen) == [("solo.txt", "other/solo.txt")])

    seen.clear()
    outside = workspace.parent / f"{workspace.name}-outside"
    os.rename(workspace / "lib", outside)                           # moved out: a plain removal
    try:
        assert wait_for(lambda: "lib" not in index.snapshot())
        assert wait_for(lambda: any(c.path == "lib/a.py" for c in seen))
        assert renames(seen) == [] and all(c.moved_to is None for c in seen)
    finally:
        shutil.rmtree(outside, ignore_errors=True)
