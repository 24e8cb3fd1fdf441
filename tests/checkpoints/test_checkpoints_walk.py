"""The repeated stat walk's fast path: unchanged files in folders with unchanged ignore rules are
taken from memory; any rule change (a rule file added, changed, removed, or the files.exclude
setting) makes the walk decide again. Each walk is checked against a cold walk (empty caches)."""

from __future__ import annotations

import os
import time

from hypothesis import given, settings, strategies as st

from marie.checkpoints.capture import Capturer, StatCache
from marie.checkpoints.store import Item, ObjectStore
from marie.checkpoints.tree_state import TreeState
from marie.index.ignore import IgnoreMatcher

OLD = time.time_ns() - 60_000_000_000


def put(root, rel: str, data: str, age: int = 0) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    stamp = OLD + age   # older than the racy window, so the stat cache (and the memo) keep it
    os.utime(path, ns=(stamp, stamp))


class CountingMatcher(IgnoreMatcher):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.file_decisions = 0

    def decide(self, rel, name, is_dir, chain):
        self.file_decisions += not is_dir
        return super().decide(rel, name, is_dir, chain)


def walk(root, cache: StatCache, excludes=()) -> tuple[dict, list, int]:
    """A whole walk as a checkpoint makes it (storing what it reads, so the stat cache fills)."""
    matcher = CountingMatcher(root, excludes)
    store = ObjectStore(cache.path.parent / (cache.path.name + "-store"))
    out = Capturer(root, matcher, cache, 1 << 20).capture(store)
    store.flush()
    return out.items, sorted(out.ignored), matcher.file_decisions


def cold(root, tmp_path, excludes=()) -> tuple[dict, list]:
    items, ignored, _ = walk(root, StatCache(tmp_path / "cold-cache"), excludes)
    return items, ignored


def test_repeated_walk_follows_every_rule_change(workspace, tmp_path):
    put(workspace, ".gitignore", "*.log\n")
    for rel in ("a.log", "b.txt", "sub/c.log", "sub/d.txt", "sub/deep/e.txt", "sub/deep/f.log"):
        put(workspace, rel, rel)
    store = ObjectStore(tmp_path / "store")
    cache = StatCache(tmp_path / "cache")
    Capturer(workspace, IgnoreMatcher(workspace), cache, 1 << 20).capture(store)   # fills the stat cache
    store.flush()
    assert walk(workspace, StatCache(tmp_path / "empty"))[2] == 7   # a cold walk decides every file
    first, ignored, decisions = walk(workspace, cache)
    assert (first, ignored) == cold(workspace, tmp_path)
    assert decisions == 3                       # nothing changed: only the ignored files are decided
    again, ignored, decisions = walk(workspace, cache)
    assert (again, ignored) == cold(workspace, tmp_path) and decisions == 3
    assert all(again[rel] is first[rel] for rel in first)       # the same items, not rebuilt

    steps = [
        lambda: put(workspace, ".gitignore", "*.txt\n", age=1),           # root rules changed
        lambda: put(workspace, "sub/.gitignore", "d.txt\nc.log\n", age=2),  # a folder gets rules
        lambda: put(workspace, "sub/.gitignore", "deep/\n", age=3),       # ...that change
        lambda: put(workspace, "sub/deep/.ignore", "!e.txt\n", age=4),
        lambda: os.unlink(workspace / "sub/.gitignore"),                  # ...and go away
        lambda: put(workspace, "b.txt", "b changed", age=5),              # a plain file changes
        lambda: put(workspace, ".git/info/exclude", "sub/deep/\n", age=6),
        lambda: put(workspace, ".gitignore", "*.log\n", age=7),
        lambda: put(workspace, "sub/.gitignore", "!c.log\n", age=8),      # re-includes a file...
        lambda: os.unlink(workspace / "sub/.gitignore"),                  # ...until it goes away
    ]
    for n, step in enumerate(steps):
        step()
        got = walk(workspace, cache)[:2]
        assert got == cold(workspace, tmp_path), f"step {n}"
        assert walk(workspace, cache)[:2] == got, f"step {n}, walked again"
    # The files.exclude setting is part of the rules too.
    assert walk(workspace, cache, ["sub"])[:2] == cold(workspace, tmp_path, ["sub"])
    assert walk(workspace, cache)[:2] == cold(workspace, tmp_path)


def test_memo_never_hides_a_changed_file(workspace, tmp_path):
    put(workspace, "x.txt", "one")
    store = ObjectStore(tmp_path / "store")
    cache = StatCache(tmp_path / "cache")
    capturer = Capturer(workspace, IgnoreMatcher(workspace), cache, 1 << 20)
    before = capturer.capture(store).items["x.txt"]
    put(workspace, "x.txt", "two", age=9)          # same size, other mtime
    after = Capturer(workspace, IgnoreMatcher(workspace), cache, 1 << 20).capture(store)
    assert after.items["x.txt"].ref != before.ref and after.hashed == 1
    os.chmod(workspace / "x.txt", 0o600)             # mode only
    moded = Capturer(workspace, IgnoreMatcher(workspace), cache, 1 << 20).capture(store).items["x.txt"]
    assert moded.mode == 0o600 and moded.ref == after.items["x.txt"].ref
    # A different size cap changes what an item is (f or x): the memo is not used across caps.
    capped = Capturer(workspace, IgnoreMatcher(workspace), cache, 2).capture(store).items["x.txt"]
    assert capped.kind == "x"


names = st.text("abc", min_size=1, max_size=2)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.lists(names, min_size=1, max_size=4).map("/".join),
                       st.tuples(st.sampled_from("flx"), st.integers(0, 0o777), st.text("0123456789abcdef\"", max_size=6),
                                 st.integers(0, 99)),
                       max_size=25))
def test_tree_state_bulk_build_equals_setting_each_item(raw):
    # Drop paths that are also a folder of another path (a file cannot be both).
    items = {rel: Item(*v) for rel, v in raw.items()
             if not any(other.startswith(rel + "/") for other in raw)}
    bulk = TreeState.build(items)
    one_by_one = TreeState()
    for rel, item in items.items():
        one_by_one.set(rel, item)
    assert bulk.files == one_by_one.files
    assert bulk.subdirs == one_by_one.subdirs
    assert bulk.stale == one_by_one.stale
    assert bulk.items == one_by_one.items
