"""Symbols (classes, functions, methods, types) from tree-sitter, per file and for the workspace.

Grammars come from the per-language wheels (tree-sitter-python, -javascript, -typescript, -go,
-rust); nothing is downloaded at run time. Binary files and files above ``index.symbol_max_bytes``
are listed by the index but never parsed. The workspace index is built on the "symbols" worker after
the scan and kept live from the index's change batches. ``symbols``/``find`` may be called from any
thread (a lock guards the tables).
"""

from __future__ import annotations

import logging
import contextlib
import os
import threading
from dataclasses import dataclass
from typing import Any

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
    def __init__(self, service: Any) -> None:
        self.service = service
        self.root = os.fspath(service.root)
        self._files: dict[str, tuple[int, int, list[Symbol]]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._flat: tuple[list[Symbol], frizbee.Haystacks] | None = None
        self._task = None
        self.ready = False
        self.skipped: dict[str, str] = {}    # rel -> why it was not parsed (binary, too large)
        # Parsing holds the GIL for a whole file; foreground work (a checkpoint before a write)
        # pauses it so it does not wait behind thousands of parses. Set = running.
        self._resume = threading.Event()
        self._resume.set()
        self._pausers = 0

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

    def _index_file(self, rel: str, entry) -> list[Symbol]:
        symbols = self.parse(rel)
        with self._lock:
            self._files[rel] = (entry.mtime_ns if entry else 0, entry.size if entry else 0, symbols)
            self._flat = None
        return symbols

    def symbols(self, rel: str) -> list[Symbol]:
        """Symbols of ``rel`` from the index, parsed now when missing or stale. Any thread."""
        entry = self.service.snapshot().get(rel)
        with self._lock:
            cached = self._files.get(rel)
        if cached and entry and cached[0] == entry.mtime_ns and cached[1] == entry.size:
            return cached[2]
        if entry is None:
            return self.parse(rel)
        return self._index_file(rel, entry)

    # -- the workspace index ------------------------------------------------------------------------
    def start(self):
        """Build the workspace index on the "symbols" worker (cancellable)."""
        def build(ctx):
            snap = self.service.snapshot()
            todo = [p for p in snap.files() if language_of(p) and snap.entries[p].kind == "file"]
            for number, rel in enumerate(todo):
                ctx.check()
                self._yield_to_foreground(ctx)
                ctx.progress(number, len(todo), "indexing symbols")
                entry = snap.entries.get(rel)
                with self._lock:
                    cached = self._files.get(rel)
                if cached and entry and cached[0] == entry.mtime_ns:
                    continue
                self._index_file(rel, entry)
            self.ready = True
            return len(todo)

        self._task = self.service.app.tasks.submit(build, name="symbol index", worker="symbols")
        return self._task

    def on_changes(self, snapshot, changes) -> None:
        """Keep the index live: reparse changed files, drop removed ones (on the symbols worker)."""
        if not self._files and not self.ready:
            return
        removed = [c.path for c in changes if c.kind == "removed"]
        touched = [c.path for c in changes if c.kind != "removed" and language_of(c.path)]
        if removed:
            with self._lock:
                for rel in removed:
                    self._files.pop(rel, None)
                self._flat = None
        if touched:
            def reparse(ctx):
                for rel in touched:
                    ctx.check()
                    self._yield_to_foreground(ctx)
                    entry = self.service.snapshot().get(rel)
                    if entry is not None and entry.kind == "file":
                        self._index_file(rel, entry)

            self.service.app.tasks.submit(reparse, name="symbol update", worker="symbols")

    def all(self) -> list[Symbol]:
        with self._lock:
            return [s for _m, _s, syms in self._files.values() for s in syms]

    def find(self, query: str, limit: int = 100) -> list[Symbol]:
        """Workspace symbols whose name fuzzy-matches ``query``, best first. Any thread."""
        with self._lock:
            flat = self._flat
            if flat is None:
                symbols = [s for _m, _s, syms in self._files.values() for s in syms]
                flat = self._flat = (symbols, frizbee.Haystacks([s.name for s in symbols]))
        symbols, hay = flat
        query = query.strip()
        if not query:
            return sorted(symbols, key=lambda s: (s.name.lower(), s.path))[:limit]
        matcher = frizbee.Matcher(query, max_typos=0, max_items=max(limit * 4, 200), sort="score_then_index_asc")
        lowered = query.lower()
        ranked = []
        for match in matcher.match_list(hay):
            sym = symbols[match.index]
            bonus = 100 if sym.name.lower() == lowered else 40 if sym.name.lower().startswith(lowered) else 0
            ranked.append((-(match.score + bonus), len(sym.path), sym.path, sym.line, sym))
        ranked.sort(key=lambda t: t[:4])
        return [t[-1] for t in ranked[:limit]]

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
