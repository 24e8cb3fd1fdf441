"""jedi in-process: completion, hover and definition for Python when the language server is missing,
down or restarting. Returns the same types as the server path (``marie.lsp.types``).

jedi keeps module caches that are not safe to share between threads, so every call takes one lock.
Blocking: call from a worker thread (or the CLI), never from the GUI thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

from marie.lsp.types import CompletionItem, Hover, Location, Range, Signature, SignatureHelp

# jedi's Name.type -> our completion kind words (same words as the LSP kinds map)
_KINDS = {"module": "module", "class": "class", "instance": "variable", "function": "function",
          "param": "variable", "path": "file", "keyword": "keyword", "property": "property",
          "statement": "variable"}


class JediFallback:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._project = None

    def _script(self, path: Path, text: str):
        import jedi

        if self._project is None:
            self._project = jedi.Project(str(self.root))
        return jedi.Script(text, path=str(path), project=self._project)

    def complete(self, path: Path, text: str, line: int, column: int) -> list[CompletionItem]:
        """Completions at 1-based ``line`` and 1-based code-point ``column``."""
        with self._lock:
            script = self._script(path, text)
            out = []
            for c in script.complete(line, column - 1):
                kind = _KINDS.get(c.type, "text")
                insert = c.name
                if c.type == "function":
                    insert = c.name + "($0)"
                out.append(CompletionItem(c.name, kind, c.description or "", "", insert,
                                          is_snippet=c.type == "function",
                                          replace=Range(line, column - len(c.name) + len(c.complete or ""),
                                                        line, column) if c.complete is not None else None))
            return out

    def hover(self, path: Path, text: str, line: int, column: int) -> Hover | None:
        with self._lock:
            script = self._script(path, text)
            names = script.help(line, column - 1)
            for name in names:
                doc = name.docstring()
                if doc:
                    return Hover(doc)
            return None

    def definition(self, path: Path, text: str, line: int, column: int) -> list[Location]:
        with self._lock:
            script = self._script(path, text)
            out = []
            for name in script.goto(line, column - 1, follow_imports=True):
                if name.module_path is None or name.line is None:
                    continue
                col = (name.column or 0) + 1
                out.append(Location(Path(name.module_path), name.line, col, name.line, col + len(name.name)))
            return out

    def signature_help(self, path: Path, text: str, line: int, column: int) -> SignatureHelp | None:
        with self._lock:
            script = self._script(path, text)
            sigs = script.get_signatures(line, column - 1)
            if not sigs:
                return None
            out = []
            for sig in sigs:
                label = sig.to_string()
                spans, start = [], label.find("(") + 1
                for param in sig.params:
                    text_p = param.to_string()
                    at = label.find(text_p, start)
                    if at >= 0:
                        spans.append((at, at + len(text_p)))
                        start = at + len(text_p)
                out.append(Signature(label, sig.docstring(raw=True), tuple(spans)))
            return SignatureHelp(tuple(out), 0, sigs[0].index or 0)
