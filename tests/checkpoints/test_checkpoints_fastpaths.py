"""The fast paths of checkpoints: the first full walk with a live index reads the index snapshot
instead of stat'ing every file, listings are encoded without json.dumps, packs are written in
one piece and verify reads each pack once. Each must give exactly what the slow path gives."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from marie.checkpoints import capture as capture_mod
from marie.checkpoints.capture import Capturer, StatCache
from marie.checkpoints.store import ObjectStore, encode_listing, entry_json

from tests.checkpoints.test_checkpoints_dirty import full_walk_root, put, start_index, wait_until_dirty


def make_tree(root: Path) -> None:
    put(root, ".gitignore", "*.log\nbuild/\n")
    for n in range(40):
        put(root, f"pkg{n % 4}/sub{n % 3}/m{n}.py", f"v1 {n}\n")
    put(root, "debug.log", "ignored file")
    put(root, "build/out.bin", "ignored folder")
    put(root, "tool.sh", "#!/bin/sh\n")
    os.chmod(root / "tool.sh", 0o755)
    os.symlink("pkg0/sub0/m0.py", root / "link.py")


def test_snapshot_capture_equals_the_walk(app, workspace, monkeypatch):
    make_tree(workspace)
    monkeypatch.setattr(capture_mod, "RACY_NS", 0)   # cache the files just written
    cps = app.checkpoints
    first = cps.create(label="walk")                   # no index yet: a stat walk fills the cache
    assert cps.last_mode == "full"
    start_index(app)
    snap = app.index.snapshot()
    capturer = Capturer(workspace, cps._matcher(), StatCache(cps.base / "statcache"), 20 << 20)
    walked = capturer.capture(None)
    from_snapshot = capturer.capture_snapshot(None, snap)
    assert from_snapshot.items == walked.items
    assert sorted(from_snapshot.ignored) == sorted(walked.ignored) == ["build/", "debug.log"]
    assert walked.hashed == 0 and from_snapshot.hashed == 0   # every file's hash came from the cache
    # The service takes that path for its first checkpoint with a live index, with the same tree.
    cps._fed = False
    second = cps.create(label="live baseline")
    assert cps.last_mode == "full"
    assert cps.store.read_manifest(second)["root"] == cps.store.read_manifest(first)["root"]
    assert cps.info(second).files_changed == 0


def test_snapshot_capture_rehashes_a_file_changed_behind_the_cache(app, workspace, monkeypatch):
    make_tree(workspace)
    monkeypatch.setattr(capture_mod, "RACY_NS", 0)
    cps = app.checkpoints
    cps.create(label="walk")
    path = workspace / "pkg1/sub1/m1.py"
    st = path.stat()
    time.sleep(0.05)   # past the kernel's coarse timestamp tick (RACY_NS=0 turned off that guard)
    path.write_text("v2 1\n")                          # same size, mtime set back: only ctime differs
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    start_index(app)
    cps._fed = False
    cid = cps.create(label="live baseline")
    assert cps.store.get(cps.items(cid)["pkg1/sub1/m1.py"].ref) == b"v2 1\n"
    assert cps.store.read_manifest(cid)["root"] == full_walk_root(workspace)


def test_chmod_only_change_reaches_the_incremental_checkpoint(app, workspace):
    make_tree(workspace)
    start_index(app)
    cps = app.checkpoints
    base = cps.create(label="baseline")
    os.chmod(workspace / "pkg2/sub2/m2.py", 0o700)      # content, size and mtime unchanged
    wait_until_dirty(app, {"pkg2/sub2/m2.py"})
    cid = cps.create(label="after chmod")
    assert cps.last_mode == "incremental"
    assert cps.items(cid)["pkg2/sub2/m2.py"].mode == 0o700
    assert [(d.path, d.status) for d in cps.diff(base, cid)] == [("pkg2/sub2/m2.py", "mode")]
    assert cps.info(cid).files_changed == 1
    cps.restore(base, paths=["pkg2/sub2/m2.py"])
    assert (workspace / "pkg2/sub2/m2.py").stat().st_mode & 0o7777 == cps.items(base)["pkg2/sub2/m2.py"].mode
    assert cps.items(cps.create(label="restored"))["pkg2/sub2/m2.py"].mode == cps.items(base)["pkg2/sub2/m2.py"].mode


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12) | st.sampled_from(
    ['a"b', "back\\slash", "tab\there", "nl\nx", "\x7f", "ünï", "\u2028", os.fsdecode(b"bad\xffname")])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(names, st.sampled_from("flxd"), st.integers(0, 0o7777), names,
                          st.integers(0, 1 << 40)), max_size=8, unique_by=lambda e: e[0]))
def test_entry_json_is_what_json_dumps_writes(entries):
    entries = sorted(entries, key=lambda e: e[0])
    expected = json.dumps([list(e) for e in entries], separators=(",", ":"), ensure_ascii=False)
    assert encode_listing(entry_json(*e) for e in entries) == expected.encode("utf-8", "surrogateescape")


def test_buffered_pack_and_single_pass_verify(tmp_path):
    store = ObjectStore(tmp_path / "store")
    blobs = [os.urandom(n) for n in range(1, 200)] + [b"x" * (9 << 20)]   # one past the buffer size
    digests = [store.put(b) for b in blobs]
    store.flush()
    assert len([p for p in os.listdir(store.packs) if p.endswith(".pack")]) == 1
    assert all(store.get(d) == b for d, b in zip(digests, blobs))
    assert set(store.check_many(digests).values()) == {None}
    pack, offset, length = store.locate(digests[50])
    with open(pack, "r+b") as handle:
        handle.seek(offset)
        handle.write(bytes([blobs[50][0] ^ 0xFF]))
    report = store.check_many(digests)
    assert report[digests[50]] == "content does not match its hash"
    assert sum(1 for why in report.values() if why) == 1
