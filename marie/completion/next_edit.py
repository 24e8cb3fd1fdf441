"""Next-edit suggestions: after an edit, the related edit elsewhere in the file.

``EditHistory`` turns successive texts into line edits (keystrokes on one line merge into one edit:
typing a new name is one rename). ``NextEditEngine`` looks at the last edit; when it replaced one
identifier by another (a rename of a parameter, a variable, a call), the other lines that still use
the old name are the candidates, nearest first. The model is asked, with an edit-history prompt on
the same request path as inline completion (the ``completion`` route and the ``app.ai`` gate), how
the nearest candidate line should read. Small models often answer something unusable: an answer is
taken only when it is one line that no longer uses the old name; otherwise the suggestion is the
rename applied to that line by rule, and says so (``source``). Methods: the owner's thread.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

from marie.ai import errors
from marie.completion.context import CompletionContext
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class LineEdit:
    line: int        # 0-based, in the text after the edit
    before: str
    after: str


@dataclass(frozen=True)
class NextEdit:
    """Replace line ``line`` (which reads ``original``) by ``replacement``."""

    line: int
    original: str
    replacement: str
    version: int
    old: str = ""
    new: str = ""
    source: str = "model"    # "model" or "rule"


class EditHistory:
    """The recent line edits of one document, newest last (at most ``size``)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.edits: list[LineEdit] = []

    def record(self, after: str, before: str) -> None:
        """Add the change from ``before`` to ``after`` (only single-line changes are tracked)."""
        if after == before:
            return
        limit = min(len(after), len(before))
        start = _common_prefix(after, before, limit)
        tail = _common_suffix(after, before, limit - start)
        line_start = after.rfind("\n", 0, start) + 1
        a_end = after.find("\n", len(after) - tail if tail else len(after))
        b_end = before.find("\n", len(before) - tail if tail else len(before))
        a_line = after[line_start: a_end if a_end >= 0 else len(after)]
        b_line = before[line_start: b_end if b_end >= 0 else len(before)]
        if "\n" in a_line or "\n" in b_line:
            return      # a multi-line change: not a line edit
        line = after.count("\n", 0, line_start)
        if self.edits and self.edits[-1].line == line:
            self.edits[-1] = LineEdit(line, self.edits[-1].before, a_line)
        else:
            self.edits.append(LineEdit(line, b_line, a_line))
            del self.edits[:-self.size]

    def last(self) -> LineEdit | None:
        return self.edits[-1] if self.edits else None


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix, by bisection over slice comparisons (C speed: a per-character
    Python loop over a 100 kB file would stall the GUI thread on every keystroke)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid: len(a) - lo] == b[len(b) - mid: len(b) - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def renamed(edit: LineEdit) -> tuple[str, str] | None:
    """(old, new) when the edit replaced exactly one identifier by another, else None."""
    old_words, new_words = _IDENT.findall(edit.before), _IDENT.findall(edit.after)
    if len(old_words) != len(new_words):
        return None
    pairs = {(a, b) for a, b in zip(old_words, new_words) if a != b}
    if len(pairs) != 1:
        return None
    old, new = pairs.pop()
    return (old, new) if old and new else None


def candidates(text: str, edit: LineEdit, old: str) -> list[tuple[int, str]]:
    """(line, text) of the other lines that still use ``old``, nearest to the edit first."""
    pattern = re.compile(rf"\b{re.escape(old)}\b")
    found = [(i, line) for i, line in enumerate(text.split("\n")) if i != edit.line and pattern.search(line)]
    return sorted(found, key=lambda item: (abs(item[0] - edit.line), item[0]))


def history_prompt(history: EditHistory, line: int, original: str, old: str, new: str) -> str:
    """The edit-history prompt: what changed, then the line to change, its new form left open."""
    parts = ["Recent edits in this file:"]
    for e in history.edits[-3:]:
        parts.append(f"line {e.line + 1}:\n- {e.before}\n+ {e.after}")
    parts.append(f"The same change ({old} -> {new}) applied to line {line + 1}:\n- {original}\n+ ")
    return "\n".join(parts)


def by_rule(original: str, old: str, new: str) -> str:
    return re.sub(rf"\b{re.escape(old)}\b", new, original)


def acceptable(answer: str, original: str, old: str, new: str) -> str | None:
    """The model's line when it is usable: one line, changed, without the old name, with the same
    names in the same order as the rename would give (it may differ in spacing and punctuation
    only: the small local model otherwise rewrites strings and statements), re-indented like the
    original."""
    line = answer.split("\n", 1)[0].rstrip()
    if not line.strip() or re.search(rf"\b{re.escape(old)}\b", line):
        return None
    indent = original[: len(original) - len(original.lstrip())]
    line = indent + line.strip()
    if line == original or _IDENT.findall(line) != _IDENT.findall(by_rule(original, old, new)):
        return None
    if re.sub(r"\s+", "", line) != re.sub(r"\s+", "", by_rule(original, old, new)):
        return None      # other punctuation or literals than the rename gives: not the same edit
    return line


def suggest(service: Any, history: EditHistory, text: str, version: int,
            token: CancelToken | None = None) -> NextEdit | None:
    """The next edit after the history's last one, or None. Blocking (worker thread)."""
    edit = history.last()
    if edit is None:
        return None
    pair = renamed(edit)
    if pair is None:
        return None
    old, new = pair
    found = candidates(text, edit, old)
    if not found:
        return None
    line, original = found[0]
    prompt = history_prompt(history, line, original, old, new)
    ctx = CompletionContext(path="", language="", prefix=prompt, suffix="", full_prefix=prompt,
                            line_before="+ ", rest_of_line="", following="")
    try:
        answer = service.backend().run(ctx, max_tokens=max(16, len(original) // 2 + 8), token=token, on_text=None)
    except errors.AIError as exc:
        log.info("next-edit request failed: %s", exc)
        answer = None
    model_line = acceptable(answer.text, original, old, new) if answer is not None else None
    if model_line is not None:
        return NextEdit(line, original, model_line, version, old, new, "model")
    return NextEdit(line, original, by_rule(original, old, new), version, old, new, "rule")


class NextEditEngine:
    """Asks for the next edit after each edit (debounced like completion, cancelled by the next)."""

    def __init__(self, service: Any, on_next_edit: Callable[[NextEdit], None]) -> None:
        self.service = service
        self.on_next_edit = on_next_edit
        self._token: CancelToken | None = None

    def cancel(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            token.cancel()

    def after_edit(self, history: EditHistory, text: str, version: int) -> None:
        self.cancel()
        edit = history.last()
        if edit is None or renamed(edit) is None:
            return
        token = self._token = CancelToken()
        snapshot = EditHistory(history.size)
        snapshot.edits = list(history.edits)
        # a rename is typed a key at a time: wait for a pause longer than the completion debounce
        delay = max(0.3, 4 * float(self.service.settings.get("completion.debounce_ms")) / 1000)

        def work(_ctx: Any) -> NextEdit | None:
            if token.wait(delay):
                raise Cancelled()
            return suggest(self.service, snapshot, text, version, token)

        def done(result: NextEdit | None) -> None:
            if result is not None and not token.cancelled:
                self.on_next_edit(result)

        self.service.app.tasks.submit(work, name="next edit", worker="completion", token=token,
                                      on_done=done, quiet=True)
