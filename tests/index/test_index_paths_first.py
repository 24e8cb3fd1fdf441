"""Paths-first scan (rg --files listing, then the walker), GC-quiet sorting, plain-output search."""

from __future__ import annotations

import os
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from marie.core.event_types import IndexChanged
from marie.index.ignore import IgnoreMatcher
from marie.index.rgscan import list_files
from marie.index.scan import walk
from marie.index.search import SearchOptions
from marie.index.snapshot import Snapshot, kinds_of, sorted_in_runs


def write(root: Path, rel: str, data: str = "x\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


def tricky_tree(root: Path) -> None:
    write(root, ".gitignore", "*.log\nbuild/\n!keep.log\n/top.txt\n")
    for rel in ("a.log", "keep.log", "top.txt", "sub/top.txt", "build/out.bin", "src/build/gen.py",
                "src/secret.py", "src/a.log", "src/ok.py", "deep/x/y/z.txt", "node_modules/pkg/i.js",
                "docs/.hidden/h.md", ".git/config", "vendor/keep/me.go", "vendor/drop/me.go"):
        write(root, rel)
    write(root, "src/.gitignore", "secret.py\n!a.log\n")
    write(root, "vendor/.ignore", "drop/\n")
    (root / "empty/inner").mkdir(parents=True)
    (root / "dangling").symlink_to(root / "nowhere")
    (root / "loop").symlink_to(root)
    bad = os.fsencode(root) + b"/odd-\xff.txt"
    with open(bad, "wb") as handle:
        handle.write(b"x")


def walker_view(root: Path, excludes) -> tuple[set[str], set[str]]:
    entries = list(walk(root, IgnoreMatcher(root, excludes)))
    return {e.path for e in entries if e.kind == "file"}, {e.path for e in entries if e.kind == "dir"}


def test_rg_listing_matches_the_walker_on_a_tricky_tree(workspace: Path) -> None:
    tricky_tree(workspace)
    excludes = ["node_modules", "*.bin"]
    files_listed = list_files(os.fspath(workspace), IgnoreMatcher(workspace, excludes))
    assert files_listed is not None
    kinds = kinds_of(files_listed)
    files, dirs = walker_view(workspace, excludes)
    assert {p for p, k in kinds.items() if k == "file"} == files
    assert "odd-\udcff.txt" in files                    # non-UTF-8 name, surrogateescape like scandir
    assert "src/secret.py" not in files and "src/a.log" in files and "vendor/drop/me.go" not in files
    # Folders come from the file paths: all of them, except those holding no listed file.
    listed_dirs = {p for p, k in kinds.items() if k == "dir"}
    assert listed_dirs <= dirs and dirs - listed_dirs == {"empty", "empty/inner"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6))
def test_property_rg_listing_equals_walker(tmp_path_factory, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path_factory.mktemp("tree")
    names = ["a", "b", "lib", "build", "x.py", "y.log", "z.txt", ".hid"]
    rules = ["*.log", "build/", "!keep.log", "/z.txt", "lib/*.py", "b", "!b/x.py", ".hid", "a/**/z.txt"]
    for _ in range(40):
        depth = rng.randint(1, 4)
        rel = "/".join(rng.choice(names[:4] + [".hid"]) for _ in range(depth - 1))
        rel = (rel + "/" if rel else "") + rng.choice(names[4:] + ["keep.log"])
        if not (root / rel).is_dir():
            try:
                write(root, rel)
            except (IsADirectoryError, NotADirectoryError, FileExistsError):
                pass
    for folder in ["", "a", "lib", "b/a"]:
        if (root / folder).is_dir() and rng.random() < 0.7:
            # Only .gitignore: ripgrep ranks a shallower .ignore above a deeper .gitignore, the
            # walker ranks by depth; the walker's complete snapshot is the one that stays.
            (root / folder / ".gitignore").write_text(
                "\n".join(rng.sample(rules, rng.randint(1, 4))) + "\n")
    excludes = rng.choice([[], ["lib"], ["*.txt"]])
    kinds = kinds_of(list_files(os.fspath(root), IgnoreMatcher(root, excludes)))
    files, dirs = walker_view(root, excludes)
    assert {p for p, k in kinds.items() if k == "file"} == files
    assert {p for p, k in kinds.items() if k == "dir"} <= dirs


def test_start_publishes_the_listing_then_the_complete_snapshot(app, workspace: Path) -> None:
    tricky_tree(workspace)
    app.settings._merged["index.symbols"] = False
    app.settings._merged["index.watch"] = False
    seen: list[Snapshot] = []
    app.events.on(IndexChanged, lambda event: seen.append(event.snapshot))
    app.index.start().future.result(timeout=30)
    assert [s.complete for s in seen] == [False, True]
    listing, full = seen
    assert set(listing.files()) == {p for p in full.files() if full.entries[p].kind == "file"}
    assert listing.get("src/ok.py").size == 0 and full.get("src/ok.py").size == 2
    assert full.get("dangling").kind == "symlink" and "empty/inner" in full
    assert app.index.snapshot() is full and app.index.listing_s is not None


def test_sorted_in_runs_equals_sorted() -> None:
    rng = random.Random(3)
    items = ["/".join(rng.choice("abcXyz_é") * rng.randint(1, 4) for _ in range(3)) for _ in range(40000)]
    assert sorted_in_runs(items) == tuple(sorted(items))
    assert sorted_in_runs(items[:10]) == tuple(sorted(items[:10]))


def test_plain_literal_search_matches_rg_json_spans(app, workspace: Path) -> None:
    write(workspace, "a.py", "Session session x\nnone\nsé SESSION: é:session\r\n")
    write(workspace, "b/c.txt", "the session\n")
    (workspace / "odd-\udcff.txt".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")).write_text("session\n")

    def run(options):
        found = []
        summary = app.index.search("session", options, found.append)
        return summary, {f.path: [(m.line, m.column, m.text, m.spans) for m in f.matches] for f in found}

    plain_summary, plain = run(SearchOptions())
    json_summary, via_json = run(SearchOptions(regex=True))          # same pattern, rg's own spans
    assert plain == via_json and plain_summary.matches == json_summary.matches == 6
    assert plain["a.py"][1] == (3, 4, "sé SESSION: é:session", ((3, 10), (14, 21)))
    limited, _ = run(SearchOptions(max_results=3))
    assert limited.truncated and 3 <= limited.matches <= 4   # stops at the line that reaches the limit
