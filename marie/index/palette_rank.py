"""Ranking for the command palette and the positions of matched characters, next to quick open's
file ranking (``marie.index.quick_open``). Plain Python (no Qt): the palette view and anyone who
lists commands by a typed query use it. Any thread.

``rank(query, items, label, title, ident)``: items whose label (or id) holds the query's characters
in order (a subsequence gate, spaces ignored), best first by rapidfuzz's weighted ratio over the
label and a partial ratio over the title. ``match_positions(query, text)`` says which characters of
``text`` a query matched, for highlighting (word starts preferred, case-insensitive).
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence, TypeVar

T = TypeVar("T")


def is_subsequence(query: str, text: str) -> bool:
    it = iter(text)
    return all(ch in it for ch in query if ch != " ")


def rank(query: str, items: Iterable[T], label: Callable[[T], str], title: Callable[[T], str] | None = None,
         ident: Callable[[T], str] | None = None, limit: int = 200) -> list[T]:
    """``items`` matching ``query``, best first (all of them, in order, for an empty query)."""
    items = list(items)
    query = query.strip().lower()
    if not query:
        return items[:limit]
    title = title or label
    candidates = [i for i in items if is_subsequence(query, label(i).lower())
                  or (ident is not None and is_subsequence(query, ident(i).lower()))]
    try:
        from rapidfuzz import fuzz
    except ImportError:  # rapidfuzz is in the stack; keep a plain order if it is ever missing
        return candidates[:limit]
    scored = [(max(fuzz.WRatio(query, label(i).lower()), fuzz.partial_ratio(query, title(i).lower())), n, i)
              for n, i in enumerate(candidates)]
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [i for _, _, i in scored[:limit]]


def match_positions(query: str, text: str) -> list[int]:
    """Indices of ``text`` matched by the characters of ``query`` in order (case-insensitive),
    preferring word starts (after ``/ _ - . :`` or a space, or a lower-to-upper case change) and a
    contiguous run; [] when ``query`` is not a subsequence of ``text``."""
    needle = [c for c in query.lower() if c != " "]
    if not needle:
        return []
    hay = text.lower()
    starts = [i == 0 or text[i - 1] in "/_-.: " or (text[i - 1].islower() and text[i].isupper())
              for i in range(len(text))]
    # first a contiguous run of the whole query (best for a typed word), then greedy with word starts
    run = hay.find("".join(needle))
    if run >= 0:
        return list(range(run, run + len(needle)))
    out: list[int] = []
    at = 0
    for k, ch in enumerate(needle):
        found = -1
        rest = needle[k + 1:]
        for i in range(at, len(hay)):
            if hay[i] == ch and starts[i] and is_subsequence("".join(rest), hay[i + 1:]):
                found = i
                break
        if found < 0:
            found = hay.find(ch, at)
        if found < 0:
            return []
        out.append(found)
        at = found + 1
    return out


def split_name(path: str) -> tuple[str, str]:
    """(folder, file name) of a POSIX path: quick open shows the name and dims the folder."""
    folder, _, name = path.rpartition("/")
    return folder, name


def positions_in_name(query: str, path: str) -> tuple[Sequence[int], Sequence[int]]:
    """(positions in the file name, positions in the folder) for a quick-open row: the name is
    tried first; when the query does not fit the name alone the whole path is matched."""
    folder, name = split_name(path)
    in_name = match_positions(query, name)
    if in_name or not query.strip():
        return in_name, []
    whole = match_positions(query, path)
    cut = len(folder) + 1 if folder else 0
    return [i - cut for i in whole if i >= cut], [i for i in whole if i < len(folder)]
