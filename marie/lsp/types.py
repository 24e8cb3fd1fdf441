"""Result types of the language features, in editor terms: 1-based lines and 1-based code-point
columns (what the user sees), absolute ``Path``s. The same types come from a language server and from
the jedi fallback, so callers never care which answered. Converters from LSP JSON live here too.

The protocol's enumerations come from ``lsprotocol`` (the LSP specification's own Python types);
the client stays sans-IO and reads the JSON itself, so only the enums and the client capabilities
(``marie.lsp.supervisor``) use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, unquote, urlparse

from lsprotocol.types import CompletionItemKind, DiagnosticSeverity, InsertTextFormat, SymbolKind

from marie.text.positions import LineTable

# The words the views show (and map to icons): the enum member names in lower case, e.g. 1 -> "error",
# CompletionItemKind 20 -> "enummember", SymbolKind 26 -> "typeparameter".
SEVERITIES = {int(s): s.name.lower() for s in DiagnosticSeverity}
COMPLETION_KINDS = {int(k): k.name.lower() for k in CompletionItemKind}
SYMBOL_KINDS = {int(k): k.name.lower() for k in SymbolKind}


def path_to_uri(path: Path | str) -> str:
    return "file://" + quote(Path(path).resolve().as_posix(), safe="/:")


def uri_to_path(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme and parsed.scheme != "file":
        raise ValueError(f"not a file URI: {uri}")
    return Path(unquote(parsed.path))


@dataclass(frozen=True)
class Range:
    """1-based lines and code-point columns; ``end`` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str          # "error" | "warning" | "information" | "hint"
    message: str
    source: str = ""
    code: str = ""

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        source = f" ({self.source})" if self.source else ""
        return f"{self.line}:{self.column}: {self.severity}: {self.message}{code}{source}"


@dataclass(frozen=True)
class Location:
    path: Path
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class CompletionItem:
    label: str
    kind: str = ""
    detail: str = ""
    documentation: str = ""
    insert_text: str = ""        # what to insert (snippet syntax when is_snippet)
    is_snippet: bool = False
    sort_text: str = ""
    filter_text: str = ""
    replace: Range | None = None  # the text the insertion replaces (None: the word before the cursor)


@dataclass(frozen=True)
class Hover:
    text: str
    range: Range | None = None


@dataclass(frozen=True)
class Signature:
    label: str
    documentation: str = ""
    parameters: tuple[tuple[int, int], ...] = ()   # code-point spans of each parameter in label


@dataclass(frozen=True)
class SignatureHelp:
    signatures: tuple[Signature, ...]
    active_signature: int = 0
    active_parameter: int = 0


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str
    range: Range
    detail: str = ""
    container: str = ""
    children: tuple["Symbol", ...] = ()


@dataclass(frozen=True)
class TextEdit:
    range: Range
    new_text: str


@dataclass
class WorkspaceEdit:
    changes: dict[Path, list[TextEdit]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.changes.values())


@dataclass(frozen=True)
class Highlight:
    range: Range
    kind: str = "text"   # "text" | "read" | "write"


@dataclass(frozen=True)
class CodeAction:
    title: str
    kind: str = ""
    edit: WorkspaceEdit | None = None
    command: dict | None = None
    raw: dict | None = None


# -- converters from LSP JSON -------------------------------------------------------------------
LinesFor = Callable[[Path], LineTable]


def convert_range(raw: dict, lines: LineTable) -> Range:
    start, end = raw["start"], raw["end"]
    return Range(start["line"] + 1, lines.lsp_to_codepoint(start["line"], start["character"]) + 1,
                 end["line"] + 1, lines.lsp_to_codepoint(end["line"], end["character"]) + 1)


def to_lsp_range(rng: Range, lines: LineTable) -> dict:
    return {"start": {"line": rng.line - 1, "character": lines.codepoint_to_lsp(rng.line - 1, rng.column - 1)},
            "end": {"line": rng.end_line - 1, "character": lines.codepoint_to_lsp(rng.end_line - 1, rng.end_column - 1)}}


