"""LSP snippet text -> plain text plus where the caret goes (the first tab stop, its placeholder
selected). Scintilla has no snippet engine; one placeholder selected is the sensible subset:
``greet(${1:name})$0`` inserts ``greet(name)`` with ``name`` selected, ``print($0)`` puts the caret
between the parentheses. Pure function, any thread.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\\(.)|\$(\d+)|\$\{(\d+)(?::|\|)?|\$\{([A-Za-z_]\w*)(?::)?|\$([A-Za-z_]\w*)|\}|\|\}|(.)", re.S)


def expand(snippet: str) -> tuple[str, int, int]:
    """Returns (text, selection start, selection end) in code points of ``text``."""
    out: list[str] = []
    stops: dict[int, tuple[int, int]] = {}
    stack: list[tuple[int, int]] = []  # (tab stop number or -1 for variables, start offset)
    size = 0
    i = 0
    while i < len(snippet):
        m = _TOKEN.match(snippet, i)
        assert m
        i = m.end()
        escaped, simple, opened, var_open, var, *_ = m.groups()
        whole = m.group(0)
        if escaped is not None:
            out.append(escaped)
            size += 1
        elif simple is not None:
            stops.setdefault(int(simple), (size, size))
        elif opened is not None:
            stack.append((int(opened), size))
            if whole.endswith("|"):   # choice: keep the first option
                end = snippet.find("|}", i)
                choice = snippet[i:end if end != -1 else len(snippet)].split(",")[0]
                out.append(choice)
                size += len(choice)
                i = end + 2 if end != -1 else len(snippet)
                number, start = stack.pop()
                stops.setdefault(number, (start, size))
        elif var_open is not None:
            stack.append((-1, size))
        elif var is not None:
            pass   # variables ($TM_FILENAME ...) are not known here: inserted as nothing
        elif whole in ("}", "|}") and stack:
            number, start = stack.pop()
            if number >= 0:
                stops.setdefault(number, (start, size))
        else:
            out.append(whole)
            size += len(whole)
    text = "".join(out)
    positive = sorted(n for n in stops if n > 0)
    if positive:
        start, end = stops[positive[0]]
    elif 0 in stops:
        start, end = stops[0]
    else:
        start = end = len(text)
    return text, start, end
