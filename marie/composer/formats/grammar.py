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
