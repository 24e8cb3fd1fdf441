"""Quick open (Ctrl+P): fuzzy file matching over a snapshot's paths.

``frizbee`` (SIMD Smith-Waterman) finds candidates twice, once over whole paths and once over file
names, each capped to a few hundred; a small re-rank then applies what people expect:
a match in the file name beats one spread over folders, contiguous and word-boundary matches beat
scattered ones, recently opened files come first, shorter paths break ties. ``name:line[:col]``
jumps to a line. The matcher is rebuilt only when the snapshot generation changes.

Scale (issue 18): the paths live once in Python (the snapshot's sorted tuple) and once in frizbee's
Rust memory, which its matcher reads directly with the GIL released; no per-query list is built
over all paths. When the path pass found every hit and they are few, the name pass matches only their
names (a name match is also a path match); from 200k paths a full name pass uses frizbee's threads.
When a query's complete set of hits is small it is kept, and the next keystroke that extends the query
(typing on) matches only those (as fzf's chunk cache does), which gives the same results as matching
everything because a fuzzy match without typos of a longer query is also a match of its prefix.

``QuickOpen.find`` is thread-safe (one lock) and is meant for a worker thread; the GUI sends each
keystroke as a new request and drops answers to stale ones (see ``marie.ui.quick_open``).
"""

from __future__ import annotations

import heapq
import re
import threading
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import frizbee

from marie.index.snapshot import Snapshot

CANDIDATES = 300
NARROW_SHARE = 20       # keep a query's complete hits for narrowing when under 1/20 of the paths:
NARROW_MAX = 50000      # building haystacks of the hits costs ~20x matching them, so only then it pays
PARALLEL_ABOVE = 200_000   # from this many paths a full name pass uses frizbee's two threads
SMALL_NAME_PASS = 4000     # complete path hits up to this many: the name pass matches only them
_LINE_SUFFIX = re.compile(r"^(?P<q>.*?):(?P<line>\d+)(?::(?P<col>\d+))?$")
_BOUNDARY = "/_-. "


@dataclass(frozen=True)
class Query:
    text: str
    line: int | None = None
    column: int | None = None


def parse_query(raw: str) -> Query:
    """Split ``name:line[:col]`` (also ``name:`` while typing) into its parts."""
    raw = raw.strip()
    match = _LINE_SUFFIX.match(raw)
    if match and match.group("q"):
        col = match.group("col")
        return Query(match.group("q"), int(match.group("line")), int(col) if col else None)
    if raw.endswith(":"):
        raw = raw[:-1]
    return Query(raw)


@dataclass(frozen=True)
class FileMatch:
    """One quick-open result: ``path`` (rel POSIX), its score, and where to jump."""

    path: str
    score: float
    line: int | None = None
    column: int | None = None
    in_name: bool = False


def _word_boundary_hits(text: str, needle: str) -> int:
    """How many needle characters start a word in ``text`` (greedy, case-insensitive)."""
    hits, pos = 0, 0
    lower = text.lower()
    for ch in needle.lower():
        found = lower.find(ch, pos)
        if found < 0:
            return hits
        if found == 0 or text[found - 1] in _BOUNDARY or (text[found].isupper() and text[found - 1].islower()):
            hits += 1
        pos = found + 1
    return hits


@dataclass
class _Cache:
    """The matcher's view of one snapshot generation: the sorted paths (the snapshot's own tuple,
    not a copy) and frizbee's Rust-side copies of the paths and of the file names."""

    generation: int = -1
    paths: Sequence[str] = ()
    path_hay: frizbee.Haystacks | None = None
    name_hay: frizbee.Haystacks | None = None
    position: dict[str, int] = field(default_factory=dict)


@dataclass
class _Narrowing:
    """Every path index matching ``text`` (ascending), complete, for narrowing the next keystroke:
    a query that extends ``text`` can only match among these (fuzzy subsequence matching with no
    typos), so it is matched on haystacks of just these paths, built on first need."""

    generation: int
    text: str
    indices: list[int]
    path_hay: frizbee.Haystacks | None = None
    name_hay: frizbee.Haystacks | None = None


