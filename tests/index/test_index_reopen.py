"""Reopening a project from its stored snapshot (``snapshot_store`` + ``reopen``), on real folders.

Every reopened snapshot is compared with what a fresh walk of the same tree gives: a change made
while MarieIDE was closed must show, and a store that is missing, corrupt or truncated, or rules that
changed, must lead to a walk, never to a wrong tree. The racy-stat margin is shortened (the test
folders live on tmpfs/ext4, whose timestamps tick in milliseconds) and the trees are left to age past
it before the first scan, so that folders are really trusted from the store.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marie.app import App
from marie.index import reopen
from marie.index.compact import CompactEntries
from marie.index.ignore import matcher_for
from marie.index.scan import walk
from marie.index.snapshot import Entry, Snapshot
from tests.index.test_index_scan import write

MARGIN_NS = 20_000_000
REAL_RACY_NS = reopen.RACY_NS


@pytest.fixture(autouse=True)
def short_racy_margin(monkeypatch):
    monkeypatch.setattr(reopen, "RACY_NS", MARGIN_NS)


def tree(root: Path) -> None:
    write(root, ".gitignore", "*.log\nbuild/\n")
    for rel in ("a.py", "keep.txt", "x.log", "build/out.bin", "src/ok.py", "src/mod/deep.py", "src/mod/b.py",
                "docs/readme.md", "gone/one.py", "gone/sub/two.py", "kind/flip", "vendor/keep/me.go"):
        write(root, rel)
    write(root, "vendor/.ignore", "drop/\n")
    write(root, "vendor/drop/me.go")
    (root / "empty/inner").mkdir(parents=True)
    (root / "dangling").symlink_to(root / "nowhere")
    time.sleep(2 * MARGIN_NS / 1e9)       # older than the racy margin: the store may trust them


def fresh_walk(app: App) -> dict[str, Entry]:
    matcher = matcher_for(app.root, app.settings)
    return {e.path: e for e in walk(app.root, matcher)}


def open_scan(workspace: Path) -> tuple[dict[str, Entry], dict, dict[str, Entry]]:
    """A new App's first scan: (its entries, how it got them, a fresh walk's entries)."""
    with App(workspace) as app:
        app.settings._merged["index.symbols"] = False
        snap = app.index.scan()
        return dict(snap.entries), dict(app.index.last_open), fresh_walk(app)


def first_open(workspace: Path) -> Path:
    with App(workspace) as app:
        app.settings._merged["index.symbols"] = False
        app.index.scan()
        assert app.index.last_open["from"] == "walk"
        store = app.index._store_path()
    assert store.is_file()
    return store


def test_unchanged_tree_reopens_from_the_store_without_listing_a_folder(workspace: Path) -> None:
    tree(workspace)
    first_open(workspace)
    entries, how, walked = open_scan(workspace)
    assert how["from"] == "store" and how["relisted_folders"] == 0 and how["trusted_folders"] >= 8
    assert entries == walked
    assert "build/out.bin" not in entries and "vendor/drop" not in entries and entries["dangling"].kind == "symlink"


def test_changes_made_while_closed_show_on_reopen(workspace: Path) -> None:
    tree(workspace)
    first_open(workspace)
    # While MarieIDE is closed:
    write(workspace, "src/ok.py", "edited in place, longer\n")          # a file's own stat only
    same = workspace / "docs/readme.md"
    before = same.stat()
    same.write_text("y\n")                                              # same size, mtime put back
    os.utime(same, ns=(before.st_atime_ns, before.st_mtime_ns))
    write(workspace, "src/mod/new.py")                                  # added to a known folder
    write(workspace, "fresh/pkg/n.py")                                  # a whole new subtree
    write(workspace, "fresh/pkg/z.log")                                 # ... with an ignored file
    for rel in ("gone/sub/two.py", "gone/one.py"):
        (workspace / rel).unlink()
    (workspace / "gone/sub").rmdir()
    (workspace / "gone").rmdir()                                        # a folder removed
    (workspace / "kind/flip").unlink()
    write(workspace, "kind/flip/inside.py")                             # a file became a folder
    os.chmod(workspace / "a.py", 0o600)                                 # a bare chmod
    (workspace / "empty/inner").rmdir()
    entries, how, walked = open_scan(workspace)
    assert how["from"] == "store"
    assert entries == walked
    assert entries["src/ok.py"].size == len("edited in place, longer\n")
    assert entries["docs/readme.md"].ctime_ns != before.st_ctime_ns
    assert "src/mod/new.py" in entries and "fresh/pkg/n.py" in entries and "fresh/pkg/z.log" not in entries
    assert not any(p == "gone" or p.startswith("gone/") for p in entries)
    assert entries["kind/flip"].kind == "dir" and "kind/flip/inside.py" in entries
    assert entries["a.py"].mode == 0o600 and "empty/inner" not in entries
    assert 0 < how["relisted_folders"] < how["trusted_folders"] + how["relisted_folders"]


@pytest.mark.parametrize("damage", ["deleted", "truncated", "flipped byte", "garbage", "empty"])
def test_a_missing_or_damaged_store_falls_back_to_a_walk(workspace: Path, damage: str) -> None:
    tree(workspace)
    store = first_open(workspace)
    data = store.read_bytes()
    if damage == "deleted":
        store.unlink()
    elif damage == "truncated":
        store.write_bytes(data[: len(data) // 2])
    elif damage == "flipped byte":
        store.write_bytes(data[:100] + bytes([data[100] ^ 0x20]) + data[101:])
    elif damage == "garbage":
        store.write_bytes(os.urandom(len(data)))
    else:
        store.write_bytes(b"")
    write(workspace, "src/after.py")
    entries, how, walked = open_scan(workspace)
    assert how["from"] == "walk" and how["reason"]
    assert entries == walked and "src/after.py" in entries
    # The walk stored a good snapshot again: the next open uses it.
    _entries, how, _walked = open_scan(workspace)
    assert how["from"] == "store"


def test_rule_changes_while_closed_fall_back_to_a_walk(workspace: Path) -> None:
    tree(workspace)
    first_open(workspace)
    write(workspace, ".gitignore", "*.log\n")                      # build/ is no longer ignored
    entries, how, walked = open_scan(workspace)
    assert how["from"] == "walk" and "ignore file changed" in how["reason"]
    assert entries == walked and "build/out.bin" in entries
    time.sleep(2 * MARGIN_NS / 1e9)
    write(workspace, "src/.gitignore", "ok.py\n")                  # a new ignore file in a known folder
    entries, how, walked = open_scan(workspace)
    assert how["from"] == "walk" and entries == walked and "src/ok.py" not in entries
    time.sleep(2 * MARGIN_NS / 1e9)
    with App(workspace) as app:                                    # the user's excludes changed
        app.settings._merged["index.symbols"] = False
        app.settings._merged["files.exclude"] = [*app.settings.get("files.exclude"), "docs"]
        app.index.matcher = matcher_for(app.root, app.settings)
        snap = app.index.scan()
        assert app.index.last_open["from"] == "walk" and "docs/readme.md" not in snap


def test_freshly_changed_folders_and_ignore_files_are_not_trusted(workspace: Path, monkeypatch) -> None:
    # With the real margin, a folder (or ignore file) changed within it of the scan is not trusted:
    # a change made in the same clock tick as the stored stat would leave the stat unchanged.
    monkeypatch.setattr(reopen, "RACY_NS", REAL_RACY_NS)
    for rel in ("src/a.py", "src/mod/b.py", "c.txt"):
        write(workspace, rel)
    first_open(workspace)
    write(workspace, "src/late.py")
    entries, how, walked = open_scan(workspace)
    assert how["from"] == "store" and how["trusted_folders"] == 0 and how["relisted_folders"] == 3
    assert entries == walked and "src/late.py" in entries
    write(workspace, ".gitignore", "*.txt\n")
    first_open_again = open_scan(workspace)[1]
    assert first_open_again["from"] == "walk"
    _entries, how, _walked = open_scan(workspace)
    assert how["from"] == "walk" and "ignore file changed" in how["reason"]   # read moments ago


def test_the_window_path_stores_after_start_and_reopens(workspace: Path) -> None:
    tree(workspace)
    with App(workspace) as app:
        app.settings._merged["index.symbols"] = False
        app.settings._merged["index.watch"] = False
        app.index.start().result(30)
        assert app.index.last_open["from"] == "walk"
    write(workspace, "src/while_closed.py")
    with App(workspace) as app:
        app.settings._merged["index.symbols"] = False
        app.settings._merged["index.watch"] = False
        snap = app.index.start().result(30)
        assert app.index.last_open["from"] == "store" and snap.complete
        assert "src/while_closed.py" in snap and dict(snap.entries) == fresh_walk(app)


def test_compact_snapshot_apply_matches_a_dict_snapshot() -> None:
    rng = random.Random(5)
    entries = [Entry(f"d{i % 7}", "dir") for i in range(7)] + [
        Entry(f"d{i % 7}/f{i}.py", "file", i, i * 10, 0o644, i) for i in range(300)]
    compact = Snapshot(CompactEntries.of(entries))
    plain = Snapshot({e.path: e for e in entries})
    for step in range(40):
        ups = [Entry(f"d{rng.randrange(9)}/f{rng.randrange(400)}.py", "file", step, rng.randrange(3), 0o644, 1)
               for _ in range(rng.randrange(6))]
        ups += [Entry(f"d{rng.randrange(9)}", "dir")]
        gone = [rng.choice(list(plain.entries)) for _ in range(rng.randrange(3))] if plain.entries else []
        compact, c_changes = compact.apply(ups, gone)
        plain, p_changes = plain.apply(ups, gone)
        assert c_changes == p_changes
        assert dict(compact.entries) == dict(plain.entries) and len(compact) == len(plain)
        assert compact.files() == plain.files() and sorted(compact.dirs()) == sorted(plain.dirs())
        assert compact.stats() == plain.stats()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6))
def test_property_reopen_equals_walk_after_random_changes(tmp_path_factory, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path_factory.mktemp("tree")
    names = ["a", "b", "lib", "build", "x.py", "y.log", "z.txt"]
    for _ in range(30):
        rel = "/".join(rng.choice(names[:4]) for _ in range(rng.randint(0, 3)))
        rel = (rel + "/" if rel else "") + rng.choice(names[4:])
        try:
            write(root, rel)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            pass
    write(root, ".gitignore", "*.log\nbuild/\n")
    time.sleep(2 * MARGIN_NS / 1e9)
    first_open(root)
    present = [p for p in root.rglob("*") if p.name != ".gitignore"]
    for _ in range(rng.randint(1, 6)):
        action = rng.choice(["add", "edit", "remove", "mkdir"])
        target = rng.choice(present) if present else root
        try:
            if action == "add":
                folder = target if target.is_dir() else target.parent
                write(folder, f"n{rng.randrange(99)}.py")
            elif action == "edit" and target.is_file():
                target.write_text("changed " * rng.randint(1, 9))
            elif action == "remove" and target.is_file():
                target.unlink()
            elif action == "mkdir":
                folder = target if target.is_dir() else target.parent
                write(folder, f"m{rng.randrange(99)}/q.py")
        except (IsADirectoryError, NotADirectoryError, FileExistsError, FileNotFoundError):
            pass
    entries, how, walked = open_scan(root)
    assert how["from"] == "store"
    assert entries == walked
