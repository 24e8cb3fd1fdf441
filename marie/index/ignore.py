"""Which paths the index skips: nested ``.gitignore`` and ``.ignore`` files, ``.git/info/exclude``,
and the user's ``files.exclude`` list, with git's semantics (negation, anchoring, folder-only rules,
deeper files overriding shallower ones). Works the same whether or not the folder is a git repository
(like ``rg --no-require-git``); ``.git`` itself is always skipped.

Rules of one folder are parsed once and cached; ``invalidate(folder)`` drops them when an ignore file
changes (the watcher calls it). Any thread may call the methods (the cache is guarded by a lock).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable

import pathspec

IGNORE_FILES = (".gitignore", ".ignore")  # later files win within one folder (as in ripgrep)
ALWAYS_SKIPPED = frozenset({".git"})
_GLOB_CHARS = set("*?[]!/\\")


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []
    except OSError:
        return []  # an unreadable ignore file cannot be honoured; the folder is still listed
    return data.decode("utf-8", errors="surrogateescape").splitlines()


class IgnoreMatcher:
    """Decides ``is_ignored(rel_posix, is_dir)`` for paths inside ``root``."""

    def __init__(self, root: Path | str, extra_excludes: Iterable[str] = ()) -> None:
        self.root = Path(root)
        names: set[str] = set(ALWAYS_SKIPPED)
        patterns: list[str] = []
        for item in extra_excludes:
            item = item.strip()
            if not item:
                continue
            if _GLOB_CHARS.isdisjoint(item):
                names.add(item)  # a bare name: skipped at any depth, checked with one set lookup
            else:
                patterns.append(item)
        self.excluded_names = frozenset(names)
        self._extra = pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._dir_cache: dict[str, bool] = {}
        self._lock = threading.Lock()

    # -- rules per folder ------------------------------------------------------------------------
    def _load(self, folder: str) -> pathspec.GitIgnoreSpec | None:
        base = self.root / folder if folder else self.root
        lines: list[str] = []
        if not folder:
            lines += _read_lines(self.root / ".git" / "info" / "exclude")
        for name in IGNORE_FILES:
            lines += _read_lines(base / name)
        lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None

    def spec(self, folder: str) -> pathspec.GitIgnoreSpec | None:
        """The parsed rules of ``folder`` ("" = root), or None when it has none."""
        try:
            return self._specs[folder]
        except KeyError:
            pass
        spec = self._load(folder)
        with self._lock:
            self._specs[folder] = spec
        return spec

    def invalidate(self, folder: str | None = None) -> None:
        """Forget cached rules (of one folder, or all): call after an ignore file changed."""
        with self._lock:
            if folder is None:
                self._specs.clear()
            else:
                self._specs.pop(folder, None)
            self._dir_cache.clear()

    @staticmethod
    def is_rule_file(rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        return name in IGNORE_FILES or rel == ".git/info/exclude"

    # -- decisions -------------------------------------------------------------------------------
    def ignored_here(self, rel: str, is_dir: bool) -> bool:
        """Whether ``rel`` itself is ignored, assuming its parent folder is not (the walker's check)."""
        name = rel.rsplit("/", 1)[-1]
        if name in self.excluded_names:
            return True
        probe = rel + "/" if is_dir else rel
        if self._extra is not None and self._extra.match_file(probe):
            return True
        # Deepest rules first: the first folder whose rules decide (ignore or re-include) wins.
        parts = rel.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            folder = "/".join(parts[:depth])
            spec = self.spec(folder)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            decision = spec.check_file(sub).include
            if decision is not None:
                return bool(decision)
        return False

    def is_ignored(self, rel_posix: str, is_dir: bool = False) -> bool:
        """Whether the index skips ``rel_posix`` (also true when any parent folder is skipped)."""
        rel = rel_posix.strip("/")
        if not rel or rel == ".":
            return False
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            cached = self._dir_cache.get(folder)
            if cached is None:
                cached = self.ignored_here(folder, True)
                self._dir_cache[folder] = cached
            if cached:
                return True
        return self.ignored_here(rel, is_dir)


def matcher_for(root: Path | str, settings=None) -> IgnoreMatcher:
    """An ``IgnoreMatcher`` with the user's ``files.exclude`` (and ``index.exclude``) applied."""
    extra: list[str] = []
    if settings is not None:
        for key in ("files.exclude", "index.exclude"):
            try:
                extra += list(settings.get(key) or [])
            except KeyError:
                pass
    return IgnoreMatcher(root, extra)


def path_text(rel: str) -> str:
    return os.fsdecode(os.fsencode(rel))