class QuickOpen:
    def __init__(self) -> None:
        self._cache = _Cache()
        self._narrowing: _Narrowing | None = None
        self._lock = threading.Lock()
        self._recent: list[str] = []

    # -- recency ---------------------------------------------------------------------------------
    def note_opened(self, path: str) -> None:
        """Remember ``path`` as just opened (most recent first; at most 100). Any thread."""
        with self._lock:
            if path in self._recent:
                self._recent.remove(path)
            self._recent.insert(0, path)
            del self._recent[100:]

    @property
    def recent(self) -> list[str]:
        return list(self._recent)

    def set_recent(self, paths: Iterable[str]) -> None:
        with self._lock:
            self._recent = list(paths)[:100]

    # -- matching --------------------------------------------------------------------------------
    def _prepare(self, snapshot: Snapshot) -> _Cache:
        cache = self._cache
        if cache.generation == snapshot.generation and cache.path_hay is not None:
            return cache
        paths = snapshot.files()
        # File names are handed to frizbee and dropped: candidates' names are cut from their path.
        cache = _Cache(snapshot.generation, paths, frizbee.Haystacks(paths),
                       frizbee.Haystacks([p.rpartition("/")[2] for p in paths]))
        self._cache = cache
        self._narrowing = None
        return cache

    def _base(self, cache: _Cache, text: str) -> tuple[list[int] | None, frizbee.Haystacks, frizbee.Haystacks]:
        """Where to match ``text``: the previous query's complete hits when ``text`` extends it
        (``indices`` maps back to paths), else every path (``indices`` None)."""
        last = self._narrowing
        assert cache.path_hay is not None and cache.name_hay is not None   # _prepare made them
        if last is None or last.generation != cache.generation or not text.startswith(last.text):
            return None, cache.path_hay, cache.name_hay
        if last.path_hay is None:
            paths = cache.paths
            subset = [paths[i] for i in last.indices]
            last.path_hay = frizbee.Haystacks(subset)
            last.name_hay = frizbee.Haystacks([p.rpartition("/")[2] for p in subset])
        assert last.name_hay is not None
        return last.indices, last.path_hay, last.name_hay

    def find(self, snapshot: Snapshot, raw_query: str, limit: int = 50) -> list[FileMatch]:
        """Ranked files for ``raw_query`` (empty query: recent files, then the first paths). Worker."""
        query = parse_query(raw_query)
        with self._lock:
            cache = self._prepare(snapshot)
            recent = {p: i for i, p in enumerate(self._recent)}
        text = query.text.replace("\\", "/")
        if limit <= 0:
            return []
        if not text:
            ordered = [p for p in self._recent if p in snapshot.entries] + [p for p in cache.paths if p not in recent]
            return [FileMatch(p, 0.0, query.line, query.column) for p in ordered[:limit]]
        atoms = text.split()
        needle = "".join(atoms)
        with self._lock:
            indices, path_hay, name_hay = self._base(cache, text)
        # Ask for enough hits to know the complete set when it is small: the next keystroke then
        # matches only those. The first CANDIDATES are exactly what a cap of CANDIDATES returns
        # (same order: score, then index; a subset keeps the paths' order).
        # (Not for one or two characters: those match far too many paths to ever be complete.)
        want = max(CANDIDATES, min(NARROW_MAX, len(cache.paths) // NARROW_SHARE)) if len(needle) > 2 else CANDIDATES
        if len(atoms) > 1:
            path_matcher = frizbee.Matcher.from_patterns(atoms, max_typos=0, max_items=want,
                                                         sort="score_then_index_asc")
        else:
            path_matcher = frizbee.Matcher(needle, max_typos=0, max_items=want, sort="score_then_index_asc")
        hits = path_matcher.match_list(path_hay)
        to_full = indices.__getitem__ if indices is not None else (lambda i: i)
        complete = len(hits) < want
        full_hits = sorted(to_full(m.index) for m in hits) if complete else None
        name_scores: dict[int, int] = {}
        if "/" not in needle:
            name_matcher = frizbee.Matcher(needle, max_typos=0, max_items=CANDIDATES, sort="score_then_index_asc")
            if full_hits is not None and len(full_hits) <= SMALL_NAME_PASS:
                # A file whose name matches also matches by its path, so the name pass only needs
                # the path hits, in path order (the same ties as over all names).
                paths = cache.paths
                names = frizbee.Haystacks([paths[i].rpartition("/")[2] for i in full_hits])
                name_scores = {full_hits[m.index]: m.score for m in name_matcher.match_list(names)}
            elif len(name_hay) >= PARALLEL_ABOVE:
                name_scores = {to_full(m.index): m.score for m in name_matcher.match_list_parallel(name_hay, 2)}
            else:
                name_scores = {to_full(m.index): m.score for m in name_matcher.match_list(name_hay)}
        path_scores = {to_full(m.index): m.score for m in hits[:CANDIDATES]}
        with self._lock:
            self._narrowing = _Narrowing(cache.generation, text, full_hits) if full_hits is not None else None
        # Recently opened files are always candidates, even when the caps above left them out.
        if recent:
            probe = frizbee.Matcher(needle, max_typos=0)
            for path in recent:
                index = self._index_of(cache, path)
                if index is None or index in path_scores:
                    continue
                hit = probe.match_one(path, index)
                if hit is not None:
                    path_scores[index] = hit.score
        lowered = needle.lower()
        # Everything but the word-boundary bonus first; that bonus (a Python loop per name) is then
        # worked out best-first only while a candidate's upper bound can still reach the top
        # ``limit``: the same results as scoring every candidate, in a fraction of the time.
        pending: list[tuple[float, float, int, float, bool]] = []
        boundary_max = 6.0 * len(needle)
        for index in set(path_scores) | set(name_scores):
            path = cache.paths[index]
            score = float(path_scores.get(index, 0))
            in_name = index in name_scores
            if in_name:
                lname = path.rpartition("/")[2].lower()
                score += 2.0 * name_scores[index]
                if lowered in lname:
                    score += 60.0 if lname.startswith(lowered) else 40.0      # contiguous in the name
                    stem = lname.rsplit(".", 1)[0]
                    if stem == lowered or lname == lowered:
                        score += 40.0                                          # the exact file name
            elif lowered in path.lower():
                score += 20.0                                                  # contiguous in a folder
            bonus = 150.0 - min(recent[path], 50) if path in recent else 0.0  # recently opened first
            tail = 0.05 * len(path)                                            # shorter paths win ties
            bound = score + (boundary_max if in_name else 0.0) + bonus - tail
            pending.append((bound, score, index, bonus, in_name))
        pending.sort(key=lambda item: -item[0])
        results: list[FileMatch] = []
        best: list[float] = []            # min-heap of the ``limit`` best exact scores so far
        for bound, score, index, bonus, in_name in pending:
            if len(best) >= limit and bound < best[0] - 1e-9:
                break                     # neither this nor any later candidate can reach the top
            path = cache.paths[index]
            if in_name:
                score += 6.0 * _word_boundary_hits(path.rpartition("/")[2], needle)
            if bonus:
                score += bonus
            score -= 0.05 * len(path)
            results.append(FileMatch(path, score, query.line, query.column, in_name))
            if len(best) < limit:
                heapq.heappush(best, score)
            elif score > best[0]:
                heapq.heapreplace(best, score)
        results.sort(key=lambda m: (-m.score, m.path))
        return results[:limit]

    @staticmethod
    def _index_of(cache: _Cache, path: str) -> int | None:
        if not cache.position:
            cache.position = {p: i for i, p in enumerate(cache.paths)}
        return cache.position.get(path)
