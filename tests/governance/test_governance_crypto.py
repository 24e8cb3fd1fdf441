"""Encryption at rest: round trip, tamper, swap, wrong key, no plaintext fallback; usage and backups."""

from __future__ import annotations

import base64
import os
import sys

import pytest

from marie.governance import crypto
from marie.governance.crypto import Cipher, NotEncrypted, Tampered, WrongKey


def test_round_trip_and_tamper_and_swap():
    cipher = Cipher(os.urandom(32))
    a = cipher.seal(b"alpha", b"record-a")
    b = cipher.seal(b"beta", b"record-b")
    assert cipher.open(a, b"record-a") == b"alpha"
    flipped = bytearray(a)
    flipped[-3] ^= 1
    with pytest.raises(Tampered):
        cipher.open(bytes(flipped), b"record-a")
    with pytest.raises(Tampered, match="moved from another record"):
        cipher.open(b, b"record-a")              # swapped: b is authentic, but not as record a
    with pytest.raises(WrongKey):
        Cipher(os.urandom(32)).open(a, b"record-a")
    with pytest.raises(NotEncrypted):
        cipher.open(b"plain text", b"record-a")


def test_key_file_and_command_and_wrong_master_key(tmp_path):
    key = os.urandom(32)
    (tmp_path / "k").write_text(base64.b64encode(key).decode())
    assert crypto.master_key("file", file=str(tmp_path / "k")) == key
    cmd = f"{sys.executable} -c \"print('{base64.b64encode(key).decode()}')\""
    assert crypto.master_key("command", command=cmd) == key
    first = crypto.data_key(tmp_path / "dk", key)
    assert crypto.data_key(tmp_path / "dk", key) == first
    with pytest.raises(WrongKey, match="wrong key"):
        crypto.data_key(tmp_path / "dk", os.urandom(32))


def test_no_key_means_an_error_not_plaintext(tmp_path):
    with pytest.raises(crypto.KeyUnavailable):
        crypto.master_key("file", file=str(tmp_path / "missing"))
    with pytest.raises(crypto.KeyUnavailable):
        crypto.master_key("command", command="false")
    (tmp_path / "short").write_text("abc")
    with pytest.raises(crypto.KeyUnavailable, match="256-bit"):
        crypto.master_key("file", file=str(tmp_path / "short"))


def _encrypted_settings(tmp_path, key_file):
    import tomli_w

    from marie.core.settings import Settings

    user = tmp_path / "user.toml"
    user.write_text(tomli_w.dumps({"governance": {"encryption": {"enabled": True, "key_source": "file",
                                                                 "key_file": str(key_file)}}}))
    return Settings(user_file=user, policy_file=None)


def test_usage_rows_are_sealed_and_unreadable_without_the_key(tmp_path):
    from marie.ai.types import Usage
    from marie.ai.usage import UsageStore

    cipher = Cipher(os.urandom(32))
    store = UsageStore(tmp_path / "u.sqlite", cipher=cipher)
    store.record("composer", "openai", "gpt-secret-model", Usage(10, 5, cost_usd=0.5))
    assert b"gpt-secret-model" not in (tmp_path / "u.sqlite").read_bytes()
    assert store.summary()[0]["model"] == "gpt-secret-model" and store.spent(0) == 0.5
    with pytest.raises(RuntimeError, match="encrypted rows"):
        UsageStore(tmp_path / "u.sqlite").rows()
    with pytest.raises(WrongKey):
        UsageStore(tmp_path / "u.sqlite", cipher=Cipher(os.urandom(32))).rows()


def test_encryption_without_a_key_refuses_to_write_usage(tmp_path, monkeypatch):
    from marie.ai.types import Usage
    from marie.ai.usage import UsageStore

    crypto.forget_keys()
    settings = _encrypted_settings(tmp_path, tmp_path / "no-such-key")
    store = UsageStore(tmp_path / "u.sqlite", cipher=lambda: crypto.cipher_for(settings))
    with pytest.raises(crypto.KeyUnavailable):
        store.record("chat", "local", "m", Usage(1, 1))
    assert not (tmp_path / "u.sqlite").exists() or b"chat" not in (tmp_path / "u.sqlite").read_bytes()


def test_hot_exit_backups_are_sealed(tmp_path):
    from marie.text.backups import BackupStore
    from marie.text.codec import TextFormat

    cipher = Cipher(os.urandom(32))
    store = BackupStore(tmp_path / "b", cipher=cipher)
    store.save("k1", None, "my unsaved secret plan", TextFormat(), "")
    raw = (tmp_path / "b" / "k1.json").read_bytes()
    assert b"secret plan" not in raw and Cipher.is_sealed(raw)
    assert store.load("k1").text == "my unsaved secret plan"
    # a backup swapped under another key name fails authentication and is kept aside
    store.save("k2", None, "other", TextFormat(), "")
    os.replace(tmp_path / "b" / "k2.json", tmp_path / "b" / "k1.json")
    assert store.load("k1") is None and (tmp_path / "b" / "k1.bad").exists()
    # a reader without the key never gets plaintext
    store.save("k3", None, "third", TextFormat(), "")
    assert BackupStore(tmp_path / "b").load("k3") is None


def test_backups_with_the_key_missing_are_kept_not_thrown_away(tmp_path):
    from marie.text.backups import BackupStore
    from marie.text.codec import TextFormat

    cipher = Cipher(os.urandom(32))
    BackupStore(tmp_path / "b", cipher=cipher).save("k", None, "text", TextFormat(), "")

    def no_key():
        raise crypto.KeyUnavailable("the key command failed")

    store = BackupStore(tmp_path / "b", cipher=no_key)
    assert store.load("k") is None and (tmp_path / "b" / "k.json").exists()
    with pytest.raises(crypto.KeyUnavailable):
        store.save("k2", None, "new text", TextFormat(), "")
    assert not (tmp_path / "b" / "k2.json").exists()
