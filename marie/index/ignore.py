"""Which paths the index skips: nested ``.gitignore`` and ``.ignore`` files, ``.git/info/exclude``,
and the user's ``files.exclude`` list, with git's semantics (negation, anchoring, folder-only rules,
deeper files overriding shallower ones). Works the same whether or not the folder is a git repository
(like ``rg --no-require-git``); ``.git`` itself is always skipped. When the opened folder is a
subfolder of a git repository, the ignore files from the repository's work tree down to it (and its
``info/exclude``) apply too, as git applies them.

Rules of one folder are parsed once and cached; ``invalidate(folder)`` drops them when an ignore file
changes (the watcher calls it). Any thread may call the methods (the cache is guarded by a lock).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Iterable

import pathspec

IGNORE_FILES = (".gitignore", ".ignore")  # later files win within one folder (as in ripgrep)
ALWAYS_SKIPPED = frozenset({".git"})
_GLOB_CHARS = set("*?[]!/\\")


class Rules:
    """The compiled rules of one folder. ``decide(sub)`` -> True (ignore), False (re-include), None.

    Only pathspec's public API: ``GitIgnoreSpec.check_file`` decides (git's semantics: last match
    wins, folder-only rules, re-includes). Most paths match no rule at all, so a pre-check asks each
    pattern's public compiled ``regex`` first and skips ``check_file`` (which also works out which
    pattern matched and why) when none matches. A folder with many rules goes straight to
    ``check_file``, whose backend (re2 or hyperscan when installed) matches them all in one pass.
    """

    __slots__ = ("spec", "_probes")

    PRE_CHECK_MAX = 32       # more patterns than this: one check_file beats a loop of probes

    def __init__(self, lines: list[str]) -> None:
        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)
        probes = [regex.search for p in self.spec.patterns
                  if p.include is not None and (regex := getattr(p, "regex", None)) is not None]
        self._probes = tuple(probes) if len(probes) <= self.PRE_CHECK_MAX else None

    def decide(self, sub: str) -> bool | None:
        probes = self._probes
        if probes is not None:
            for probe in probes:
                if probe(sub) is not None:
                    break
            else:
                return None
        return self.spec.check_file(sub).include


class PrefixedRules:
    """The rules of a folder ABOVE the opened one: a path inside the opened folder is matched as
    git sees it from that folder (``prefix`` + path), so anchored and nested patterns apply."""

    __slots__ = ("rules", "prefix")

    def __init__(self, rules: Rules, prefix: str) -> None:
        self.rules, self.prefix = rules, prefix

    def decide(self, sub: str) -> bool | None:
        return self.rules.decide(self.prefix + sub)


def enclosing_repository(root: Path) -> Path | None:
    """The work tree of the git repository that contains ``root`` when ``root`` is a subfolder of
    it (not the work tree itself); None otherwise. A ``.git`` file (worktree, submodule) counts."""
    for folder in root.parents:
        if (folder / ".git").exists():
            return folder
    return None


def _read_lines(path: Path, reads: dict | None = None) -> list[str]:
    """The lines of an ignore file ([] when missing or unreadable). ``reads`` (when given) records
    ``str(path) -> (size, mtime_ns, ctime_ns, ino, read_at_ns)``, or None when missing, stat'ed BEFORE
    reading: the stored snapshot (``snapshot_store``) trusts the rules only while that stat holds."""
    if reads is not None:
        read_at = time.time_ns()
        try:
            st = os.stat(path)
            reads[str(path)] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, read_at)
        except OSError:
            reads[str(path)] = None
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
        self.extra_excludes: tuple[str, ...] = tuple(i.strip() for i in extra_excludes if i.strip())
        for item in self.extra_excludes:
            item = item.strip()
            if not item:
                continue
            if _GLOB_CHARS.isdisjoint(item):
                names.add(item)  # a bare name: skipped at any depth, checked with one set lookup
            else:
                patterns.append(item)
        self.excluded_names = frozenset(names)
        self._extra = pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
        self._specs: dict[str, Rules | None] = {}
        self._dir_cache: dict[str, bool] = {}
        self._lock = threading.Lock()
        # Every ignore file read, with its stat from just before the read (see ``_read_lines``).
        self.reads: dict[str, tuple[int, int, int, int, int] | None] = {}
        self.repository: Path | None = None
        self.above: tuple = self._load_above()

    # -- rules above the root ----------------------------------------------------------------------
    def _load_above(self) -> tuple:
        """The chain of rules from the folders between the enclosing repository's work tree and the
        opened folder, deepest first, then the repository's ``info/exclude`` (git's order).

        Only inside a repository (git reads no ignore file above its work tree) and only when those
        rules do not ignore the opened folder itself: a user who opens an ignored folder (say
        ``build/``) on purpose sees its files, not an empty tree.
        """
        try:
            root = self.root.resolve()
        except OSError:
            return ()
        if (root / ".git").exists():
            return ()
        repo = enclosing_repository(root)
        if repo is None:
            return ()
        parts = root.relative_to(repo).parts
        found: list[tuple[int, Rules]] = []           # (depth of the folder, its rules), deepest first
        for depth in range(len(parts) - 1, -1, -1):  # the opened folder's parent first
            lines = [line for name in IGNORE_FILES
                     for line in _read_lines(repo.joinpath(*parts[:depth], name), self.reads)]
            lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
            if lines:
                found.append((depth, Rules(lines)))
        exclude = [line for line in _read_lines(repo / ".git" / "info" / "exclude", self.reads)
                   if line.strip() and not line.lstrip().startswith("#")]
        if exclude:
            found.append((0, Rules(exclude)))         # lowest priority, relative to the work tree
        # The opened folder and every folder between it and the work tree must not be ignored.
        for depth in range(1, len(parts) + 1):
            for base, rules in found:
                if base >= depth:
                    continue
                decision = rules.decide("/".join(parts[base:depth]) + "/")
                if decision is not None:
                    if decision:
                        return ()
                    break
        chain = [(0, PrefixedRules(rules, "/".join(parts[base:]) + "/")) for base, rules in found]
        self.repository = repo
        return tuple(chain)

    @property
    def reads_parent_rules(self) -> bool:
        """Whether ignore files above the root apply (rg then must not get ``--no-ignore-parent``)."""
        return bool(self.above)

    # -- rules per folder ------------------------------------------------------------------------
    def _load(self, folder: str) -> Rules | None:
        base = self.root / folder if folder else self.root
        lines: list[str] = []
        if not folder:
            lines += _read_lines(self.root / ".git" / "info" / "exclude", self.reads)
        for name in IGNORE_FILES:
            lines += _read_lines(base / name, self.reads)
        lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return Rules(lines) if lines else None

    def spec(self, folder: str, has_files: bool = True) -> Rules | None:
        """The parsed rules of ``folder`` ("" = root), or None when it has none.

        ``has_files=False`` (the walker saw no ignore file in its listing) skips reading the disk.
        """
        try:
            return self._specs[folder]
        except KeyError:
            pass
        spec = self._load(folder) if has_files or not folder else None
        with self._lock:
            self._specs[folder] = spec
        return spec

    def invalidate(self, folder: str | None = None) -> None:
        """Forget cached rules (of one folder, or all): call after an ignore file changed."""
        with self._lock:
            if folder is None:
                self._specs.clear()
                self.above = self._load_above()
            else:
                self._specs.pop(folder, None)
            self._dir_cache.clear()

    @staticmethod
    def is_rule_file(rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        return name in IGNORE_FILES or rel == ".git/info/exclude"

    # -- decisions -------------------------------------------------------------------------------
    def chain(self, folder: str, parent_chain: tuple = (), has_files: bool = True) -> tuple:
        """The rules that apply inside ``folder``, deepest first, as ``(prefix_len, spec)`` pairs.

        The walker extends its parent's chain folder by folder so each entry costs only the rules
        that exist (most folders have none).
        """
        spec = self.spec(folder, has_files)
        if not folder:
            parent_chain = parent_chain + self.above   # the root's chain ends with the rules above it
        if spec is None:
            return parent_chain
        return ((len(folder) + 1 if folder else 0, spec),) + parent_chain

    def decide(self, rel: str, name: str, is_dir: bool, chain: tuple) -> bool:
        """Whether ``rel`` is ignored given the rule ``chain`` of its folder (parent not ignored)."""
        if name in self.excluded_names:
            return True
        probe = rel + "/" if is_dir else rel
        if self._extra is not None and self._extra.match_file(probe):
            return True
        # Deepest rules first: the first folder whose rules decide (ignore or re-include) wins.
        for cut, spec in chain:
            decision = spec.decide(probe[cut:])
            if decision is not None:
                return decision
        return False

    def ignored_here(self, rel: str, is_dir: bool) -> bool:
        """Whether ``rel`` itself is ignored, assuming its parent folder is not."""
        parts = rel.split("/")
        chain: tuple = ()
        for depth in range(len(parts)):
            chain = self.chain("/".join(parts[:depth]), chain)
        return self.decide(rel, parts[-1], is_dir, chain)

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

