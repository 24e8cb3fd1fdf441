"""Locate a block of lines in a file and replace it, tolerating the ways models get text slightly wrong.

Tiers, tried in order and reported per edit:

``exact``        the lines are identical (line endings aside: matching is done on line bodies, so CRLF
                 files match LF search text and are written back with their own endings);
``whitespace``   identical after dropping trailing whitespace and collapsing runs of inner whitespace,
                 with the same indentation;
``indent``       identical after stripping, with one consistent indentation shift; the replacement is
                 re-indented by the same shift in the file's own style (tabs or spaces);
``fuzzy``        the search lines found in order with a few lines left out between them ("elided
                 context"), else a window whose similarity (rapidfuzz ratio on stripped lines) reaches
                 the threshold with no other non-overlapping window nearly as good. The edit is then
                 merged into the window (``fuzzy_merge``): lines the model left out stay, and when they
                 sit where the model changes things the edit is refused.

At every tier several equally good places are an error (``AmbiguousMatch``) unless a line hint picks
exactly one of them: we never guess. Pure functions, any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from marie.composer.errors import AmbiguousMatch, NoMatch

TIERS = ("exact", "whitespace", "indent", "fuzzy")
FUZZY_THRESHOLD = 0.88
FUZZY_MARGIN = 0.03      # a rival window this close to the best one makes the match ambiguous
HINT_SLACK = 4           # a line hint may be off by this many lines and still pick a match
TAB = 4

_INNER_WS = re.compile(r"\s+")


def body(line: str) -> str:
    """A line without its line ending."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def eol_of(line: str) -> str:
    return line[len(body(line)):]


def split_lines(text: str) -> list[str]:
    """Lines with their own endings kept (``"\\r\\n"``, ``"\\n"`` or ``"\\r"``)."""
    return text.splitlines(keepends=True)


