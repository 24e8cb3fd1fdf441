"""The workspace symbol table on disk (SQLite), so a reopened project does not reparse its files.

``files(id, path, mtime_ns, size, skipped)`` records which version of each file was parsed (and why
one was not: binary, too large); ``symbols(file_id, name, kind, line, col, container)`` holds what
the parse found. On reopen the owner compares ``file_states()`` with the snapshot and reparses only
the files whose size or mtime changed. Nothing but the names (for fuzzy matching, in frizbee's Rust
memory) and their row ids (an ``array``) is kept in RAM; a symbol is read back when it is shown.

Threads: one writer connection (the "symbols" worker) and one reader connection (``find`` and
``symbols`` on any thread), each behind its own lock, WAL so reads never wait on a batch.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable, Iterator

from marie.index.sqlite_db import connect, open_store

SCHEMA_VERSION = "2"


class SymbolStore:
    def __init__(self, path: Path | str, symbol_type) -> None:
        self.path = Path(path)
        self.Symbol = symbol_type
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._db, self._reader = open_store(self.path, SCHEMA_VERSION, self._create)

    @staticmethod
    def _create(db) -> None:
        db.execute("create table meta(key text primary key, value text)")
        db.execute("create table files(id integer primary key autoincrement, path text unique not null,"
                   " mtime_ns integer, size integer, skipped text)")
        # AUTOINCREMENT: a row id is never reused, so a dropped symbol's id (remembered as dead by
        # the in-memory name index until its next rebuild) can never hide a new one.
        db.execute("create table symbols(id integer primary key autoincrement, file_id integer not null,"
                   " name text, kind text, line integer, col integer, container text)")
        db.execute("create index symbols_by_file on symbols(file_id)")
        db.execute("insert into meta values('schema', ?)", (SCHEMA_VERSION,))

    # -- reading the file table (writer thread) -------------------------------------------------------
    def file_states(self, batch: int = 20000) -> Iterator[list[tuple[str, int, int]]]:
        """Every parsed ``(path, mtime_ns, size)``, a batch at a time."""
        with self._write_lock:
            cursor = self._db.execute("select path, mtime_ns, size from files")
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    return
                yield rows

    # -- writing --------------------------------------------------------------------------------------
    def put(self, parsed: Iterable[tuple[str, int, int, list, str | None]], removals: Iterable[str] = ()) -> list:
        """In one transaction: drop ``removals`` and each file's old symbols, then store each
        ``(path, mtime_ns, size, symbols, skipped)``. Returns ``[(rowid, name)]`` of the new symbols
        and ``[rowid]`` of the ones dropped, for the in-memory name index. Writer thread."""
        parsed = list(parsed)
        added: list[tuple[int, str]] = []
        dropped: list[int] = []
        with self._write_lock:
            db = self._db
            db.execute("begin")
            try:
                for path in [*removals, *(p[0] for p in parsed)]:
                    row = db.execute("select id from files where path=?", (path,)).fetchone()
                    if row is None:
                        continue
                    dropped += [r[0] for r in db.execute("select rowid from symbols where file_id=?", row)]
                    db.execute("delete from symbols where file_id=?", row)
                    db.execute("delete from files where id=?", row)
                for path, mtime, size, symbols, skipped in parsed:
                    file_id = db.execute("insert into files(path, mtime_ns, size, skipped) values (?,?,?,?)",
                                         (path, mtime, size, skipped)).lastrowid
                    for s in symbols:
                        rowid = db.execute("insert into symbols(file_id, name, kind, line, col, container)"
                                           " values (?,?,?,?,?,?)",
                                           (file_id, s.name, s.kind, s.line, s.column, s.container)).lastrowid
                        added.append((int(rowid or 0), s.name))
                db.execute("commit")
            except BaseException:
                db.execute("rollback")
                raise
        return [added, dropped]

    # -- reading (any thread) ---------------------------------------------------------------------------
    def state_of(self, path: str) -> tuple[int, int, str | None] | None:
        """``(mtime_ns, size, skipped)`` of the parsed version of ``path``, or None."""
        with self._read_lock:
            return self._reader.execute("select mtime_ns, size, skipped from files where path=?", (path,)).fetchone()

    def symbols_of(self, path: str) -> list:
        with self._read_lock:
            rows = self._reader.execute(
                "select s.name, s.kind, s.line, s.col, s.container from symbols s join files f on f.id = s.file_id"
                " where f.path=? order by s.line, s.col", (path,)).fetchall()
        return [self.Symbol(name, kind, path, line, col, container) for name, kind, line, col, container in rows]

    def names(self, batch: int = 50000) -> Iterator[list[tuple[int, str]]]:
        """Every ``(rowid, name)``, a batch at a time (to build the fuzzy index)."""
        # A private connection: the batches are fetched one C call at a time (a single fetchall of
        # millions of rows would hold the interpreter lock for seconds: a GUI stall).
        db = connect(self.path)
        try:
            cursor = db.execute("select rowid, name from symbols")
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    return
                yield rows
        finally:
            db.close()

    def by_rowid(self, rowids: list[int]) -> dict[int, object]:
        """The symbols with these row ids."""
        if not rowids:
            return {}
        out: dict[int, object] = {}
        with self._read_lock:
            for start in range(0, len(rowids), 500):
                chunk = rowids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for rowid, name, kind, path, line, col, container in self._reader.execute(
                        "select s.rowid, s.name, s.kind, f.path, s.line, s.col, s.container from symbols s"
                        f" join files f on f.id = s.file_id where s.rowid in ({marks})", chunk):
                    out[rowid] = self.Symbol(name, kind, path, line, col, container)
        return out

    def all(self) -> list:
        with self._read_lock:
            rows = self._reader.execute(
                "select s.name, s.kind, f.path, s.line, s.col, s.container from symbols s"
                " join files f on f.id = s.file_id").fetchall()
        return [self.Symbol(*row) for row in rows]

    def count(self) -> int:
        with self._read_lock:
            return self._reader.execute("select count(*) from symbols").fetchone()[0]

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._db.close()
            self._reader.close()
