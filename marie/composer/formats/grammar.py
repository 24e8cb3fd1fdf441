"""GBNF grammars that keep a llama.cpp model inside an edit format (``ChatRequest.grammar``).

With the grammar the answer is always well-formed once complete: a path line, then blocks with every
marker in place. The content lines are free text; ``max_tokens`` bounds their length, and an answer cut
off by that limit is caught by the parser and retried.
"""

from __future__ import annotations

from marie.composer.formats import canonical

_PATH = r'path ::= [A-Za-z0-9_.\-] [A-Za-z0-9_./\-]*'
_LINE = r'line ::= [^\n]* "\n"'

_GRAMMARS = {
    "search_replace": "\n".join([
        'root ::= block+',
        'block ::= path "\\n<<<<<<< SEARCH\\n" sline* "=======\\n" rline* ">>>>>>> REPLACE\\n" "\\n"?',
        # Content lines may not begin with a marker character run, so the markers stay unambiguous.
        'sline ::= ([^=<>\\n] [^\\n]* | [=<>] [^=<>\\n] [^\\n]* | [=<>] | "") "\\n"',
        'rline ::= ([^=<>\\n] [^\\n]* | [=<>] [^=<>\\n] [^\\n]* | [=<>] | "") "\\n"',
        _PATH,
    ]),
    "whole": "\n".join([
        'root ::= file+',
        'file ::= path "\\n```" [a-z]* "\\n" cline* "```\\n" "\\n"?',
        'cline ::= ([^`\\n] [^\\n]* | "`" [^`\\n] [^\\n]* | "`" | "") "\\n"',
        _PATH,
    ]),
    "udiff": "\n".join([
        'root ::= file+',
        'file ::= "--- " path "\\n+++ " path "\\n" hunk+',
        'hunk ::= "@@ " [^\\n]* "\\n" hline+',
        'hline ::= [ +\\-] [^\\n]* "\\n"',
        _PATH,
    ]),
}


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def grammar(name: str, paths: list[str] | None = None) -> str:
    """The GBNF grammar for edit format ``name``; with ``paths`` the model can only name those files
    (the files shown to it), so a small model cannot invent a path."""
    text = _GRAMMARS[canonical(name)]
    usable = [p for p in (paths or []) if p and "\n" not in p and all(ord(c) >= 32 for c in p)]
    if usable:
        text = text.replace(_PATH, "path ::= " + " | ".join(_literal(p) for p in usable))
        if len(usable) == 1 and canonical(name) == "whole":
            text = text.replace("root ::= file+", "root ::= file")  # one file: one block, then stop
    return text


def _line_literal(line: str) -> str:
    """A GBNF string literal for one file line plus its newline (control characters escaped)."""
    out = []
    for ch in line:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '\\n"'


def tight_search_replace(files: dict[str, str], *, new_file: bool = False, max_edits: int = 3,
                         max_replace_lines: int = 200) -> str:
    """A search/replace grammar that only allows what can apply: each block names one of ``files``,
    its SEARCH part is a run of that file's consecutive lines copied exactly (so every search
    matches), at most ``max_edits`` blocks, and a REPLACE part of at most ``max_replace_lines``
    lines. With ``new_file`` a block may also create a new path (empty SEARCH). The grammar ends
    after the last block, so generation stops there. Blank lines cannot start a SEARCH run (a run
    starting on a blank line matches too many places)."""
    rules = [f"root ::= block (\"\\n\"? block){{0,{max(0, max_edits - 1)}}}",
             'rline ::= ([^=<>\\n] [^\\n]* | [=<>] [^=<>\\n] [^\\n]* | [=<>] | "") "\\n"',
             f'replace ::= "=======\\n" rline{{0,{max_replace_lines}}} ">>>>>>> REPLACE\\n"']
    blocks = []
    for n, (path, text) in enumerate(files.items()):
        lines = text.splitlines()
        if not lines or "\n" in path:
            continue
        starts = [i for i, line in enumerate(lines) if line.strip()]
        if not starts:
            continue
        for i, line in enumerate(lines):
            tail = f" f{n}l{i + 1}?" if i + 1 < len(lines) else ""
            rules.append(f"f{n}l{i} ::= {_line_literal(line)}{tail}")
        rules.append(f"search{n} ::= " + " | ".join(f"f{n}l{i}" for i in starts))
        blocks.append(f'{_literal(path)} "\\n<<<<<<< SEARCH\\n" search{n} replace')
    if new_file:
        rules.append(_PATH)
        blocks.append('path "\\n<<<<<<< SEARCH\\n" replace')
    if not blocks:
        return grammar("search_replace", list(files))
    rules.insert(1, "block ::= " + " | ".join(blocks))
    return "\n".join(rules)
