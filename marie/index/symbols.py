"""Symbols (classes, functions, methods, types) from tree-sitter, per file and for the workspace.

Grammars come from the per-language wheels (tree-sitter-python, -javascript, -typescript, -go,
-rust); nothing is downloaded at run time. Binary files and files above ``index.symbol_max_bytes``
are listed by the index but never parsed. The workspace index is built on the "symbols" worker after
the scan and kept live from the index's change batches; it is stored on disk (``symbol_store``), so
reopening a project parses only what changed. ``symbols``/``find`` may be called from any thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import frizbee

from marie.text.codec import looks_binary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Symbol:
    """``line``/``column`` are 1-based (column in characters)."""

    name: str
    kind: str          # "class" | "function" | "method" | "type" | "interface" | "enum" | "module" ...
    path: str
    line: int
    column: int
    container: str = ""


# language id -> (module, factory function name, query)
_GRAMMARS: dict[str, tuple[str, str, str]] = {
    "python": ("tree_sitter_python", "language", """
        (class_definition name: (identifier) @class)
        (function_definition name: (identifier) @function)"""),
    "javascript": ("tree_sitter_javascript", "language", """
        (class_declaration name: (identifier) @class)
        (function_declaration name: (identifier) @function)
        (generator_function_declaration name: (identifier) @function)
        (method_definition name: (property_identifier) @method)
        (variable_declarator name: (identifier) @function value: [(arrow_function) (function_expression)])"""),
    "typescript": ("tree_sitter_typescript", "language_typescript", """
        (class_declaration name: (type_identifier) @class)
        (abstract_class_declaration name: (type_identifier) @class)
        (function_declaration name: (identifier) @function)
        (method_definition name: (property_identifier) @method)
        (interface_declaration name: (type_identifier) @interface)
        (type_alias_declaration name: (type_identifier) @type)
        (enum_declaration name: (identifier) @enum)
        (variable_declarator name: (identifier) @function value: [(arrow_function) (function_expression)])"""),
    "tsx": ("tree_sitter_typescript", "language_tsx", """
        (class_declaration name: (type_identifier) @class)
        (function_declaration name: (identifier) @function)
        (method_definition name: (property_identifier) @method)
        (interface_declaration name: (type_identifier) @interface)
        (type_alias_declaration name: (type_identifier) @type)
        (variable_declarator name: (identifier) @function value: [(arrow_function) (function_expression)])"""),
    "go": ("tree_sitter_go", "language", """
        (function_declaration name: (identifier) @function)
        (method_declaration name: (field_identifier) @method)
        (type_spec name: (type_identifier) @type)"""),
    "rust": ("tree_sitter_rust", "language", """
        (function_item name: (identifier) @function)
        (struct_item name: (type_identifier) @class)
        (enum_item name: (type_identifier) @enum)
        (trait_item name: (type_identifier) @interface)
        (type_item name: (type_identifier) @type)
        (mod_item name: (identifier) @module)
        (macro_definition name: (identifier) @function)"""),
}

EXTENSIONS = {".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
              ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
              ".tsx": "tsx", ".go": "go", ".rs": "rust"}

_CONTAINERS = {"class_definition", "class_declaration", "class_body", "impl_item", "trait_item", "class"}


def language_of(path: str) -> str | None:
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


class _Grammar:
    """A parser and compiled query for one language. One per thread (parsers are not shared)."""

    def __init__(self, lang_id: str) -> None:
        import importlib

        import tree_sitter as ts

        module_name, factory, query = _GRAMMARS[lang_id]
        module = importlib.import_module(module_name)
        self.language = ts.Language(getattr(module, factory)())
        self.parser = ts.Parser(self.language)
        self.query = ts.Query(self.language, query)
        self._ts = ts

    def symbols(self, rel: str, data: bytes) -> list[Symbol]:
        tree = self.parser.parse(data)
        captures = self._ts.QueryCursor(self.query).captures(tree.root_node)
        lines: list[bytes] | None = None
        out: list[Symbol] = []
        for kind, nodes in captures.items():
            for node in nodes:
                row, col = node.start_point
                if lines is None:
                    lines = data.split(b"\n")
                prefix = lines[row][:col] if row < len(lines) else b""
                name = node.text.decode("utf-8", errors="replace") if node.text else ""
                container = ""
                parent = node.parent.parent if node.parent is not None else None
                while parent is not None:
                    if parent.type in _CONTAINERS or parent.type.endswith("class_declaration"):
                        named = parent.child_by_field_name("name") or parent.child_by_field_name("type")
                        if named is not None and named.text:
                            container = named.text.decode("utf-8", errors="replace")
                            break
                    parent = parent.parent
                real_kind = "method" if kind == "function" and container else kind
                out.append(Symbol(name, real_kind, rel, row + 1, len(prefix.decode("utf-8", errors="replace")) + 1,
                                  container))
        out.sort(key=lambda s: (s.line, s.column))
        return out


class SymbolIndex:
    """The workspace symbol index: parsed symbols in a ``SymbolStore`` on disk (valid against the
    file system on reopen: only files whose size or mtime changed are parsed again), with just the
    names and their row ids in memory for fuzzy ``find``."""

    BATCH = 200          # files parsed per store transaction

    def __init__(self, service: Any) -> None:
        self.service = service
        self.root = os.fspath(service.root)
        self._store = None
        self._lock = threading.Lock()
        self._local = threading.local()
        # The fuzzy index: row ids (array) and names (frizbee), appended to as files are parsed;
        # rows of replaced symbols are remembered as dead and skipped until the next rebuild.
        self._names_lock = threading.Lock()
        self._rowids: array | None = None
        self._hay: frizbee.Haystacks | None = None
        self._dead: set[int] = set()
        self._task = None
        self.ready = False
        self.skipped: dict[str, str] = {}    # rel -> why it was not parsed (binary, too large)
        self.last_build: dict[str, float | int] = {}
        # Parsing holds the GIL for a whole file; foreground work (a checkpoint before a write)
        # pauses it so it does not wait behind thousands of parses. Set = running.
        self._resume = threading.Event()
        self._resume.set()
        self._pausers = 0

    @property
    def store(self):
        if self._store is None:
            from marie.index.symbol_store import SymbolStore

            with self._lock:
                if self._store is None:
                    self._store = SymbolStore(Path(self.service.app.data_dir) / "symbols" / "symbols.sqlite", Symbol)
        return self._store

    @contextlib.contextmanager
    def paused(self):
        """Hold background parsing between files while the block runs (any thread, nestable)."""
        with self._lock:
            self._pausers += 1
            self._resume.clear()
        try:
            yield
        finally:
            with self._lock:
                self._pausers -= 1
                if not self._pausers:
                    self._resume.set()

    def _yield_to_foreground(self, ctx) -> None:
        while not self._resume.wait(0.1):
            ctx.check()

    @property
    def max_bytes(self) -> int:
        return int(self.service.app.settings.get("index.symbol_max_bytes"))

    def _grammar(self, lang: str) -> _Grammar:
        cache = getattr(self._local, "grammars", None)
        if cache is None:
            cache = self._local.grammars = {}
        if lang not in cache:
            cache[lang] = _Grammar(lang)
        return cache[lang]

    # -- parsing ----------------------------------------------------------------------------------
    def parse(self, rel: str) -> list[Symbol]:
        """Parse one file now (no cache). Binary, huge or vanished files give []."""
        lang = language_of(rel)
        if lang is None:
            return []
        path = os.path.join(self.root, *rel.split("/"))
        try:
            st = os.stat(path)
            if st.st_size > self.max_bytes:
                self.skipped[rel] = f"larger than {self.max_bytes} bytes"
                return []
            with open(path, "rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError:
            return []
        if looks_binary(data[:8192]):
            self.skipped[rel] = "binary"
            return []
        self.skipped.pop(rel, None)
        try:
            return self._grammar(lang).symbols(rel, data)
        except Exception:
            log.exception("symbol parse failed for %s", rel)
            return []

    def _store_parsed(self, parsed: list, removals: Iterable[str] = ()) -> None:
        """Write parsed files to the store and bring the in-memory name index along."""
        added, dropped = self.store.put(parsed, removals)
        with self._names_lock:
            if self._hay is not None and self._rowids is not None:
                self._dead.update(dropped)
                if added:
                    self._rowids.extend(r for r, _n in added)
                    self._hay.extend([n for _r, n in added])

    def _index_file(self, rel: str, entry) -> list[Symbol]:
        symbols = self.parse(rel)
        self._store_parsed([(rel, entry.mtime_ns if entry else 0, entry.size if entry else 0, symbols,
                             self.skipped.get(rel))])
        return symbols

    def symbols(self, rel: str) -> list[Symbol]:
        """Symbols of ``rel`` from the index, parsed now when missing or stale. Any thread."""
        entry = self.service.snapshot().get(rel)
        if entry is None:
            return self.parse(rel)
        state = self.store.state_of(rel)
        if state is not None and state[0] == entry.mtime_ns and state[1] == entry.size:
            if state[2]:
                self.skipped[rel] = state[2]
            return self.store.symbols_of(rel)
        return self._index_file(rel, entry)

    # -- the workspace index ------------------------------------------------------------------------
    def start(self):
        """Bring the workspace index up to date on the "symbols" worker (cancellable): files parsed
        in an earlier session and unchanged since are not parsed again."""
        def build(ctx):
            self._yield_to_foreground(ctx)     # not even the validation while foreground work runs
            started = time.perf_counter()
            snap = self.service.snapshot()
            todo = [p for p in snap.files() if language_of(p) and snap.entries[p].kind == "file"]
            known: dict[str, tuple[int, int]] = {}
            for rows in self.store.file_states():
                for path, mtime, size in rows:
                    known[path] = (mtime, size)
            wanted = set(todo)
            removals = [p for p in known if p not in wanted]
            stale = []
            for rel in todo:
                entry = snap.entries.get(rel)
                if entry is not None and known.get(rel) != (entry.mtime_ns, entry.size):
                    stale.append(rel)
            del known, wanted
            if removals:
                self._store_parsed([], removals)
            batch: list = []
            for number, rel in enumerate(stale):
                ctx.check()
                self._yield_to_foreground(ctx)
                ctx.progress(number, len(stale), "indexing symbols")
                entry = snap.entries.get(rel)
                symbols = self.parse(rel)
                batch.append((rel, entry.mtime_ns, entry.size, symbols, self.skipped.get(rel)))
                if len(batch) >= self.BATCH:
                    self._store_parsed(batch)
                    batch = []
            if batch:
                self._store_parsed(batch)
            self.ready = True
            self.last_build = {"files": len(todo), "parsed": len(stale), "removed": len(removals),
                               "seconds": round(time.perf_counter() - started, 3)}
            return len(todo)

        self._task = self.service.app.tasks.submit(build, name="symbol index", worker="symbols")
        return self._task

    def on_changes(self, snapshot, changes) -> None:
        """Keep the index live: reparse changed files, drop removed ones (on the symbols worker)."""
        if not self.ready and self._store is None:
            return
        removed = [c.path for c in changes if c.kind == "removed" and language_of(c.path)]
        touched = [c.path for c in changes if c.kind != "removed" and language_of(c.path)]
        if not removed and not touched:
            return

        def update(ctx):
            if removed:
                self._store_parsed([], removed)
            for rel in touched:
                ctx.check()
                self._yield_to_foreground(ctx)
                entry = self.service.snapshot().get(rel)
                if entry is not None and entry.kind == "file":
                    self._index_file(rel, entry)

        self.service.app.tasks.submit(update, name="symbol update", worker="symbols")

    def all(self) -> list[Symbol]:
        """Every indexed symbol (read from the store). Worker thread."""
        return self.store.all()

    def count(self) -> int:
        return self.store.count()

    def _name_index(self) -> tuple[array, frizbee.Haystacks]:
        with self._names_lock:
            if self._hay is not None and self._rowids is not None \
                    and len(self._dead) * 5 < max(len(self._rowids), 1000):
                return self._rowids, self._hay
        rowids, hay = array("q"), frizbee.Haystacks()
        for rows in self.store.names():
            rowids.extend(r for r, _n in rows)
            hay.extend([n for _r, n in rows])
        with self._names_lock:
            self._rowids, self._hay, self._dead = rowids, hay, set()
        return rowids, hay

    def find(self, query: str, limit: int = 100) -> list[Symbol]:
        """Workspace symbols whose name fuzzy-matches ``query``, best first. Any thread."""
        query = query.strip()
        if not query:
            return sorted(self.all(), key=lambda s: (s.name.lower(), s.path))[:limit]
        rowids, hay = self._name_index()
        with self._names_lock:
            dead = set(self._dead)
            matcher = frizbee.Matcher(query, max_typos=0, max_items=max(limit * 4, 200) + min(len(dead), 5000),
                                      sort="score_then_index_asc")
            matches = [(m.score, rowids[m.index]) for m in matcher.match_list(hay)]
        matches = [(score, rowid) for score, rowid in matches if rowid not in dead]
        found = self.store.by_rowid([rowid for _s, rowid in matches])
        lowered = query.lower()
        ranked = []
        for score, rowid in matches:
            sym = found.get(rowid)
            if sym is None:
                continue          # replaced meanwhile
            bonus = 100 if sym.name.lower() == lowered else 40 if sym.name.lower().startswith(lowered) else 0
            ranked.append((-(score + bonus), len(sym.path), sym.path, sym.line, sym))
        ranked.sort(key=lambda t: t[:4])
        return [t[-1] for t in ranked[:limit]]

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        from marie.index.sqlite_db import close_quietly

        close_quietly(self._store, "symbol store")
