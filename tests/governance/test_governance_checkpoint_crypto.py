"""Checkpoints encrypted at rest: nothing readable on disk, restore works, tamper / swap / wrong key
are reported, and no key means no checkpoint rather than a plaintext one."""

from __future__ import annotations

import base64
import os

import pytest

from marie.governance import crypto
from tests.governance.helpers import make_app


def encrypted_app(tmp_path, monkeypatch, key: bytes, name: str = "a"):
    key_file = tmp_path / f"{name}.key"
    key_file.write_text(base64.b64encode(key).decode())
    crypto.forget_keys()
    monkeypatch.setenv("MARIE_HOME", str(tmp_path / f"home-{name}"))
    return make_app(tmp_path / name, monkeypatch, user={"governance": {"encryption": {
        "enabled": True, "key_source": "file", "key_file": str(key_file)}}})


def store_bytes(app) -> bytes:
    base = app.checkpoints.base
    return b"".join(p.read_bytes() for p in base.rglob("*") if p.is_file() and p.name != "statcache")


@pytest.mark.parametrize("files", [3, 40])   # loose objects, and a pack with compressed blocks
def test_checkpoints_are_sealed_and_restore(tmp_path, monkeypatch, files):
    app = encrypted_app(tmp_path, monkeypatch, os.urandom(32))
    root = app.root
    try:
        for i in range(files):
            (root / f"f{i}.py").write_text(f"TOP_SECRET_{i} = 'plan'\n" * 20)
        cid = app.checkpoints.create(label="label-visible-only-sealed")
        raw = store_bytes(app)
        assert b"TOP_SECRET" not in raw and b"label-visible-only-sealed" not in raw and b"f0.py" not in raw
        assert app.checkpoints.verify() == []
        (root / "f0.py").write_text("changed\n")
        app.checkpoints.restore(cid)
        assert (root / "f0.py").read_text().startswith("TOP_SECRET_0")
    finally:
        app.close()


def test_tamper_swap_and_wrong_key_are_reported(tmp_path, monkeypatch):
    key = os.urandom(32)
    app = encrypted_app(tmp_path, monkeypatch, key)
    root = app.root
    try:
        for i in range(40):
            (root / f"f{i}.py").write_text(f"value_{i} = {i}\n" * 30)
        first = app.checkpoints.create(label="one")
        (root / "f1.py").write_text("other = 1\n")
        second = app.checkpoints.create(label="two")
        manifests = app.checkpoints.store.manifests
        # swapped records: each is authentic, but not under the other's name
        a, b = manifests / f"{first}.json", manifests / f"{second}.json"
        da, db = a.read_bytes(), b.read_bytes()
        a.write_bytes(db)
        b.write_bytes(da)
        problems = app.checkpoints.verify()
        assert any("moved from another record" in p for p in problems), problems
        a.write_bytes(da)
        b.write_bytes(db)
        assert app.checkpoints.verify() == []
        # a flipped byte in a pack
        pack = next(app.checkpoints.store.packs.glob("*.pack"))
        data = bytearray(pack.read_bytes())
        data[len(data) // 2] ^= 0x40
        pack.write_bytes(bytes(data))
        app.checkpoints.store.forget_trees()
        assert any("unreadable" in p or "damaged" in p or "match" in p for p in app.checkpoints.verify())
    finally:
        app.close()
    # another master key for the same data: "wrong key", nothing decrypted
    crypto.forget_keys()
    key_file = tmp_path / "a.key"
    key_file.write_text(base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(crypto.WrongKey, match="wrong key"):
        app2 = make_app(tmp_path / "a", monkeypatch, user={"governance": {"encryption": {
            "enabled": True, "key_source": "file", "key_file": str(key_file)}}})
        try:
            app2.checkpoints.list()
        finally:
            app2.close()


def test_no_key_no_checkpoint(tmp_path, monkeypatch):
    crypto.forget_keys()
    monkeypatch.setenv("MARIE_HOME", str(tmp_path / "home"))
    app = make_app(tmp_path / "b", monkeypatch, user={"governance": {"encryption": {
        "enabled": True, "key_source": "file", "key_file": str(tmp_path / "missing.key")}}})
    (app.root / "a.txt").write_text("x")
    try:
        with pytest.raises(crypto.KeyUnavailable):
            app.checkpoints.create(label="x")
        assert not list(app.data_dir.rglob("*.pack"))
    finally:
        app.close()