def _markup(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get("value", ""))
    if isinstance(value, list):
        return "\n\n".join(_markup(v) for v in value if _markup(v))
    return str(value)


def convert_diagnostics(raw: list[dict], lines: LineTable) -> list[Diagnostic]:
    out = []
    for item in raw or []:
        rng = convert_range(item["range"], lines)
        out.append(Diagnostic(rng.line, rng.column, rng.end_line, rng.end_column,
                              SEVERITIES.get(item.get("severity") or 1, "error"), item.get("message", ""),
                              item.get("source") or "", str(item.get("code") or "")))
    return sorted(out, key=lambda d: (d.line, d.column))


def convert_completion(raw: Any, lines: LineTable) -> list[CompletionItem]:
    items = raw.get("items", []) if isinstance(raw, dict) else (raw or [])
    out = []
    for item in items:
        edit = item.get("textEdit")
        replace = None
        insert = item.get("insertText") or item["label"]
        if isinstance(edit, dict):
            insert = edit.get("newText", insert)
            rng = edit.get("range") or edit.get("replace") or edit.get("insert")
            if rng:
                replace = convert_range(rng, lines)
        out.append(CompletionItem(
            label=item["label"], kind=COMPLETION_KINDS.get(item.get("kind") or 0, ""),
            detail=item.get("detail") or "", documentation=_markup(item.get("documentation")),
            insert_text=insert, is_snippet=item.get("insertTextFormat") == InsertTextFormat.Snippet,
            sort_text=item.get("sortText") or "", filter_text=item.get("filterText") or "", replace=replace))
    return out


def convert_hover(raw: Any, lines: LineTable) -> Hover | None:
    if not raw:
        return None
    text = _markup(raw.get("contents")).strip()
    if not text:
        return None
    rng = convert_range(raw["range"], lines) if raw.get("range") else None
    return Hover(text, rng)


def convert_locations(raw: Any, lines_for: LinesFor) -> list[Location]:
    if not raw:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    out = []
    for item in raw:
        uri = item.get("uri") or item.get("targetUri")
        rng = item.get("range") or item.get("targetSelectionRange") or item.get("targetRange")
        if not uri or not rng:
            continue
        try:
            path = uri_to_path(uri)
        except ValueError:
            continue
        r = convert_range(rng, lines_for(path))
        out.append(Location(path, r.line, r.column, r.end_line, r.end_column))
    return out


def convert_signature_help(raw: Any, encoding: str = "utf-16") -> SignatureHelp | None:
    if not raw or not raw.get("signatures"):
        return None
    signatures = []
    for sig in raw["signatures"]:
        label = sig.get("label", "")
        spans = []
        for param in sig.get("parameters") or []:
            plabel = param.get("label")
            if isinstance(plabel, list) and len(plabel) == 2:
                # offsets count the server's units into the label
                table = LineTable.of(label, encoding)
                spans.append((table.lsp_to_codepoint(0, plabel[0]), table.lsp_to_codepoint(0, plabel[1])))
            elif isinstance(plabel, str) and plabel in label:
                start = label.find(plabel)
                spans.append((start, start + len(plabel)))
        signatures.append(Signature(label, _markup(sig.get("documentation")), tuple(spans)))
    return SignatureHelp(tuple(signatures), raw.get("activeSignature") or 0, raw.get("activeParameter") or 0)


def convert_symbols(raw: Any, lines: LineTable) -> list[Symbol]:
    """DocumentSymbol trees as they come; flat SymbolInformation lists (pylsp) nested by range:
    a symbol goes under the closest earlier one whose range contains it."""
    raw = raw or []
    if raw and all("location" in item for item in raw):
        return _nest_flat(raw, lines)
    return _convert_tree(raw, lines)


