"""The context of one completion: the file around the caret within a budget, plus a few snippets
from other files ranked by similarity to the caret's lines.

The window's start is *stable*: it moves only in steps of a quarter of the budget, so consecutive
keystrokes send prompts that share everything up to the caret and the local model reuses its KV
cache for all of it. Snippets are re-ranked only when the caret changes region for the same reason.
Budgets are in tokens, converted at ``CHARS_PER_TOKEN`` (the parent process has no tokenizer; code
averages 3-4 characters per token for the models here). Pure Python, any thread (the window
cache below has a lock).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

CHARS_PER_TOKEN = 3.0
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Snippet:
    path: str      # workspace-relative (as the prompt shows it)
    text: str
    score: float


@dataclass(frozen=True)
class Budget:
    tokens: int = 1024
    suffix_share: float = 0.25     # of the budget, when the backend takes a suffix
    snippet_share: float = 0.25
    snippets: int = 3
    snippet_lines: int = 12

    @property
    def chars(self) -> int:
        return int(self.tokens * CHARS_PER_TOKEN)


@dataclass(frozen=True)
class CompletionContext:
    """What the prompt is built from. ``prefix``/``suffix`` are the window's text before/after the
    caret; ``full_prefix`` is all the text before the caret (the cache key)."""

    path: str
    language: str
    prefix: str
    suffix: str
    full_prefix: str
    line_before: str
    rest_of_line: str
    following: str
    snippets: tuple[Snippet, ...] = field(default=())


def window_start(caret: int, text: str, budget_chars: int) -> int:
    """Where the window before ``caret`` starts: a line start, moved in quarter-budget steps."""
    if caret <= budget_chars:
        return 0
    step = max(1, budget_chars // 4)
    target = caret - budget_chars
    start = -(-target // step) * step            # round up to a step
    nl = text.find("\n", start, caret)
    return nl + 1 if nl >= 0 else start


def build(text: str, caret: int, path: str, language: str, budget: Budget, *, with_suffix: bool,
          others: list[tuple[str, str]] | tuple = (), memo: dict | None = None) -> CompletionContext:
    """The context at ``caret`` (a character offset into ``text``). ``others`` are (relative path,
    text) of open tabs and recently edited files, already filtered by the ignore rules. ``memo``
    (a dict the caller keeps per editor) holds the snippet choice while the caret stays in one
    region of 8 lines with the same window start, so the prompt's head stays the same."""
    caret = max(0, min(caret, len(text)))
    line_start = text.rfind("\n", 0, caret) + 1
    line_end = text.find("\n", caret)
    if line_end < 0:
        line_end = len(text)
    snippet_chars = int(budget.chars * budget.snippet_share) if others else 0
    suffix_chars = int(budget.chars * budget.suffix_share) if with_suffix else 0
    prefix_chars = max(256, budget.chars - snippet_chars - suffix_chars)
    start = window_start(caret, text, prefix_chars)
    suffix = ""
    if with_suffix:
        end = min(len(text), caret + suffix_chars)
        if end < len(text):
            nl = text.rfind("\n", caret, end)
            end = nl if nl > caret else end     # whole lines where possible
        suffix = text[caret:end]
    following = text[line_end + 1: line_end + 1 + 400] if line_end < len(text) else ""
    region = (path, start, text.count("\n", 0, caret) // 8, tuple(p for p, _ in others))
    snippets = memo.get(region) if memo is not None else None
    if snippets is None:
        snippets = rank_snippets(text[max(line_start - 2000, 0): caret], others, budget, snippet_chars)
        if memo is not None:
            memo.clear()
            memo[region] = snippets
    return CompletionContext(path=path, language=language, prefix=text[start:caret], suffix=suffix,
                             full_prefix=text[:caret], line_before=text[line_start:caret],
                             rest_of_line=text[caret:line_end], following=following, snippets=snippets)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text))


# The windows of a file and their identifiers, kept per (path, window size, text): an open tab's
# text is the same str from keystroke to keystroke (its editor copies it once per change), so only
# a file that changed is cut up again. Scoring the kept windows is set arithmetic, ~10x cheaper
# than cutting them up (measured: 8 open 100-230 kB files, 104-145 ms -> 9-10 ms per ranking),
# which delays the suggestion less and keeps the worker off the interpreter lock the GUI needs.
_WINDOWS: OrderedDict[tuple[str, int, str], tuple[tuple[str, frozenset[str]], ...]] = OrderedDict()
_WINDOWS_KEPT = 24
_windows_lock = threading.Lock()


def _windows(path: str, text: str, n: int) -> tuple[tuple[str, frozenset[str]], ...]:
    """(window text, its identifiers) for the windows of ``n`` lines every ``n // 2`` lines that
    hold an identifier, in order."""
    key = (path, n, text)
    with _windows_lock:
        hit = _WINDOWS.get(key)
        if hit is not None:
            _WINDOWS.move_to_end(key)
            return hit
    lines = text.split("\n")
    out = []
    for i in range(0, max(1, len(lines) - n // 2), max(1, n // 2)):
        chunk = "\n".join(lines[i:i + n])
        words = frozenset(_WORD.findall(chunk))
        if words:
            out.append((chunk, words))
    windows = tuple(out)
    with _windows_lock:
        _WINDOWS[key] = windows
        while len(_WINDOWS) > _WINDOWS_KEPT:
            _WINDOWS.popitem(last=False)
    return windows


def rank_snippets(near_caret: str, others: list[tuple[str, str]] | tuple, budget: Budget,
                  max_chars: int) -> tuple[Snippet, ...]:
    """The windows of ``others`` most like the caret's last lines (Jaccard similarity of their
    identifiers), best first, within ``max_chars`` in all."""
    if not others or max_chars <= 0 or budget.snippets <= 0:
        return ()
    n = max(2, budget.snippet_lines)
    probe = _words("\n".join(near_caret.split("\n")[-n:]))
    if not probe:
        return ()
    scored: list[Snippet] = []
    for path, other in others:
        best: Snippet | None = None
        best_score = -1.0
        for chunk, words in _windows(path, other, n):
            common = len(probe & words)
            score = common / (len(probe) + len(words) - common)
            if score > best_score:
                best, best_score = Snippet(path, chunk, score), score
        if best is not None and best.score >= 0.05:
            scored.append(best)
    scored.sort(key=lambda s: -s.score)
    out: list[Snippet] = []
    used = 0
    for snippet in scored[: budget.snippets]:
        if used + len(snippet.text) > max_chars:
            continue
        out.append(snippet)
        used += len(snippet.text)
    return tuple(out)
