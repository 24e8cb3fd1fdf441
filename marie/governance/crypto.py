"""Encryption at rest: AES-256-GCM (``cryptography``) under a data key wrapped by the customer's key.

Keys: a random 256-bit *data key* encrypts the records; it is stored only wrapped (AES-GCM) by the
*master key*, which comes from the system keyring (created there on first use), from an admin's key
command (prints the base64 key on stdout: a KMS or HSM client) or from a key file (base64 or 32 raw
bytes). The wrapped data key lives in ``<data dir>/governance/datakey.json`` with the master key's
id, so a different master key is reported as "wrong key", not as damage.

Sealed records are ``MRE1 | data-key id (8) | nonce (12) | ciphertext+tag``. The caller passes
*associated data* naming the record (a checkpoint id, an object hash, an audit sequence number): a
record swapped for another authenticates as neither and is reported, like any tampering.
Without a key there is no fallback to plaintext: ``KeyUnavailable`` is raised and nothing is written.
Any thread (AESGCM objects are stateless; key loading is locked).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"MRE1"
_HEADER = len(MAGIC) + 8 + 12
KEYRING_SERVICE = "MarieIDE"
KEYRING_NAME = "encryption-master-key"


class EncryptionError(RuntimeError):
    """Encrypted data cannot be read or written; the message says why, for the user."""


class KeyUnavailable(EncryptionError):
    """No key: encryption is on but its key cannot be had (nothing is written in plaintext instead)."""


class WrongKey(EncryptionError):
    """The data was encrypted under another key."""


class Tampered(EncryptionError):
    """The ciphertext was changed, or moved here from another record."""


class NotEncrypted(EncryptionError):
    """Plaintext where a sealed record was expected."""


def _key_id(key: bytes, label: bytes) -> bytes:
    return hashlib.sha256(label + key).digest()[:8]


class Cipher:
    """Seals and opens records with one data key. Any thread."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        self._aead = AESGCM(key)
        self.key_id = _key_id(key, b"marie-data-key")

    @staticmethod
    def is_sealed(blob: bytes) -> bool:
        return blob[:4] == MAGIC

    def seal(self, plain: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return MAGIC + self.key_id + nonce + self._aead.encrypt(nonce, plain, aad)

    def open(self, blob: bytes, aad: bytes = b"", what: str = "record") -> bytes:
        from cryptography.exceptions import InvalidTag

        if blob[:4] != MAGIC:
            raise NotEncrypted(f"{what} is not encrypted although encryption is on (it was not written by "
                               "MarieIDE with encryption, or it was replaced)")
        if len(blob) < _HEADER + 16:
            raise Tampered(f"{what} is truncated")
        if blob[4:12] != self.key_id:
            raise WrongKey(f"{what} was encrypted under another data key (key id {blob[4:12].hex()}, this one is "
                           f"{self.key_id.hex()})")
        try:
            return self._aead.decrypt(blob[12:_HEADER], blob[_HEADER:], aad)
        except InvalidTag:
            raise Tampered(f"{what} failed authentication: it was changed, or moved from another record") from None


# -- the master key --------------------------------------------------------------------------------
def _decode_key(raw: bytes, where: str) -> bytes:
    if len(raw) == 32:
        return raw
    text = raw.strip()
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        try:
            key = bytes.fromhex(text.decode("ascii"))
        except ValueError:
            key = b""
    if len(key) != 32:
        raise KeyUnavailable(f"{where} does not hold a 256-bit key (32 bytes, raw, base64 or hex)")
    return key


def master_key(source: str, command: str = "", file: str = "") -> bytes:
    """The customer's key from ``source`` ("keyring" | "command" | "file"). Raises ``KeyUnavailable``."""
    if source == "file":
        if not file:
            raise KeyUnavailable("governance.encryption.key_source is \"file\" but governance.encryption.key_file is empty")
        try:
            return _decode_key(Path(file).expanduser().read_bytes(), f"the key file {file}")
        except OSError as exc:
            raise KeyUnavailable(f"the key file {file} cannot be read ({exc.strerror or exc})") from None
    if source == "command":
        if not command:
            raise KeyUnavailable("governance.encryption.key_source is \"command\" but governance.encryption.key_command is empty")
        try:
            done = subprocess.run(shlex.split(command), capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KeyUnavailable(f"the key command failed to run ({exc})") from None
        if done.returncode != 0:
            raise KeyUnavailable(f"the key command exited with status {done.returncode}: "
                                 f"{done.stderr.decode('utf-8', 'replace').strip()[:200]}")
        return _decode_key(done.stdout, "the key command's output")
    if source == "keyring":
        try:
            import keyring
            from keyring.errors import KeyringError

            try:
                stored = keyring.get_password(KEYRING_SERVICE, KEYRING_NAME)
                if stored is None:
                    stored = base64.b64encode(os.urandom(32)).decode("ascii")
                    keyring.set_password(KEYRING_SERVICE, KEYRING_NAME, stored)
            except KeyringError as exc:
                raise KeyUnavailable(f"no system keyring is available ({exc}); set governance.encryption.key_source "
                                     "to \"file\" or \"command\"") from None
        except ImportError:
            raise KeyUnavailable("the keyring package is not installed") from None
        return _decode_key(stored.encode("ascii"), "the keyring entry")
    raise KeyUnavailable(f"unknown key source {source!r} (keyring, command or file)")


# -- the data key --------------------------------------------------------------------------------
def data_key(folder: Path, master: bytes) -> bytes:
    """The data key stored (wrapped) in ``folder/datakey.json``; created on first use."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from marie.core import atomic

    path = Path(folder) / "datakey.json"
    kek_id = _key_id(master, b"marie-master-key").hex()
    aead = AESGCM(master)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        key = os.urandom(32)
        nonce = os.urandom(12)
        record = {"version": 1, "kek_id": kek_id, "nonce": base64.b64encode(nonce).decode(),
                  "wrapped": base64.b64encode(aead.encrypt(nonce, key, b"marie-data-key")).decode()}
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, json.dumps(record).encode("utf-8"), 0o600)
        return key
    except (OSError, ValueError) as exc:
        raise Tampered(f"the wrapped data key {path} is unreadable ({exc})") from None
    if record.get("kek_id") != kek_id:
        raise WrongKey(f"the data key in {path} is wrapped by another master key (id {record.get('kek_id')}; the "
                       f"configured key has id {kek_id}): wrong key")
    try:
        key = aead.decrypt(base64.b64decode(record["nonce"]), base64.b64decode(record["wrapped"]), b"marie-data-key")
    except (InvalidTag, KeyError, ValueError):
        raise Tampered(f"the wrapped data key {path} failed authentication (it was changed)") from None
    return key


@dataclass(frozen=True)
class KeyConfig:
    source: str
    command: str
    file: str
    folder: str


_ciphers: dict[KeyConfig, Cipher] = {}
_lock = threading.Lock()


def cipher_from(config: KeyConfig) -> Cipher:
    """The cipher for a key configuration (cached per process: the key command runs once)."""
    with _lock:
        cipher = _ciphers.get(config)
        if cipher is None:
            master = master_key(config.source, config.command, config.file)
            cipher = Cipher(data_key(Path(config.folder), master))
            _ciphers[config] = cipher
        return cipher


def key_config(settings: Any, folder: Path | None = None) -> KeyConfig:
    from marie.core import paths

    return KeyConfig(str(settings.get("governance.encryption.key_source")),
                     str(settings.get("governance.encryption.key_command")),
                     str(settings.get("governance.encryption.key_file")),
                     str(folder or paths.data_dir() / "governance"))


def cipher_for(settings: Any) -> Cipher | None:
    """The cipher when the policy or the user asks for encryption, else None. Raises ``KeyUnavailable``
    when encryption is asked for and there is no key (never a silent plaintext fallback)."""
    from marie.governance import policy as policy_mod

    if not policy_mod.load(settings).encryption_wanted:
        return None
    return cipher_from(key_config(settings))


def forget_keys() -> None:
    """Drop cached ciphers (tests; a changed key configuration is a new cache entry anyway)."""
    with _lock:
        _ciphers.clear()
