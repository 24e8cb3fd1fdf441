"""What a project search query requires of a file, as trigrams the text index can look up.

``required_trigrams(pattern, regex, case_sensitive)`` returns the query as an OR of AND-groups of
trigrams: a file can only match when it holds every trigram of at least one group. ``None`` means the
index cannot narrow the query (too short, a regex without a literal of three characters in every
branch, inline flags ...) and the search falls back to ripgrep over the whole tree.

The extraction is deliberately conservative: anything it does not understand ends the literal run it
is in, so a required literal is never made up; a missed one only costs narrowing. Case-insensitive
queries keep only ASCII trigrams: SQLite's trigram tokenizer folds case like ripgrep for ASCII letters
and for the two non-ASCII letters that fold to them (the Kelvin sign and the long s, checked in the
tests), but its Unicode folding table is not ripgrep's, so non-ASCII trigrams could drop a file that
ripgrep finds. Pure functions; any thread.
"""

from __future__ import annotations

MIN_LITERAL = 3
# Escapes whose next character is a letter or digit are classes/anchors/codes (\d \b \x41 \p{L}):
# they end a literal run. Escaped punctuation (\. \( \\) is the character itself.
_QUANTIFIERS = "*?+{"


def _split_top_level(pattern: str) -> list[str] | None:
    """The top-level ``|`` branches of a regex, or None when brackets do not balance."""
    branches, start = [], 0
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
        elif ch in "([":
            end = (_skip_group if ch == "(" else _skip_class)(pattern, i)
            if end is None:
                return None
            i = end
        elif ch == ")":
            return None
        elif ch == "|":
            branches.append(pattern[start:i])
            start = i = i + 1
        else:
            i += 1
    branches.append(pattern[start:])
    return branches


def _skip_group(branch: str, i: int) -> int | None:
    """Index just past the group opened at ``branch[i] == '('`` (classes inside are skipped whole)."""
    depth = 0
    while i < len(branch):
        ch = branch[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            end = _skip_class(branch, i)
            if end is None:
                return None
            i = end
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _skip_class(branch: str, i: int) -> int | None:
    """Index just past the class opened at ``branch[i] == '['`` (nested POSIX classes included)."""
    i += 1
    if branch[i:i + 1] == "^":
        i += 1
    if branch[i:i + 1] == "]":
        i += 1
    depth = 1
    while i < len(branch):
        ch = branch[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _quantifier_at(branch: str, i: int) -> tuple[int, bool] | None:
    """``(length, may_be_zero)`` of a quantifier starting at ``i`` (with a lazy/possessive ``?``)."""
    if i >= len(branch):
        return None
    ch = branch[i]
    if ch in "*?+":
        length, zero = 1, ch != "+"
    elif ch == "{":
        close = branch.find("}", i)
        body = branch[i + 1:close] if close > 0 else ""
        low = body.split(",", 1)[0].strip()
        if close < 0 or not low.isdigit():
            return None               # not a counted repetition: rg reads "{" literally or errs
        length, zero = close - i + 1, int(low) == 0
    else:
        return None
    if branch[i + length:i + length + 1] == "?":
        length += 1
    return length, zero


def literal_runs(branch: str) -> list[str] | None:
    """The literal runs every match of ``branch`` (a regex without top-level ``|``) contains."""
    runs: list[str] = []
    run: list[str] = []

    def end_run() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    i = 0
    while i < len(branch):
        ch = branch[i]
        atom_literal: str | None = None
        if ch == "\\":
            nxt = branch[i + 1:i + 2]
            if not nxt:
                return None
            if nxt.isalnum() or nxt.isspace() or not nxt.isascii():
                end_run()
                i += 2
                if nxt in "pPxu" and branch[i:i + 1] == "{":
                    close = branch.find("}", i)
                    i = close + 1 if close > 0 else len(branch)
                elif nxt == "x":
                    i += 2
                quant = _quantifier_at(branch, i)
                i += quant[0] if quant else 0
                continue
            atom_literal, width = nxt, 2
        elif ch == "(":
            if branch[i + 1:i + 2] == "?":
                return None           # inline flags or special groups: may change case or meaning
            end = _skip_group(branch, i)
            if end is None:
                return None
            end_run()
            i = end
            quant = _quantifier_at(branch, i)
            i += quant[0] if quant else 0
            continue
        elif ch == "[":
            end = _skip_class(branch, i)
            if end is None:
                return None
            end_run()
            i = end
            quant = _quantifier_at(branch, i)
            i += quant[0] if quant else 0
            continue
        elif ch in ".^$":
            end_run()
            i += 1
            quant = _quantifier_at(branch, i)
            i += quant[0] if quant else 0
            continue
        elif ch in ")":
            return None
        elif ch in "*?+":
            return None               # a quantifier with nothing to repeat: let rg report it
        else:
            atom_literal, width = ch, 1
        i += width
        quant = _quantifier_at(branch, i)
        if quant is None:
            run.append(atom_literal)
            continue
        i += quant[0]
        if not quant[1]:
            run.append(atom_literal)  # at least once: the character is there, but the run ends
        end_run()
    end_run()
    return runs


def _trigrams(text: str, case_sensitive: bool) -> set[str]:
    grams = {text[i:i + 3] for i in range(len(text) - 2)}
    if not case_sensitive:
        grams = {g for g in grams if g.isascii()}
    return grams


def required_trigrams(pattern: str, regex: bool, case_sensitive: bool) -> list[frozenset[str]] | None:
    """OR of AND-groups of trigrams a matching file must hold; None: the index cannot narrow."""
    if not pattern or "\n" in pattern or "\r" in pattern:
        return None
    if not regex:
        literal = _trigrams(pattern, case_sensitive)
        return [frozenset(literal)] if literal else None
    branches = _split_top_level(pattern)
    if branches is None:
        return None
    groups: list[frozenset[str]] = []
    for branch in branches:
        runs = literal_runs(branch)
        if runs is None:
            return None
        grams: set[str] = set()
        for run in runs:
            if len(run) >= MIN_LITERAL:
                grams |= _trigrams(run, case_sensitive)
        if not grams:
            return None               # this branch can match a file with no known trigram
        groups.append(frozenset(grams))
    return groups
