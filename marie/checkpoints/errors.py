"""Errors of the checkpoint store, phrased for the user."""

from __future__ import annotations


class CheckpointError(RuntimeError):
    """A checkpoint operation failed; the message is meant for the user."""


class UnknownCheckpoint(CheckpointError):
    pass


class CheckpointDamaged(CheckpointError):
    pass


class DamagedObject(CheckpointError):
    def __init__(self, digest: str, why: str) -> None:
        super().__init__(f"object {digest[:12]} is {why}")
        self.digest = digest
        self.why = why
