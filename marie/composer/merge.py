"""Three-way merge of line lists (base, ours = the proposal, theirs = the file as it is now).

No merge library is installed in this environment, so this is a small diff3 over ``difflib``: each side's
changes against the base are computed as line ranges; ranges that overlap or touch form a cluster; a
cluster changed on one side only (or identically on both) merges cleanly, anything else is a conflict.
Touching changes count as a conflict, as in ``git merge-file``, because they usually are one.
Pure, any thread.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass
class TextMerge:
    text: str                     # the merged text (with conflict markers where ``conflicts`` > 0)
    conflicts: int = 0
    conflict_lines: list[int] = field(default_factory=list)  # 1-based lines of the base where they start

    @property
    def clean(self) -> bool:
        return self.conflicts == 0


@dataclass(frozen=True)
class _Change:
    start: int
    end: int
    lines: tuple[str, ...]
    side: str


def _changes(base: list[str], other: list[str], side: str) -> list[_Change]:
    sm = difflib.SequenceMatcher(a=base, b=other, autojunk=False)
    return [_Change(i1, i2, tuple(other[j1:j2]), side) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"]


def _touch(a: _Change, b: _Change) -> bool:
    return a.start <= b.end and b.start <= a.end


def merge3(base: str, ours: str, theirs: str, *, ours_label: str = "proposal", theirs_label: str = "current") -> TextMerge:
    """Merge ``ours`` and ``theirs``, both derived from ``base``."""
    if ours == theirs:
        return TextMerge(ours)
    if theirs == base:
        return TextMerge(ours)
    if ours == base:
        return TextMerge(theirs)
    b = base.splitlines(keepends=True)
    o = ours.splitlines(keepends=True)
    t = theirs.splitlines(keepends=True)
    changes = sorted(_changes(b, o, "ours") + _changes(b, t, "theirs"), key=lambda c: (c.start, c.end))
    clusters: list[list[_Change]] = []
    for change in changes:
        if clusters and any(_touch(change, other) for other in clusters[-1]):
            clusters[-1].append(change)
        else:
            clusters.append([change])
    out: list[str] = []
    pos = 0
    conflicts = 0
    where: list[int] = []
    for cluster in clusters:
        start = min(c.start for c in cluster)
        end = max(c.end for c in cluster)
        out += b[pos:start]
        sides = {c.side for c in cluster}
        ours_text = _side_text(b, cluster, "ours", start, end)
        theirs_text = _side_text(b, cluster, "theirs", start, end)
        if len(sides) == 1 or ours_text == theirs_text:
            out += ours_text if "ours" in sides else theirs_text
        else:
            conflicts += 1
            where.append(start + 1)
            out.append(f"<<<<<<< {theirs_label}\n")
            out += _ensure_eol(theirs_text)
            out.append("=======\n")
            out += _ensure_eol(ours_text)
            out.append(f">>>>>>> {ours_label}\n")
        pos = end
    out += b[pos:]
    return TextMerge("".join(out), conflicts, where)


def _side_text(base: list[str], cluster: list[_Change], side: str, start: int, end: int) -> list[str]:
    """The cluster's base range as ``side`` rewrote it."""
    result: list[str] = []
    pos = start
    for change in sorted((c for c in cluster if c.side == side), key=lambda c: c.start):
        result += base[pos:change.start]
        result += list(change.lines)
        pos = change.end
    result += base[pos:end]
    return result


def _ensure_eol(lines: list[str]) -> list[str]:
    if lines and not lines[-1].endswith(("\n", "\r")):
        return lines[:-1] + [lines[-1] + "\n"]
    return lines
