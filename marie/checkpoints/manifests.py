"""Checkpoint manifests (one JSON record per checkpoint, written atomically), sealed with the
checkpoint id as associated data when encryption at rest is on. A mixin of ``store.ObjectStore``
(``self.manifests`` is the folder, ``self.cipher`` the cipher or None); any thread.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from marie.checkpoints.codec import SEAL_MAGIC
from marie.checkpoints.errors import CheckpointDamaged, UnknownCheckpoint
from marie.core import atomic


class ManifestLayer:
    manifests: Path   # provided by ObjectStore
    cipher: Any
    def manifest_path(self, cid: str) -> Path:
        return self.manifests / f"{cid}.json"

    def write_manifest(self, record: dict) -> None:
        data = json.dumps(record, indent=1, ensure_ascii=False).encode("utf-8", "surrogateescape")
        if self.cipher is not None:
            data = self.cipher.seal(data, str(record["id"]).encode())
        atomic.write_bytes(self.manifest_path(record["id"]), data)

    def read_manifest(self, cid: str) -> dict:
        try:
            data = self.manifest_path(cid).read_bytes()
        except FileNotFoundError:
            raise UnknownCheckpoint(f"no checkpoint {cid!r}") from None
        if data[:4] == SEAL_MAGIC:
            if self.cipher is None:
                raise CheckpointDamaged(f"checkpoint {cid} is encrypted and encryption at rest is off here")
            try:
                data = self.cipher.open(data, cid.encode(), what=f"checkpoint {cid}")
            except Exception as exc:   # Tampered, WrongKey: the record was changed, swapped or keyed elsewhere
                raise CheckpointDamaged(f"checkpoint {cid}: {exc}") from None
        try:
            return json.loads(data.decode("utf-8", "surrogateescape"))
        except ValueError:
            raise CheckpointDamaged(f"checkpoint {cid}: its record is damaged (not valid JSON)") from None

    def manifest_ids(self) -> list[str]:
        """All checkpoint ids, oldest first (ids sort by creation time)."""
        return sorted(p.name[:-5] for p in os.scandir(self.manifests)
                      if p.name.endswith(".json") and not p.name.startswith("."))

    def remove_manifest(self, cid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            atomic.delete(self.manifest_path(cid))
