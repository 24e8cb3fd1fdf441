"""The persisted trigram index of the project's text: an SQLite FTS5 table (``trigram`` tokenizer,
contentless, ``detail=none``) plus a ``files`` table of what was indexed from which file state.

Why FTS5 and not a hand-made index (measured on the 100k-file benchmark tree, 71 MB of text,
``/tmp/idx`` prototypes in the issue 18 notes): FTS5 indexed it in 18 s to 42 MB (0.59x the text)
with its C tokenizer, while extracting trigram sets with numpy alone took 44 s and the raw
postings were 135 MB (1.9x the text) before any compression; FTS5 also gives incremental updates,
transactions and crash safety from the standard library, with no new dependency.

Layout: ``files(id, path, size, mtime_ns, ctime_ns, state)`` where ``state`` is ``TEXT`` (its
trigrams are in ``grams`` under ``rowid = id``), ``BINARY`` (a NUL byte in the first 8 KiB: ripgrep
prints nothing from it), ``LATE_BINARY`` (a NUL further in: ripgrep's output depends on its buffer,
so a query that hits it falls back to ripgrep) or ``TOO_LARGE`` (above the search size cap when it
was indexed: not read). A contentless FTS5 table cannot delete rows without their old text, so a
changed file gets a NEW id (AUTOINCREMENT never reuses one) and its old trigrams stay behind as
unreachable garbage; ``dead`` counts it and the owner rebuilds when garbage outweighs live rows.

Threads: one writer connection (the text-index worker) and one reader connection (searches, on
their worker), each behind its own lock; WAL lets a search read while a batch is being written.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable, Iterator

from marie.index.sqlite_db import delete_files, open_store

SCHEMA_VERSION = "1"
TEXT, BINARY, LATE_BINARY, TOO_LARGE = 0, 1, 2, 3


class TrigramStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._db, self._reader = open_store(self.path, SCHEMA_VERSION, self._create)

    # -- opening -----------------------------------------------------------------------------------
    @staticmethod
    def _create(db) -> None:
        db.execute("create table meta(key text primary key, value text)")
        db.execute("create table files(id integer primary key autoincrement, path text unique not null,"
                   " size integer, mtime_ns integer, ctime_ns integer, state integer)")
        db.execute("create virtual table grams using fts5(body, tokenize='trigram', content='', detail=none)")
        db.execute("insert into meta values('schema', ?), ('dead', '0'), ('complete', '0')", (SCHEMA_VERSION,))

    def reset(self) -> None:
        """Drop everything (a rebuild). Writer thread."""
        with self._write_lock, self._read_lock:
            self._db.close()
            self._reader.close()
            delete_files(self.path)
            self._db, self._reader = open_store(self.path, SCHEMA_VERSION, self._create)

    # -- meta ----------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._db.execute("select value from meta where key=?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def complete(self) -> bool:
        """Whether a full build finished at least once (the rows then describe the whole tree)."""
        with self._write_lock:
            return self._meta("complete") == "1"

    def mark_complete(self) -> None:
        with self._write_lock:
            self._db.execute("update meta set value='1' where key='complete'")

    @property
    def dead(self) -> int:
        with self._write_lock:
            return int(self._meta("dead") or 0)

    def file_states(self, batch: int = 20000) -> Iterator[list[tuple[str, int, int, int, int]]]:
        """Every indexed ``(path, size, mtime_ns, ctime_ns, state)``, a batch at a time (so no one
        call holds the interpreter lock for long). Writer thread."""
        with self._write_lock:
            cursor = self._db.execute("select path, size, mtime_ns, ctime_ns, state from files")
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    return
                yield rows

    def count(self) -> int:
        with self._write_lock:
            return self._db.execute("select count(*) from files").fetchone()[0]

    def size_bytes(self) -> int:
        """The index's size on disk (database and write-ahead log)."""
        return sum(os.path.getsize(f"{self.path}{s}") for s in ("", "-wal") if os.path.exists(f"{self.path}{s}"))

    # -- writing -----------------------------------------------------------------------------------
    def replace(self, docs: Iterable[tuple[str, int, int, int, int, str | None]], removals: Iterable[str] = ()) -> None:
        """In one transaction: forget ``removals`` and each doc's previous row, then store each doc
        ``(path, size, mtime_ns, ctime_ns, state, text)`` (text None unless state is TEXT or LATE_BINARY). Writer."""
        docs = list(docs)
        with self._write_lock:
            db = self._db
            db.execute("begin")
            try:
                gone = [(p,) for p in removals] + [(d[0],) for d in docs]
                dead = 0
                if gone:
                    dead = sum(1 for (p,) in gone
                               if db.execute("delete from files where path=? and state in (?, ?)",
                                             (p, TEXT, LATE_BINARY)).rowcount)
                    db.executemany("delete from files where path=?", gone)
                for path, size, mtime, ctime, state, text in docs:
                    cursor = db.execute("insert into files(path, size, mtime_ns, ctime_ns, state) values (?,?,?,?,?)",
                                        (path, size, mtime, ctime, state))
                    if state in (TEXT, LATE_BINARY) and text:
                        db.execute("insert into grams(rowid, body) values (?, ?)", (cursor.lastrowid, text))
                if dead:
                    db.execute("update meta set value=cast(value as integer)+? where key='dead'", (dead,))
                db.execute("commit")
            except BaseException:
                db.execute("rollback")
                raise

    def optimize(self) -> None:
        """Merge FTS5's segments into one (smaller on disk, faster queries). Writer thread."""
        with self._write_lock:
            self._db.execute("insert into grams(grams) values('optimize')")
            self._db.execute("pragma wal_checkpoint(truncate)")

    # -- reading -----------------------------------------------------------------------------------
    @staticmethod
    def fts_query(groups: list[frozenset[str]]) -> str:
        """The FTS5 MATCH expression: each trigram quoted, AND inside a group, OR between groups."""
        def quote(gram: str) -> str:
            return '"' + gram.replace('"', '""') + '"'

        return " OR ".join("(" + " AND ".join(quote(g) for g in sorted(group)) + ")" for group in groups)

    def candidates(self, groups: list[frozenset[str]]) -> list[tuple[str, int]]:
        """``(path, state)`` of every indexed file holding all trigrams of some group. Any thread."""
        with self._read_lock:
            return self._reader.execute(
                "select f.path, f.state from grams join files f on f.id = grams.rowid where grams match ?",
                (self.fts_query(groups),)).fetchall()

    def too_large(self) -> list[tuple[str, int]]:
        """``(path, size)`` of the files not read because they were above the size cap."""
        with self._read_lock:
            return self._reader.execute("select path, size from files where state=?", (TOO_LARGE,)).fetchall()

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._db.close()
            self._reader.close()
