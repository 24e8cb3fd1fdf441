"""Compression of stored objects: only when it pays, per-object flag, old stores still read and restore."""

from __future__ import annotations

import json
import marshal
import os
import time
import zlib

import pytest

from marie.checkpoints.service import CheckpointDamaged
from marie.checkpoints.store import (COMPRESS_SAMPLE, PACK_ABOVE, ObjectStore, encode_listing, entry_json,
                                     hash_bytes)

TEXT = b"def handler(request):\n    return render(request, 'page.html', {'items': items})\n" * 40


def put(root, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def tree_of(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("count", [3, PACK_ABOVE * 2], ids=["loose", "pack"])
def test_compresses_only_what_pays_and_reads_back_raw(tmp_path, count):
    store = ObjectStore(tmp_path / "store")
    big_random = os.urandom(5 * COMPRESS_SAMPLE)                     # judged on a trial, stored raw
    gzipped = zlib.compress(TEXT * 3)   # zlib.compress output does not start like gzip: make it
    gzipped = b"\x1f\x8b" + gzipped
    blobs = {"text": TEXT, "tiny": b"x = 1\n", "random": os.urandom(4000), "big_random": big_random,
             "big_text": TEXT * 200, "gzipped": gzipped}
    blobs.update({f"more{n}": TEXT + str(n).encode() for n in range(count - 3)})
    digests = {k: store.put(v) for k, v in blobs.items()}
    store.flush()
    expect_compressed = {"text", "big_text"} | {k for k in blobs if k.startswith("more")}
    if count > PACK_ABOVE:
        # In a pack, small objects are compressed together in blocks: tiny and random ones too,
        # since their block as a whole pays. Compressed formats never go in a block.
        expect_compressed |= {"tiny", "random"}
    for key, digest in digests.items():
        assert digest == hash_bytes(blobs[key])                      # hashes name the raw bytes
        assert store.is_compressed(digest) == (key in expect_compressed), key
        assert store.get(digest) == blobs[key]
    assert set(store.check_many(digests.values()).values()) == {None}
    _path, _offset, length = store.locate(digests["text"])   # alone, or the block holding it
    assert length < 0.5 * (len(TEXT) if count <= PACK_ABOVE else sum(map(len, blobs.values())))
    # A second process (a fresh store object) reads the same.
    again = ObjectStore(tmp_path / "store")
    assert all(again.get(d) == blobs[k] for k, d in digests.items())
    assert set(again.check_many(digests.values()).values()) == {None}


def test_pack_block_that_does_not_pay_is_stored_raw(tmp_path):
    store = ObjectStore(tmp_path / "store")
    blobs = [os.urandom(3000) for _ in range(PACK_ABOVE * 3)]
    digests = [store.put(b) for b in blobs]
    store.flush()
    assert not any(store.is_compressed(d) for d in digests)
    assert [store.get(d) for d in digests] == blobs
    assert set(store.check_many(digests).values()) == {None}


def test_many_blocks_read_back_in_any_order_and_survive_gc(app, workspace):
    files = {f"d{n % 7}/f{n}.py": TEXT + f"# {n}\n".encode() * (n % 50) for n in range(400)}
    for rel, data in files.items():
        put(workspace, rel, data)
    cps = app.checkpoints
    first = cps.create()
    items = cps.items(first)
    blocks = {cps.store.locate(items[rel].ref)[1] for rel in files}
    assert 1 < len(blocks) < len(files) / 10          # several blocks, each holding many objects
    fresh = ObjectStore(cps.store.base)               # another process: nothing cached
    for rel in sorted(files, key=lambda r: hash(r)):
        assert fresh.get(items[rel].ref) == files[rel]
    assert cps.verify() == []
    for n in range(0, 400, 3):                        # a third changes: gc rewrites the first pack
        put(workspace, f"d{n % 7}/f{n}.py", b"changed %d\n" % n)
    latest = cps.create()
    app.settings._merged["checkpoints.keep_last"] = 1
    assert cps.gc()["removed_objects"] > 0
    assert cps.verify() == []
    wanted = tree_of(workspace)
    for path in list(workspace.rglob("*.py")):
        path.unlink()
    cps.restore(latest)
    assert tree_of(workspace) == wanted


@pytest.mark.parametrize("count", [1, PACK_ABOVE * 2], ids=["loose", "pack"])
def test_damaged_compressed_object_is_reported_and_refused(app, workspace, count):
    for n in range(count):
        put(workspace, f"f{n}.py", TEXT + str(n).encode())
    cps = app.checkpoints
    cid = cps.create()
    digest = cps.items(cid)["f0.py"].ref
    assert cps.store.is_compressed(digest)
    path, offset, length = cps.store.locate(digest)
    assert path.suffix == (".z" if count == 1 else ".pack")
    os.chmod(path, 0o644)
    with open(path, "r+b") as handle:
        handle.seek(offset + 1)   # near the start: in a block, every object after it is damaged too
        handle.write(b"\xff\x00\xff\x00")
    cps.store.forget_trees()
    problems = cps.verify()
    assert len(problems) == 1 and cid in problems[0] and "does not match its hash" in problems[0]
    put(workspace, "f0.py", b"now\n")
    with pytest.raises(CheckpointDamaged, match="f0.py.*nothing was restored"):
        cps.restore(cid)
    assert (workspace / "f0.py").read_bytes() == b"now\n"


def test_compression_setting_off_stores_raw(app, workspace):
    app.settings._merged["checkpoints.compress"] = False
    for n in range(PACK_ABOVE * 2):
        put(workspace, f"f{n}.py", TEXT)
    cps = app.checkpoints
    cid = cps.create()
    assert not cps.store.is_compressed(cps.items(cid)["f0.py"].ref)
    assert not list(cps.store.objects.rglob("*.z"))
    app.settings._merged["checkpoints.compress"] = True
    put(workspace, "g.py", TEXT + b"# new\n")
    later = cps.create()
    assert cps.store.is_compressed(cps.items(later)["g.py"].ref)
    assert cps.verify() == []


def _write_old_store(base, files: dict[str, bytes]) -> str:
    """A store exactly as written before compression existed, byte by byte and without the store
    code: raw loose objects (no ``.z``), one pack whose index has two-field (offset, length)
    entries, JSON tree listings, a manifest. Returns the checkpoint id."""
    objects: dict[str, bytes] = {}

    def obj(data: bytes) -> str:
        digest = hash_bytes(data)
        objects[digest] = data
        return digest

    folders: dict[str, list] = {"": []}
    for rel in sorted(files):
        parent, _, name = rel.rpartition("/")
        folders.setdefault(parent, []).append([name, "f", 0o644, obj(files[rel]), len(files[rel])])
    for folder in sorted((f for f in folders if f), key=lambda f: -f.count("/")):
        listing = sorted(folders[folder])
        digest = obj(encode_listing(entry_json(*e) for e in listing))
        parent, _, name = folder.rpartition("/")
        folders.setdefault(parent, []).append([name, "d", 0, digest, 0])
    root = obj(encode_listing(entry_json(*e) for e in sorted(folders[""])))
    for sub in ("objects", "tmp", "manifests", "packs"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    digests = sorted(objects)
    loose, packed = digests[:3] + [root], [d for d in digests[3:] if d != root]
    for digest in loose:
        (base / "objects" / digest[:2]).mkdir(exist_ok=True)
        (base / "objects" / digest[:2] / digest[2:]).write_bytes(objects[digest])
    index, blob = {}, b""
    for digest in packed:
        index[digest] = (len(blob), len(objects[digest]))
        blob += objects[digest]
    (base / "packs" / "pack-1-1-1.pack").write_bytes(blob)
    (base / "packs" / "pack-1-1-1.idx").write_bytes(marshal.dumps(index))
    cid = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() - 60)) + "-000001"
    record = {"id": cid, "created": time.time() - 60, "label": "old", "note": "", "auto": False, "pinned": False,
              "root": root, "files": len(files), "files_changed": len(files), "parent": None, "ignored": [],
              "ignored_covered": [], "absent": [], "unreadable": []}
    (base / "manifests" / f"{cid}.json").write_text(json.dumps(record, indent=1))
    return cid


def test_store_written_before_compression_still_verifies_restores_and_collects(app, workspace):
    old_files = {f"pkg{n % 3}/mod{n}.py": TEXT + f"# {n}\n".encode() for n in range(PACK_ABOVE * 2)}
    old_files["README.md"] = b"readme\n"
    cid = _write_old_store(app.data_dir / "checkpoints", old_files)
    for rel, data in old_files.items():
        put(workspace, rel, data)
    cps = app.checkpoints
    assert [i.id for i in cps.list()] == [cid]
    assert cps.verify() == []
    assert cps.diff(cid) == []
    # Change the workspace, then restore the old checkpoint.
    put(workspace, "pkg0/mod0.py", b"changed\n")
    (workspace / "pkg1/mod1.py").unlink()
    put(workspace, "new.py", TEXT)
    cps.restore(cid)
    assert tree_of(workspace) == old_files
    # New objects are compressed, next to the old raw ones; both verify.
    for n in range(0, PACK_ABOVE * 2, 2):
        put(workspace, f"pkg{n % 3}/mod{n}.py", TEXT + f"# v2 {n}\n".encode())
    latest = cps.create(label="new")
    assert cps.store.is_compressed(cps.items(latest)["pkg0/mod0.py"].ref)
    assert not cps.store.is_compressed(cps.items(latest)["pkg1/mod1.py"].ref)   # unchanged: the old raw copy
    assert cps.verify() == []
    wanted = tree_of(workspace)
    # Retention drops everything but the newest: gc rewrites the old, partly dead pack.
    app.settings._merged["checkpoints.keep_last"] = 1
    stats = cps.gc()
    assert stats["removed_objects"] > 0 and [i.id for i in cps.list()] == [latest]
    assert cps.verify() == []
    for path in list(workspace.rglob("*.py")):
        path.unlink()
    cps.restore(latest)
    assert tree_of(workspace) == wanted
    for idx in cps.store.packs.glob("*.idx"):
        pack = idx.with_suffix(".pack").read_bytes()
        for digest, where in marshal.loads(idx.read_bytes()).items():
            stored = pack[where[0]:where[0] + where[1]]
            if len(where) == 2:                      # raw, as before compression existed
                assert hash_bytes(stored) == digest
            elif len(where) == 3:                    # compressed alone
                assert where[2] == 1 and hash_bytes(zlib.decompress(stored, -15)) == digest
            else:                                    # in a compressed block
                assert len(where) == 5 and where[2] == 2
                block = zlib.decompress(stored, -15)
                assert hash_bytes(block[where[3]:where[3] + where[4]]) == digest
