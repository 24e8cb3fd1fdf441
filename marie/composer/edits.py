"""Edit operations parsed from a model's answer, and applying them to file texts in memory.

Every format parser produces the same operations: ``Replace`` (search/replace blocks and diff hunks),
``WholeFile`` (whole-file answers and created files), ``Delete`` and ``Rename``. ``apply_edits`` runs
them against the current texts and returns the new texts plus the matching tier of each edit; it never
touches the disk. Pure functions, any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from marie.composer import matching
from marie.composer.errors import EditError, NoMatch

# A line that stands for "unchanged code left out here" in a model's search block.
ELISION = re.compile(r"^\s*(\.\.\.|…|(#|//|--|/\*)\s*\.\.\.(.*)?)\s*$")


@dataclass
class Replace:
    path: str
    search: list[str]
    replace: list[str]
    hint: int | None = None       # 1-based line where the search text should start (a hint, never trusted alone)
    from_diff: bool = False       # a unified-diff hunk: may be split at its context lines when it does not match
    where: str = ""               # where in the answer it came from, for messages
    ops: list[tuple[str, str]] | None = None  # the hunk's own lines (" ", "-", "+") when from a diff
    counts: tuple[int, int, int, int] | None = None  # a diff header's (old start, old count, new start, new count)


@dataclass
class WholeFile:
    path: str
    content: str
    where: str = ""


@dataclass
class Delete:
    path: str
    where: str = ""


@dataclass
class Rename:
    src: str
    dst: str
    where: str = ""


Edit = Replace | WholeFile | Delete | Rename


@dataclass
class FileState:
    """One file while edits are applied: its text (None = absent) and what happened to it."""

    path: str
    base: str | None
    text: str | None
    renamed_from: str | None = None
    tiers: list[str] = field(default_factory=list)
    whole: bool = False


def edit_paths(edit: Edit) -> list[str]:
    if isinstance(edit, Rename):
        return [edit.src, edit.dst]
    return [edit.path]


def _lines(text: str) -> list[str]:
    return matching.split_lines(text)


def apply_replace(text: str | None, edit: Replace, fuzzy_threshold: float = matching.FUZZY_THRESHOLD) -> tuple[str, str]:
    """Apply one Replace to ``text``; returns (new text, tier). Raises EditError."""
    path = edit.path
    search = [matching.body(s) for s in edit.search]
    replace = [matching.body(s) for s in edit.replace]
    if text is None:
        if any(s.strip() for s in search):
            raise NoMatch(f"{path}: the file does not exist, so its lines cannot be replaced "
                          "(to create it, leave the search part empty)", path)
        return "".join(r + "\n" for r in replace), "create"
    lines = _lines(text)
    if edit.from_diff and edit.ops:
        # A well-formed hunk whose old side is at its stated line (or only at one place) applies there,
        # as GNU patch does, whatever its context looks like.
        by_numbers = _apply_by_line_numbers(lines, edit)
        if by_numbers is not None:
            return by_numbers
    if not any(s.strip() for s in search):
        if not text.strip():
            return "".join(r + matching.dominant_eol(lines) for r in replace), "exact"
        if edit.from_diff and edit.counts is not None:
            raise NoMatch(f"{path}: the hunk has no unchanged or removed lines to place it by, and its line "
                          "numbers do not fit the file; include the lines around the change", path)
        return "".join(matching.insert_at_end(lines, replace)), "append"
    pieces = _split_elided(search, replace, path)
    tiers: list[str] = []
    offset = 0
    hint = edit.hint
    for s_raw, r_raw in pieces:
        try:
            match, s_piece, r_piece = _locate_piece(lines, offset, s_raw, r_raw, hint, path, fuzzy_threshold)
            if edit.from_diff:
                _check_diff_edges(s_raw, r_raw, match, len(lines), path)
            new_lines = matching.replace_lines(lines, match, r_piece, s_piece, path,
                                               edit.ops if len(pieces) == 1 else None)
        except NoMatch as first_error:
            if not edit.from_diff or len(pieces) > 1:
                raise
            try:
                return _apply_split_hunk(text, edit, fuzzy_threshold)
            except EditError:
                raise first_error from None  # the whole hunk's problem is the one to report
        offset = match.start + (len(new_lines) - len(lines)) + (match.end - match.start)
        lines = new_lines
        hint = None
        tiers.append(match.tier)
    tier = max(tiers, key=matching.TIERS.index)
    if len(pieces) > 1:
        tier = f"{tier}+elided"
    return "".join(lines), tier


def _locate_piece(lines: list[str], offset: int, s_raw: list[str], r_raw: list[str], hint: int | None, path: str,
                  fuzzy_threshold: float) -> tuple[matching.Match, list[str], list[str]]:
    """Find one search piece in ``lines[offset:]``: as written first (its blank edge lines included, so
    it only matches where the file has them), else without the blank edge lines both parts share
    (copied spacing), and then only where the file has blank lines there too. Returns the match (in
    ``lines`` coordinates) and the search/replacement that go with it."""
    rel_hint = (hint - offset) if hint else None
    trimmed_s, trimmed_r = _trim_pair(s_raw, r_raw)
    if len(trimmed_s) != len(s_raw):
        try:
            match = matching.locate(lines[offset:], s_raw, hint=rel_hint, path=path,
                                    tiers=("exact", "whitespace", "indent"))
            return _shifted(match, offset), list(s_raw), list(r_raw)
        except NoMatch:
            pass
    match = _shifted(matching.locate(lines[offset:], trimmed_s, hint=rel_hint, path=path,
                                     fuzzy_threshold=fuzzy_threshold), offset)
    top, bottom = _trim_counts(s_raw, r_raw)
    before = lines[match.start - top:match.start] if match.start >= top else None
    after = lines[match.end:match.end + bottom] if match.end + bottom <= len(lines) else None
    if before is None or after is None or any(l.strip() for l in before + after):
        raise NoMatch(f"{path}: the lines to replace start or end with blank lines, but at line {match.start + 1} "
                      "the file has no blank lines there; copy the exact current lines (blank lines included)", path)
    return match, trimmed_s, trimmed_r


def _shifted(match: matching.Match, offset: int) -> matching.Match:
    return matching.Match(match.start + offset, match.end + offset, match.tier, match.shift, match.score)


def _apply_by_line_numbers(lines: list[str], edit: Replace) -> tuple[str, str] | None:
    """Apply a diff hunk by its header's line numbers when that is unambiguous: its whole old side
    (blank context lines included) is exactly at the stated line, or occurs exactly once in the file;
    a hunk with no old lines (``-U0`` insertion) goes right after the stated line. None otherwise (the
    caller then matches the hunk's text with the usual tiers)."""
    if edit.counts is None or not edit.ops:
        return None
    old_start, old_count = edit.counts[0], edit.counts[1]
    old = [t for op, t in edit.ops if op in " -"]
    new = [t for op, t in edit.ops if op in " +"]
    if len(old) != old_count or len(new) != edit.counts[3]:
        return None  # miscounted: the numbers are not trustworthy
    if not lines:
        return None
    eol = matching.dominant_eol(lines)
    if not old:
        if not 0 <= old_start <= len(lines):
            return None
        head = list(lines[:old_start])
        if head and not matching.eol_of(head[-1]):
            head[-1] += eol
        return "".join(head + [t + eol for t in new] + lines[old_start:]), "lines"
    bodies = [matching.body(l).rstrip() for l in lines]
    want = [t.rstrip() for t in old]
    places = [i for i in range(len(bodies) - len(want) + 1) if bodies[i:i + len(want)] == want]
    stated = old_start - 1
    if stated in places:
        start = stated
    elif len(places) == 1 and any(t.strip() for t in old):
        start = places[0]
    else:
        return None
    # Unchanged lines on both sides of the changes (blank ones count), unless the hunk reaches the
    # start or end of the file: a hunk with context on one side only may have left lines out.
    kinds = [op for op, _ in edit.ops]
    first = next(i for i, op in enumerate(kinds) if op != " ")
    last = max(i for i, op in enumerate(kinds) if op != " ")
    if (first == 0 and start > 0) or (last == len(kinds) - 1 and start + len(old) < len(lines)):
        return None
    out = list(lines[:start])
    i = start
    for op, t in edit.ops:
        if op == " ":
            out.append(lines[i])
            i += 1
        elif op == "-":
            i += 1
        else:
            if out and not matching.eol_of(out[-1]):
                out[-1] += eol  # lines added after a last line that had no newline
            out.append(t + eol)
    out += lines[i:]
    return "".join(out), "exact"  # the hunk's whole old side, exactly (trailing whitespace aside)


def _trim_pair(search: list[str], replace: list[str]) -> tuple[list[str], list[str]]:
    """Drop the blank lines that both parts have at their edges (copied spacing, which matching should
    not depend on); blank lines only one part has are a change and stay."""
    top, bottom = _trim_counts(search, replace)
    return search[top:len(search) - bottom], replace[top:len(replace) - bottom]


def _trim_counts(search: list[str], replace: list[str]) -> tuple[int, int]:
    """How many blank lines ``_trim_pair`` drops at the top and at the bottom of both parts."""
    def lead(lines: list[str]) -> int:
        n = 0
        while n < len(lines) and not lines[n].strip():
            n += 1
        return n

    def trail(lines: list[str], start: int) -> int:
        n = 0
        while n < len(lines) - start and not lines[len(lines) - 1 - n].strip():
            n += 1
        return n

    top = min(lead(search), lead(replace))
    search, replace = search[top:], replace[top:]
    bottom = min(trail(search, lead(search)), trail(replace, lead(replace)))
    return top, bottom


def _check_diff_edges(search: list[str], replace: list[str], match: matching.Match, n_lines: int, path: str) -> None:
    """A diff hunk shows unchanged lines on both sides of its changes unless it touches the start or end
    of the file. Added lines with no context after them, in the middle of a file, mean the model left
    context out, and their place is uncertain."""
    import difflib

    ops = [op for op in difflib.SequenceMatcher(a=search, b=replace, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not ops:
        return
    first, last = ops[0], ops[-1]
    if last[0] == "insert" and last[1] == len(search) and match.end < n_lines:
        raise NoMatch(f"{path}: the hunk's added lines at its end have no unchanged line after them, but the file "
                      "goes on; include the lines that follow", path)
    if first[0] == "insert" and first[1] == 0 and match.start > 0:
        raise NoMatch(f"{path}: the hunk's added lines at its start have no unchanged line before them; include "
                      "the lines that precede", path)


def _split_elided(search: list[str], replace: list[str], path: str) -> list[tuple[list[str], list[str]]]:
    """Split at "..." lines that stand for unchanged code (same count in search and replacement)."""
    s_marks = [i for i, line in enumerate(search) if ELISION.match(line)]
    if not s_marks:
        return [(search, replace)]
    r_marks = [i for i, line in enumerate(replace) if ELISION.match(line)]
    if len(s_marks) != len(r_marks):
        raise EditError(f"{path}: the search part leaves code out with '...' but the replacement does not "
                        "(or the other way round); write the lines out in full", path)
    pieces = []
    s_prev = r_prev = 0
    for s_i, r_i in zip(s_marks + [len(search)], r_marks + [len(replace)]):
        pieces.append((search[s_prev:s_i], replace[r_prev:r_i]))
        s_prev, r_prev = s_i + 1, r_i + 1
    out = [(s, r) for s, r in pieces if any(x.strip() for x in s)]
    if not out:
        raise EditError(f"{path}: the search part is only '...'", path)
    return out


def _apply_split_hunk(text: str, edit: Replace, fuzzy_threshold: float) -> tuple[str, str]:
    """A diff hunk that does not match as a whole (context lines missing or invented): apply each run
    of changes with its nearest context separately, in order. Each piece must match on its own."""
    ops = edit.ops or _hunk_ops(edit.search, edit.replace)
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(ops):
        if ops[i][0] == " ":
            i += 1
            continue
        j = i + 1
        # a run ends at a context line, or where removals start again after additions ("-+-+")
        while j < len(ops) and ops[j][0] != " " and not (ops[j][0] == "-" and ops[j - 1][0] == "+"):
            j += 1
        runs.append((i, j))
        i = j
    if len(runs) < 2:
        # One change run: retry with less context (the model may have invented a context line).
        return _apply_trimmed(text, edit, ops, fuzzy_threshold)
    lines = _lines(text)
    offset = 0
    tiers = []
    for k, (a, b) in enumerate(runs):
        lo = max(runs[k - 1][1] if k else 0, a - 3)
        hi = min(runs[k + 1][0] if k + 1 < len(runs) else len(ops), b + 3)
        piece = ops[lo:hi]
        if not _anchored(ops, lo, a, b, hi):
            raise NoMatch(f"{edit.path}: a part of the hunk has no unchanged lines on both sides to place it; "
                          "include the unchanged lines around added lines", edit.path)
        search, replace = _trim_pair([t for op, t in piece if op in " -"], [t for op, t in piece if op in " +"])
        match = matching.locate(lines[offset:], search, path=edit.path, fuzzy_threshold=fuzzy_threshold)
        match = matching.Match(match.start + offset, match.end + offset, match.tier, match.shift, match.score)
        new_lines = matching.replace_lines(lines, match, replace, search, edit.path)
        offset = match.end + (len(new_lines) - len(lines))
        lines = new_lines
        tiers.append(match.tier)
    return "".join(lines), max(tiers, key=matching.TIERS.index) + "+split"


def _apply_trimmed(text: str, edit: Replace, ops: list[tuple[str, str]], fuzzy_threshold: float) -> tuple[str, str]:
    first = next(i for i, (op, _) in enumerate(ops) if op != " ") if any(op != " " for op, _ in ops) else 0
    last = max((i for i, (op, _) in enumerate(ops) if op != " "), default=len(ops) - 1)
    error: EditError | None = None
    for keep in (2, 1):
        lo, hi = max(0, first - keep), min(len(ops), last + 1 + keep)
        if not _anchored(ops, lo, first, last + 1, hi):
            continue
        piece = ops[lo:hi]
        search, replace = _trim_pair([t for op, t in piece if op in " -"], [t for op, t in piece if op in " +"])
        if not any(s.strip() for s in search):
            continue
        lines = _lines(text)
        hint = edit.hint + sum(1 for op, _ in ops[:lo] if op in " -") if edit.hint else None
        try:
            match = matching.locate(lines, search, hint=hint, path=edit.path, fuzzy_threshold=fuzzy_threshold)
        except EditError as exc:
            error = error or exc
            continue
        if not _surroundings_agree(lines, match, ops, lo, hi):
            error = error or NoMatch(f"{edit.path}: the hunk's lines only match in part, at line {match.start + 1}, "
                                     "and the lines around it differ from the hunk; copy the exact current lines",
                                     edit.path)
            continue
        try:
            new_lines = matching.replace_lines(lines, match, replace, search, edit.path)
        except EditError as exc:
            error = error or exc
            continue
        return "".join(new_lines), match.tier + "+trimmed"
    raise error or NoMatch(f"{edit.path}: could not find the hunk's lines in the file", edit.path)


def _surroundings_agree(lines: list[str], match: matching.Match, ops: list[tuple[str, str]], lo: int, hi: int,
                        threshold: float = 0.85) -> bool:
    """After dropping context to find a match, the dropped lines must still look like the file around
    it (a model's invented or mistyped context line passes; a different place does not)."""
    from rapidfuzz import fuzz

    before = [t for op, t in ops[:lo] if op in " -"]
    after = [t for op, t in ops[hi:] if op in " -"]
    if not before and not after:
        return True
    start = max(0, match.start - len(before))
    end = min(len(lines), match.end + len(after))
    want = "\n".join(matching._squash(t) for t in before + [t for op, t in ops[lo:hi] if op in " -"] + after)
    have = "\n".join(matching._squash(matching.body(l)) for l in lines[start:end])
    if fuzz.ratio(want, have) < threshold * 100:
        return False
    # At most one dropped line may be missing near the match (one the model mistyped or invented);
    # more means the hunk describes some other, similar place.
    def keys(chunk: list[str]) -> set[str]:
        return {matching._squash(matching.body(l)) for l in chunk}

    near_before = keys(lines[max(0, match.start - len(before) - 1):match.start])
    near_after = keys(lines[match.end:match.end + len(after) + 1])
    missing = [t for t in before if t.strip() and matching._squash(t) not in near_before]
    missing += [t for t in after if t.strip() and matching._squash(t) not in near_after]
    return len(missing) <= 1


def _anchored(ops: list[tuple[str, str]], lo: int, a: int, b: int, hi: int) -> bool:
    """A run of changes ops[a:b] shown with context ops[lo:a] and ops[b:hi] can be placed: runs that
    remove lines are anchored by them; pure insertions need a non-blank unchanged line on each side
    (with context on one side only, a left-out line on the other side would put them in the wrong place)."""
    if any(op == "-" and t.strip() for op, t in ops[a:b]):
        return True
    before = any(op == " " and t.strip() for op, t in ops[lo:a])
    after = any(op == " " and t.strip() for op, t in ops[b:hi])
    return before and after


def _hunk_ops(search: list[str], replace: list[str]) -> list[tuple[str, str]]:
    """Rebuild the hunk's line operations from its old and new sides."""
    import difflib

    ops: list[tuple[str, str]] = []
    sm = difflib.SequenceMatcher(a=search, b=replace, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            ops += [(" ", t) for t in search[i1:i2]]
        else:
            ops += [("-", t) for t in search[i1:i2]]
            ops += [("+", t) for t in replace[j1:j2]]
    return ops


def whole_file_text(base: str | None, content: str) -> str:
    """The new text of a whole-file answer: the model's lines with the file's own line endings, and the
    exact original text kept for lines that differ only in trailing whitespace."""
    new = [matching.body(l) for l in matching.split_lines(content.replace("\r\n", "\n"))]
    if base is None:
        return "".join(b + "\n" for b in new)
    old_lines = matching.split_lines(base)
    eol = matching.dominant_eol(old_lines)
    old = [matching.body(l) for l in old_lines]
    import difflib

    # Lines are compared without trailing whitespace only: a change inside a line (re-aligned values,
    # a formatter's output) is a change, and is applied as proposed.
    sm = difflib.SequenceMatcher(a=[o.rstrip() for o in old], b=[n.rstrip() for n in new], autojunk=False)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out += old_lines[i1:i2]
        else:
            out += [b + eol for b in new[j1:j2]]
    # Keep the file's own convention for the final newline.
    if out and old_lines:
        if matching.eol_of(old_lines[-1]):
            if not matching.eol_of(out[-1]):
                out[-1] = out[-1] + eol
        else:
            out[-1] = matching.body(out[-1])
    return "".join(out)


def apply_edits(edits: list[Edit], read: Callable[[str], str | None],
                fuzzy_threshold: float = matching.FUZZY_THRESHOLD) -> tuple[dict[str, FileState], list[EditError]]:
    """Apply ``edits`` in order to texts obtained from ``read(path)`` (None when absent).

    Returns the state of every touched file and the errors; an edit that fails leaves its file as the
    previous edits made it and is reported (the caller decides whether a partial proposal is usable).
    """
    states: dict[str, FileState] = {}
    errors: list[EditError] = []

    def state(path: str) -> FileState:
        if path not in states:
            text = read(path)
            states[path] = FileState(path, text, text)
        return states[path]

    for edit in edits:
        try:
            if isinstance(edit, Replace):
                st = state(edit.path)
                st.text, tier = apply_replace(st.text, edit, fuzzy_threshold)
                st.tiers.append(tier)
            elif isinstance(edit, WholeFile):
                st = state(edit.path)
                st.text = whole_file_text(st.text, edit.content)
                st.tiers.append("whole" if st.base is not None else "create")
                st.whole = True
            elif isinstance(edit, Delete):
                st = state(edit.path)
                if st.text is None:
                    raise EditError(f"{edit.path}: cannot delete a file that does not exist", edit.path)
                st.text = None
                st.tiers.append("delete")
            elif isinstance(edit, Rename):
                src = state(edit.src)
                dst = state(edit.dst)
                if src.text is None:
                    raise EditError(f"{edit.src}: cannot rename a file that does not exist", edit.src)
                if dst.text is not None:
                    raise EditError(f"{edit.dst}: cannot rename {edit.src} onto an existing file", edit.dst)
                dst.text, src.text = src.text, None
                dst.renamed_from = edit.src
                dst.tiers.append("rename")
        except EditError as exc:
            errors.append(exc)
    return states, errors
