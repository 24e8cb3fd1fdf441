"""The SQLite plumbing the index's on-disk stores share (``trigram_store``, ``symbol_store``):
opening a database in WAL mode, checking its schema version, deleting its files, closing quietly.
Any thread (each caller guards its own connections)."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection usable from any thread (its owner locks it), autocommit, WAL."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=normal")    # an index: losing the last batch on power loss is fine
    return db


def schema_ok(db: sqlite3.Connection, version: str) -> bool:
    """Whether ``db`` was made by this schema ``version`` (its ``meta`` table says so)."""
    try:
        row = db.execute("select value from meta where key='schema'").fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is not None and row[0] == version


def open_store(path: Path, version: str, create) -> tuple[sqlite3.Connection, sqlite3.Connection]:
    """``(writer, reader)`` connections to the store at ``path``; a missing database, or one of
    another schema version, is replaced by a new one made with ``create(writer)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    if not schema_ok(db, version):
        db.close()
        delete_files(path)
        db = connect(path)
        create(db)
    return db, connect(path)


def delete_files(path: Path | str) -> None:
    """Remove the database and its write-ahead log and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def close_quietly(store, what: str) -> None:
    """Close ``store`` (may be None); a failure is only logged: the project is closing anyway."""
    if store is None:
        return
    try:
        store.close()
    except Exception:
        log.debug("closing the %s failed", what, exc_info=True)
