"""Quick open (Ctrl+P): fuzzy file matching over a snapshot's paths.

``frizbee`` (SIMD Smith-Waterman) finds candidates twice, once over whole paths and once over file
names, each capped to a few hundred; a small re-rank then applies what people expect:
a match in the file name beats one spread over folders, contiguous and word-boundary matches beat
scattered ones, recently opened files come first, shorter paths break ties. ``name:line[:col]``
jumps to a line. The matcher is rebuilt only when the snapshot generation changes.

``QuickOpen.find`` is thread-safe (one lock) and is meant for a worker thread; the GUI sends each
keystroke as a new request and drops answers to stale ones (see ``marie.ui.quick_open``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import frizbee

from marie.index.snapshot import Snapshot

CANDIDATES = 300
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
    generation: int = -1
    paths: Sequence[str] = ()
    names: Sequence[str] = ()
    path_hay: frizbee.Haystacks | None = None
    name_hay: frizbee.Haystacks | None = None
    position: dict[str, int] = field(default_factory=dict)


class QuickOpen:
    def __init__(self) -> None:
        self._cache = _Cache()
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
        names = [p.rsplit("/", 1)[-1] for p in paths]
        cache = _Cache(snapshot.generation, paths, names, frizbee.Haystacks(paths), frizbee.Haystacks(names))
        self._cache = cache
        return cache

    def find(self, snapshot: Snapshot, raw_query: str, limit: int = 50) -> list[FileMatch]:
        """Ranked files for ``raw_query`` (empty query: recent files, then the first paths). Worker."""
        query = parse_query(raw_query)
        with self._lock:
            cache = self._prepare(snapshot)
            recent = {p: i for i, p in enumerate(self._recent)}
        text = query.text.replace("\\", "/")
        if not text:
            ordered = [p for p in self._recent if p in snapshot.entries] + [p for p in cache.paths if p not in recent]
            return [FileMatch(p, 0.0, query.line, query.column) for p in ordered[:limit]]
        atoms = text.split()
        needle = "".join(atoms)
        if len(atoms) > 1:
            path_matcher = frizbee.Matcher.from_patterns(atoms, max_typos=0, max_items=CANDIDATES,
                                                         sort="score_then_index_asc")
        else:
            path_matcher = frizbee.Matcher(needle, max_typos=0, max_items=CANDIDATES, sort="score_then_index_asc")
        path_scores = {m.index: m.score for m in path_matcher.match_list(cache.path_hay)}
        name_scores: dict[int, int] = {}
        if "/" not in needle:
            name_matcher = frizbee.Matcher(needle, max_typos=0, max_items=CANDIDATES, sort="score_then_index_asc")
            name_scores = {m.index: m.score for m in name_matcher.match_list(cache.name_hay)}
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
        results: list[FileMatch] = []
        for index in set(path_scores) | set(name_scores):
            path = cache.paths[index]
            name = cache.names[index]
            score = float(path_scores.get(index, 0))
            lname = name.lower()
            in_name = index in name_scores
            if in_name:
                score += 2.0 * name_scores[index]
                if lowered in lname:
                    score += 60.0 if lname.startswith(lowered) else 40.0      # contiguous in the name
                    stem = lname.rsplit(".", 1)[0]
                    if stem == lowered or lname == lowered:
                        score += 40.0                                          # the exact file name
                score += 6.0 * _word_boundary_hits(name, needle)
            elif lowered in path.lower():
                score += 20.0                                                  # contiguous in a folder
            if path in recent:
                score += 150.0 - min(recent[path], 50)                         # recently opened first
            score -= 0.05 * len(path)                                          # shorter paths win ties
            results.append(FileMatch(path, score, query.line, query.column, in_name))
        results.sort(key=lambda m: (-m.score, m.path))
        return results[:limit]

    @staticmethod
    def _index_of(cache: _Cache, path: str) -> int | None:
        if not cache.position:
            cache.position = {p: i for i, p in enumerate(cache.paths)}
        return cache.position.get(path)
