"""Pack files: big batches of objects in one file; damage is found, gc rewrites and deletes packs."""

from __future__ import annotations

import os

import pytest

from marie.checkpoints.service import CheckpointDamaged
from marie.checkpoints.store import PACK_ABOVE


def put(root, rel: str, data: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)


def test_big_batch_is_one_pack_readable_and_restorable(app, workspace):
    for n in range(PACK_ABOVE * 3):
        put(workspace, f"d{n % 4}/f{n}.txt", f"content {n}\n")
    cps = app.checkpoints
    cid = cps.create(label="many")
    packs = sorted(p.name for p in cps.store.packs.iterdir())
    assert len(packs) == 2 and packs[0].endswith(".idx") and packs[1].endswith(".pack")
    assert not list(cps.store.objects.rglob("*")) or all(p.is_dir() for p in cps.store.objects.rglob("*"))
    assert cps.verify() == []
    for n in range(0, PACK_ABOVE * 3, 5):
        put(workspace, f"d{n % 4}/f{n}.txt", "changed\n")
    (workspace / "d1/f1.txt").unlink()
    cps.restore(cid)
    assert (workspace / "d0/f0.txt").read_text() == "content 0\n"
    assert (workspace / "d1/f1.txt").read_text() == "content 1\n"
    assert cps.diff(cid) == []
    # A second process reads the packs written by this one.
    from marie.app import App

    with App(workspace) as other:
        assert other.checkpoints.store.get(other.checkpoints.items(cid)["d2/f2.txt"].ref) == b"content 2\n"


def test_damage_inside_a_pack_is_reported_and_refused(app, workspace):
    for n in range(PACK_ABOVE * 2):
        put(workspace, f"f{n}.txt", f"precious {n}\n")
    cps = app.checkpoints
    cid = cps.create()
    path, offset, length = cps.store.locate(cps.items(cid)["f3.txt"].ref)
    assert path.suffix == ".pack"
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(b"X" * length)
    cps.store.forget_trees()
    problems = cps.verify()
    assert len(problems) == 1 and "does not match its hash" in problems[0]
    put(workspace, "f3.txt", "now\n")
    with pytest.raises(CheckpointDamaged, match="f3.txt.*nothing was restored"):
        cps.restore(cid)
    assert (workspace / "f3.txt").read_text() == "now\n"


def test_gc_rewrites_partly_dead_packs_and_drops_strays(app, workspace):
    app.settings._merged["checkpoints.keep_last"] = 1
    for n in range(PACK_ABOVE * 2):
        put(workspace, f"f{n}.txt", f"v1 {n}\n")
    cps = app.checkpoints
    cps.create(label="v1")
    for n in range(0, PACK_ABOVE * 2, 2):
        put(workspace, f"f{n}.txt", f"v2 {n}\n")   # half the files change: the v1 pack is half dead
    last = cps.create(label="v2")
    stray = cps.store.packs / "pack-0-0-0.pack"       # a crashed writer's pack without its index
    stray.write_bytes(b"partial")
    before = cps.store_size()
    stats = cps.gc()
    assert [i.id for i in cps.list()] == [last]
    assert stats["removed_objects"] >= PACK_ABOVE and stats["freed_bytes"] > 0
    assert not stray.exists() and cps.store_size() < before
    assert cps.verify() == []
    for n in range(PACK_ABOVE * 2):
        os.unlink(workspace / f"f{n}.txt")
    cps.restore(last)
    assert (workspace / "f1.txt").read_text() == "v1 1\n" and (workspace / "f2.txt").read_text() == "v2 2\n"
