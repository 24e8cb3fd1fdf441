"""A repository map for the prompt: the workspace's symbols, most relevant first, within a budget.

Relevance (a small stand-in for Aider's PageRank map): files mentioned or open rank first, then files
whose path or symbols share words with the instruction, then files whose symbols are named in the
mentioned files' text. Symbols come from ``app.index`` (tree-sitter). Worker thread.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def words(text: str) -> set[str]:
    out: set[str] = set()
    for w in _WORD.findall(text):
        out.add(w.lower())
        for part in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", w):
            if len(part) > 2:
                out.add(part.lower())
    return out


def build_repo_map(files: list[str], symbols_of: Callable[[str], list[Any]], *, instruction: str,
                   focus: list[str], focus_text: str, budget_tokens: int, count: Callable[[str], int],
                   max_files: int = 400) -> tuple[str, list[str]]:
    """Return (map text, files left out for lack of room)."""
    want = words(instruction)
    mentioned = Counter(_WORD.findall(focus_text))
    scored: list[tuple[float, str, list[Any]]] = []
    for rel in files[: max_files * 5]:
        try:
            syms = symbols_of(rel)
        except Exception:
            syms = []
        if not syms:
            continue
        score = 0.0
        if rel in focus:
            score += 100
        score += 3 * len(words(rel) & want)
        names = {s.name for s in syms}
        score += sum(2 for n in names if n.lower() in want)
        score += sum(min(mentioned[n], 3) for n in names)
        scored.append((score, rel, syms))
    scored.sort(key=lambda t: (-t[0], t[1]))
    lines: list[str] = []
    left_out: list[str] = []
    used = 0
    for score, rel, syms in scored[:max_files]:
        block = rel + ":\n" + "".join(
            f"  {'  ' if s.container else ''}{s.kind} {s.name} (line {s.line})\n" for s in syms[:40])
        cost = count(block)
        if used + cost > budget_tokens:
            left_out.append(rel)
            continue
        lines.append(block)
        used += cost
    left_out += [rel for _, rel, _ in scored[max_files:]]
    return "".join(lines), left_out