def _nest_flat(raw: list[dict], lines: LineTable) -> list[Symbol]:
    nodes = []   # (range, symbol fields, children list)
    roots: list = []
    stack: list = []
    for item in raw:
        rng = convert_range(item["location"]["range"], lines)
        node: tuple[Range, dict, list] = (rng, item, [])
        while stack and not _contains(stack[-1][0], rng):
            stack.pop()
        (stack[-1][2] if stack else roots).append(node)
        stack.append(node)
        nodes.append(node)

    def build(node: tuple) -> Symbol:
        rng, item, children = node
        return Symbol(item.get("name", ""), SYMBOL_KINDS.get(item.get("kind") or 0, ""), rng, "",
                      item.get("containerName") or "", tuple(build(c) for c in children))

    return [build(n) for n in roots]


def _contains(outer: Range, inner: Range) -> bool:
    return (outer.line, outer.column) <= (inner.line, inner.column) and \
        (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column) and outer != inner


def _convert_tree(raw: Any, lines: LineTable) -> list[Symbol]:
    out = []
    for item in raw or []:
        rng = item.get("selectionRange") or item.get("range") or (item.get("location") or {}).get("range")
        if not rng:
            continue
        out.append(Symbol(item.get("name", ""), SYMBOL_KINDS.get(item.get("kind") or 0, ""),
                          convert_range(rng, lines), item.get("detail") or "", item.get("containerName") or "",
                          tuple(_convert_tree(item.get("children"), lines))))
    return out


def convert_text_edits(raw: Any, lines: LineTable) -> list[TextEdit]:
    return [TextEdit(convert_range(e["range"], lines), e.get("newText", "")) for e in raw or []]


def convert_workspace_edit(raw: Any, lines_for: LinesFor) -> WorkspaceEdit:
    edit = WorkspaceEdit()
    if not raw:
        return edit
    pairs: list[tuple[str, list]] = list((raw.get("changes") or {}).items())
    for change in raw.get("documentChanges") or []:
        if "textDocument" in change:
            pairs.append((change["textDocument"]["uri"], change.get("edits") or []))
        # create/rename/delete file operations are not offered by the servers we run; skipped
    for uri, edits in pairs:
        path = uri_to_path(uri)
        edit.changes.setdefault(path, []).extend(convert_text_edits(edits, lines_for(path)))
    return edit


def convert_highlights(raw: Any, lines: LineTable) -> list[Highlight]:
    kinds = {1: "text", 2: "read", 3: "write"}
    return [Highlight(convert_range(h["range"], lines), kinds.get(h.get("kind") or 1, "text")) for h in raw or []]


def convert_code_actions(raw: Any, lines_for: LinesFor) -> list[CodeAction]:
    out = []
    for item in raw or []:
        if "title" not in item:
            continue
        if isinstance(item.get("command"), str):  # a bare Command
            out.append(CodeAction(item["title"], "", None, item, item))
            continue
        edit = convert_workspace_edit(item["edit"], lines_for) if item.get("edit") else None
        out.append(CodeAction(item["title"], item.get("kind") or "", edit, item.get("command"), item))
    return out


# -- applying edits -------------------------------------------------------------------------------
def apply_text_edits(text: str, edits: list[TextEdit]) -> str:
    """Apply non-overlapping edits (positions relative to ``text``), last first so offsets hold."""
    lines = LineTable.of(text)
    spans: list[tuple[int, int, int, str]] = []
    for edit in edits:
        r = edit.range
        start = lines.position_to_offset(r.line - 1, r.column - 1)
        end = lines.position_to_offset(r.end_line - 1, r.end_column - 1)
        if r.end_line - 1 >= lines.line_count:
            end = len(text)
        spans.append((start, end, len(spans), edit.new_text))
    # Last first; among equal starts the later edit goes first so the given order survives (LSP
    # says several inserts at one position appear in the order they were given).
    for start, end, _index, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text