def dominant_eol(lines: list[str]) -> str:
    counts: dict[str, int] = {}
    for line in lines:
        end = eol_of(line)
        if end:
            counts[end] = counts.get(end, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else "\n"


def _lead(s: str) -> str:
    return s[: len(s) - len(s.lstrip(" \t"))]


def _width(ws: str) -> int:
    return len(ws.expandtabs(TAB))


def _squash(s: str) -> str:
    return _INNER_WS.sub(" ", s.strip())


@dataclass(frozen=True)
class Match:
    start: int          # first matched line (0-based)
    end: int            # one past the last matched line
    tier: str
    shift: int = 0      # indentation to add (columns) to the replacement, for "indent"/"fuzzy"
    score: float = 1.0


def _key(tier: str, line: str) -> str:
    if tier == "exact":
        return line
    if tier == "whitespace":
        return _lead(line) + _squash(line) if line.strip() else ""
    return _squash(line)  # indent: compared without indentation


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _consistent_shift(file_bodies: list[str], search: list[str]) -> int | None:
    """The single indentation shift (file minus search, in columns) or None when it varies."""
    shift: int | None = None
    for f, s in zip(file_bodies, search):
        if not f.strip():
            continue
        d = _width(_lead(f)) - _width(_lead(s))
        if shift is None:
            shift = d
        elif d != shift:
            return None
    return shift or 0


def _pick(candidates: list[Match], hint: int | None, what: str, path: str) -> Match:
    if len(candidates) == 1:
        return candidates[0]
    chosen = _by_hint(candidates, hint)
    if chosen is not None:
        return chosen
    lines = ", ".join(str(m.start + 1) for m in candidates[:8])
    raise AmbiguousMatch(
        f"{path}: the lines to replace ({what}) occur {len(candidates)} times (at lines {lines}); "
        "include more surrounding lines so the place is unique, or give the line number", path)


def _by_hint(candidates: list[Match], hint: int | None) -> Match | None:
    """The one candidate nearest the hint, if it is within the slack and strictly nearest."""
    if hint is None:
        return None
    ranked = sorted(candidates, key=lambda m: abs((m.start + 1) - hint))
    best = abs((ranked[0].start + 1) - hint)
    if best > HINT_SLACK:
        return None
    if len(ranked) > 1 and abs((ranked[1].start + 1) - hint) == best:
        return None
    return ranked[0]


def locate(file_lines: list[str], search_lines: list[str], *, hint: int | None = None,
           path: str = "", fuzzy_threshold: float = FUZZY_THRESHOLD, tiers: tuple[str, ...] = TIERS) -> Match:
    """Find ``search_lines`` (bodies, no endings) in ``file_lines`` (with endings); raise if absent/ambiguous."""
    bodies = [body(line) for line in file_lines]
    # Blank lines at the edges stay: the caller trimmed those the model merely copied, and the ones left
    # are part of the change (a blank line removed or added next to the block).
    search = [body(s) for s in search_lines]
    if not any(s.strip() for s in search):
        raise NoMatch(f"{path}: the text to replace is empty", path)
    n, m = len(bodies), len(search)
    preview = next(s for s in search if s.strip()).strip()[:60]
    for tier in tiers:
        if tier == "fuzzy":
            break
        want = [_key(tier, s) for s in search]
        keys = [_key(tier, b) for b in bodies]
        found: list[Match] = []
        first = want[0]
        for i in range(0, n - m + 1):
            if keys[i] != first or keys[i:i + m] != want:
                continue
            shift = 0
            if tier == "indent":
                got = _consistent_shift(bodies[i:i + m], search)
                if got is None:
                    continue
                shift = got
            found.append(Match(i, i + m, tier, shift))
        if found:
            chosen = _pick(found, hint, f"starting {preview!r}", path)
            _check_hint(bodies, search, chosen, hint, path)
            return chosen
    if "fuzzy" not in tiers:
        raise NoMatch(_no_match_message(path, search, bodies, None), path)
    gapped = _gapped(bodies, search)
    if gapped:
        best = _pick(gapped, hint, f"starting {preview!r}", path)
        shift = _fuzzy_shift(bodies[best.start:best.end], search)
        return Match(best.start, best.end, "fuzzy", shift, best.score)
    return _fuzzy(bodies, search, hint, path, fuzzy_threshold)


MAX_GAP = 3
HINT_FAR = 30


def _check_hint(bodies: list[str], search: list[str], chosen: Match, hint: int | None, path: str) -> None:
    """A match far from the model's line hint while the lines, with a few left out, also fit at the
    hinted place: the model may have dropped the line that told the two apart. Refuse, never guess."""
    if hint is None or abs((chosen.start + 1) - hint) <= HINT_FAR:
        return
    for other in _gapped(bodies, search):
        if other.start != chosen.start and abs((other.start + 1) - hint) <= HINT_SLACK * 3:
            raise AmbiguousMatch(
                f"{path}: the lines match at line {chosen.start + 1}, but the answer points at line {hint}, where "
                "they also nearly match; copy the exact current lines so the place is unique", path)


def _gapped(bodies: list[str], search: list[str]) -> list[Match]:
    """Places where every non-blank search line occurs, in order, with at most ``MAX_GAP`` other lines
    in between: the model left out a few context lines. Lines must agree once whitespace is collapsed."""
    want = [_squash(s) for s in search if s.strip()]
    if len(want) < 2:
        return []
    keys = [_squash(b) for b in bodies]
    found: list[Match] = []
    for i, key in enumerate(keys):
        if key != want[0]:
            continue
        j, k, skipped = i + 1, 1, 0
        while k < len(want) and j < len(keys) and skipped <= MAX_GAP:
            if keys[j] == want[k]:
                k += 1
            elif keys[j]:
                skipped += 1
            j += 1
        if k == len(want) and skipped <= MAX_GAP:
            found.append(Match(i, j, "fuzzy", 0, 1.0))
    return found


def _fuzzy(bodies: list[str], search: list[str], hint: int | None, path: str, threshold: float) -> Match:
    m = len(search)
    target = "\n".join(_squash(s) for s in search if s.strip())
    stripped = [_squash(b) for b in bodies]
    scored: list[Match] = []
    best_any = (0.0, -1)
    for length in sorted({max(1, m + d) for d in (0, -1, 1, -2, 2)}):
        for i in range(0, len(bodies) - length + 1):
            window = stripped[i:i + length]
            if not window[0] or not window[-1]:
                continue  # windows start and end on real lines, so blank edges never tie
            text = "\n".join(w for w in window if w)
            score = fuzz.ratio(target, text, score_cutoff=threshold * 100 - 10) / 100.0
            if score > best_any[0]:
                best_any = (score, i)
            if score >= threshold:
                scored.append(Match(i, i + length, "fuzzy", 0, score))
    if not scored:
        raise NoMatch(_no_match_message(path, search, bodies, best_any), path)
    scored.sort(key=lambda c: (-c.score, abs((c.end - c.start) - m), c.start))
    best = scored[0]
    rivals = [c for c in scored[1:] if (c.end <= best.start or c.start >= best.end) and c.score >= best.score - FUZZY_MARGIN]
    if rivals:
        chosen = _by_hint([best, *rivals], hint)
        if chosen is not None:
            best, rivals = chosen, []
        if rivals:
            places = ", ".join(str(c.start + 1) for c in [best, *rivals][:8])
            raise AmbiguousMatch(
                f"{path}: the lines to replace only match approximately, and equally well at lines {places}; "
                "copy the exact current lines (with more context) so the place is unique", path)
    shift = _fuzzy_shift(bodies[best.start:best.end], search)
    return Match(best.start, best.end, "fuzzy", shift, best.score)


def _fuzzy_shift(window: list[str], search: list[str]) -> int:
    """Indentation shift taken from lines that agree once stripped (0 when none do)."""
    diffs: list[int] = []
    index = {}
    for line in window:
        if line.strip():
            index.setdefault(_squash(line), line)
    for s in search:
        f = index.get(_squash(s)) if s.strip() else None
        if f is not None:
            diffs.append(_width(_lead(f)) - _width(_lead(s)))
    if not diffs:
        return 0
    diffs.sort()
    return diffs[len(diffs) // 2]


def _no_match_message(path: str, search: list[str], bodies: list[str], best: tuple[float, int] | None) -> str:
    head = search[0].strip()[:70]
    msg = f"{path}: could not find the lines to replace (starting {head!r}) in the file"
    if best and best[1] >= 0 and best[0] > 0.5:
        line = best[1]
        msg += (f"; the closest place is line {line + 1} ({best[0]:.0%} similar): "
                f"{bodies[line].strip()[:70]!r}")
    return msg + ". Copy the current lines exactly."


def _ws_key(line: str) -> str:
    """Indentation width plus the text with whitespace runs collapsed: what a model means by a line."""
    # Whitespace-only lines keep their exact text: which of two blank lines the model removed can
    # differ only by it.
    return f"{_width(_lead(line))}|{_squash(line)}" if line.strip() else "\x00" + line


def prefix_rule(file_bodies: list[str], search: list[str]) -> tuple[str, str] | None:
    """How the model's indentation relates to the file's, as a string prefix to add or remove, taken from
    the first line both agree on; keeps the model's own relative whitespace (tabs included)."""
    by_key: dict[str, str] = {}
    for f in file_bodies:
        if f.strip():
            by_key.setdefault(_squash(f), f)
    for line in search:
        if not line.strip():
            continue
        f = by_key.get(_squash(line))
        if f is None:
            continue
        fl, sl = _lead(f), _lead(line)
        if fl == sl:
            return None
        if fl.endswith(sl):
            return ("add", fl[: len(fl) - len(sl)])
        if sl.endswith(fl):
            return ("del", sl[: len(sl) - len(fl)])
        return None
    return None


def reindent(lines: list[str], shift: int, style_lines: list[str], rule: tuple[str, str] | None = None) -> list[str]:
    """Shift the indentation of ``lines`` (bodies) by ``shift`` columns, in the file's style."""
    if not shift:
        return list(lines)
    use_tabs = any(_lead(s).startswith("\t") for s in style_lines if s.strip())
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
            continue
        if rule is not None and rule[0] == "add":
            out.append(rule[1] + line)
            continue
        if rule is not None and rule[0] == "del" and line.startswith(rule[1]):
            out.append(line[len(rule[1]):])
            continue
        width = max(0, _width(_lead(line)) + shift)
        lead = ("\t" * (width // TAB) + " " * (width % TAB)) if use_tabs else " " * width
        out.append(lead + line.lstrip(" \t"))
    return out


DRIFT_RATIO = 0.75


def _conflict(i1: int, i2: int, a1: int, a2: int) -> bool:
    """Whether the file's unexplained lines (search range [i1, i2)) and the model's change ([a1, a2))
    leave the result uncertain. Lines next to a replaced block stay where they are; lines inside it,
    or at the very point where the model inserts, could go either way."""
    if i1 == i2 and a1 == a2:
        return i1 == a1
    if i1 == i2:
        return a1 < i1 < a2
    if a1 == a2:
        return i1 < a1 < i2
    return i1 < a2 and a1 < i2


def fuzzy_merge(window: list[str], search: list[str], replacement: list[str], shift: int, path: str = "",
                rule: tuple[str, str] | None = None) -> list[str]:
    """Apply the edit (search -> replacement) to a window that only resembles the search text.

    The window's differences from the search text are kept unless the edit rewrites those very lines:
    a line the model copied with small mistakes ("drift", 1:1 and similar) is simply replaced; lines
    the model left out or invented next to a change make the place uncertain, and the edit is refused
    rather than guessed (raises NoMatch).
    """
    import difflib

    key_s = [_squash(x) for x in search]
    key_w = [_squash(x) for x in window]
    # The model's own change (search -> replacement) is read exactly: both parts are the model's text,
    # so any difference, whitespace inside a line included, is what it proposes.
    ours = [op for op in difflib.SequenceMatcher(a=list(search), b=list(replacement),
                                                 autojunk=False).get_opcodes() if op[0] != "equal"]
    theirs = difflib.SequenceMatcher(a=key_s, b=key_w, autojunk=False).get_opcodes()
    mapped: dict[int, str] = {}          # search line -> the window line it corresponds to
    extra: list[tuple[int, int, int, int]] = []  # window changes that are not drift
    for tag, i1, i2, j1, j2 in theirs:
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1 and all(
                fuzz.ratio(key_s[i1 + k], key_w[j1 + k]) >= DRIFT_RATIO * 100 for k in range(i2 - i1))):
            for k in range(i2 - i1):
                mapped[i1 + k] = window[j1 + k]
        else:
            extra.append((i1, i2, j1, j2))
    ws_s = [_ws_key(x) for x in search]

    def slides(a1: int, a2: int, point: int) -> bool:
        # A removed block whose edge line repeats next to it could equally be the block one line over,
        # which would put the file's extra line on the other side of the change.
        if a1 == a2:
            return False
        if point == a2 and a2 < len(ws_s) and ws_s[a1] == ws_s[a2]:
            return True
        return point == a1 and a1 > 0 and ws_s[a1 - 1] == ws_s[a2 - 1]

    for i1, i2, _j1, _j2 in extra:
        for _tag, a1, a2, _b1, _b2 in ours:
            if _conflict(i1, i2, a1, a2) or (i1 == i2 and slides(a1, a2, i1)):
                raise NoMatch(f"{path}: the lines to replace only resemble the file near the change (lines are "
                              "missing or different there), so the edit was not applied; copy the exact current "
                              "lines", path)
    new_lines = reindent(replacement, shift, window, rule)
    out: list[str] = []
    i = 0
    ours_at = {a1: (a2, b1, b2) for _t, a1, a2, b1, b2 in ours}
    extra_at = {i1: (i2, j1, j2) for i1, i2, j1, j2 in extra}
    m = len(search)
    while i <= m:
        if i in extra_at and extra_at[i][0] == i:  # window lines with no counterpart in the search text
            _, j1, j2 = extra_at.pop(i)
            out += window[j1:j2]
            continue
        if i in ours_at:
            a2, b1, b2 = ours_at.pop(i)
            out += new_lines[b1:b2]
            if a2 > i:
                i = a2
                continue
            if i in extra_at or i in ours_at:
                continue
        if i in extra_at:
            i2, j1, j2 = extra_at.pop(i)
            out += window[j1:j2]
            i = i2
            continue
        if i < m:
            out.append(mapped.get(i, search[i]))
        i += 1
    return out


def fit_ops(ops: list[tuple[str, str]] | None, search: list[str], replacement: list[str]) -> list[tuple[str, str]] | None:
    """A diff hunk's own line operations, trimmed of the blank context the caller dropped, when they
    still describe exactly ``search`` -> ``replacement`` (else None: align with difflib instead)."""
    if not ops:
        return None
    lo, hi = 0, len(ops)
    for _ in range(len(ops) + 1):
        cut = ops[lo:hi]
        old = [t for op, t in cut if op in " -"]
        new = [t for op, t in cut if op in " +"]
        if old == search and new == replacement:
            return cut
        if len(old) > len(search) and lo < hi and cut[0][0] == " " and not cut[0][1].strip():
            lo += 1
        elif len(old) > len(search) and lo < hi and cut[-1][0] == " " and not cut[-1][1].strip():
            hi -= 1
        else:
            return None
    return None


def replace_lines(file_lines: list[str], match: Match, replacement: list[str], search: list[str] | None = None,
                  path: str = "", ops: list[tuple[str, str]] | None = None) -> list[str]:
    """Replace the matched lines by ``replacement`` (bodies) with the file's own line endings."""
    region = file_lines[match.start:match.end]
    bodies = [body(l) for l in region]
    trimmed = list(search) if search is not None else None
    rule = prefix_rule(bodies, trimmed) if match.shift and trimmed else None
    if match.tier == "fuzzy" and trimmed is not None:
        new_bodies = fuzzy_merge(bodies, trimmed, replacement, match.shift, path, rule)
    elif match.tier in ("whitespace", "indent") and trimmed is not None and len(trimmed) == len(bodies):
        new_bodies = _aligned_merge(bodies, trimmed, replacement, match.shift, rule,
                                    fit_ops(ops, trimmed, replacement))
    else:
        new_bodies = reindent(replacement, match.shift, region, rule) if match.shift else list(replacement)
    eol = dominant_eol(region) if any(eol_of(l) for l in region) else dominant_eol(file_lines)
    at_end_without_eol = match.end == len(file_lines) and region and not eol_of(region[-1])
    out = [b + eol for b in new_bodies]
    if out and at_end_without_eol:
        out[-1] = body(out[-1])
    return file_lines[:match.start] + out + file_lines[match.end:]


def _aligned_merge(region: list[str], search: list[str], replacement: list[str], shift: int,
                   rule: tuple[str, str] | None, ops: list[tuple[str, str]] | None = None) -> list[str]:
    """For line-by-line matches: lines the model kept (exactly the same in its search and replacement)
    keep the file's exact text, so whitespace drift in the model's copy never leaks into the file; every
    other line, a whitespace-only change included, is the model's, re-indented by the shift."""
    import difflib

    out: list[str] = []
    if ops is not None:  # a diff says itself which lines are context: no need to guess an alignment
        i = 0
        for op, text in ops:
            if op == " ":
                out.append(region[i])
                i += 1
            elif op == "-":
                i += 1
            else:
                out += reindent([text], shift, region, rule)
        return out
    sm = difflib.SequenceMatcher(a=list(search), b=list(replacement), autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out += region[i1:i2]
        else:
            out += reindent(replacement[j1:j2], shift, region, rule)
    return out


def insert_at_end(file_lines: list[str], addition: list[str]) -> list[str]:
    """Append lines (bodies) at the end of the file, with its line endings."""
    eol = dominant_eol(file_lines)
    lines = list(file_lines)
    if lines and not eol_of(lines[-1]):
        lines[-1] = lines[-1] + eol
    return lines + [b + eol for b in addition]
