"""Indexed project search: the trigram text index on real files, always compared with rg walking
the same tree (the results must be equal), persistence across reopening, and live updates."""

from __future__ import annotations

import time
from pathlib import Path


from marie.index.search import SearchOptions
from marie.index.trigram_query import literal_runs, required_trigrams


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def rows(index, pattern: str, options: SearchOptions, indexed: bool, monkeypatch) -> tuple[dict, object]:
    """``{path: [(line, column, text, spans)]}`` and the summary, from the index or from a walk."""
    if not indexed:
        monkeypatch.setattr(index, "text_index_if_ready", lambda: None)
    found: list = []
    summary = index.search(pattern, options, found.append)
    monkeypatch.undo()
    merged: dict[str, list] = {}
    for f in found:
        merged.setdefault(f.path, []).extend((m.line, m.column, m.text, m.spans) for m in f.matches)
    return {k: sorted(v) for k, v in merged.items()}, summary


def built(app):
    app.index.scan()
    app.index.text_index.sync()
    return app.index


# -- what a query requires ----------------------------------------------------------------------------
def test_required_trigrams_of_literals_and_regexes() -> None:
    assert required_trigrams("Needle", False, True) == [frozenset({"Nee", "eed", "edl", "dle"})]
    assert required_trigrams("ab", False, False) is None                   # too short to narrow
    # Case-insensitive: only ASCII trigrams (the tokenizer's Unicode folding is not rg's).
    assert required_trigrams("néedle", False, False) == [frozenset({"edl", "dle"})]
    assert required_trigrams("néedle", False, True) == [frozenset({"née", "éed", "edl", "dle"})]
    assert literal_runs(r"get_(\w+)\(") == ["get_", "("]
    assert literal_runs(r"foo\.bar") == ["foo.bar"]
    assert literal_runs("colou?r") == ["colo", "r"]
    assert literal_runs("ab+cd") == ["ab", "cd"]
    assert literal_runs("x{0,3}yzw") == ["yzw"]
    assert literal_runs(r"[abc]def\d+ghi") == ["def", "ghi"]
    assert literal_runs("(foo|bar)bazz") == ["bazz"]
    assert required_trigrams("alpha|beta", True, True) == [frozenset({"alp", "lph", "pha"}),
                                                          frozenset({"bet", "eta"})]
    assert required_trigrams("alpha|be", True, True) is None                # one branch has no literal
    assert required_trigrams("(?i)alpha", True, True) is None               # inline flags: rg decides
    assert required_trigrams("f.o", True, False) is None
    assert required_trigrams("(unclosed", True, False) is None


# -- equal to rg --------------------------------------------------------------------------------------
QUERIES = [
    ("needle", SearchOptions()),
    ("Needle", SearchOptions(case_sensitive=True)),
    ("key", SearchOptions()),
    ("key", SearchOptions(whole_word=True)),
    ("sess", SearchOptions()),
    ("café", SearchOptions()),
    ("café", SearchOptions(case_sensitive=True)),
    (r"nee+dle\s+\d", SearchOptions(regex=True)),
    ("alpha|needle", SearchOptions(regex=True)),
    ("late", SearchOptions()),
    ("utf16 text", SearchOptions()),
    ("big file", SearchOptions()),
]


def make_tree(root: Path) -> None:
    (root / "src").mkdir()
    (root / "src" / "a.py").write_text("needle 1\nNeedle 2\nalpha\n")
    (root / "src" / "b.txt").write_bytes("Kelvin \u212aey key KEY\r\n\u017fess café CAFÉ\r\n".encode())
    (root / "src" / "latin1.txt").write_bytes("caf\xe9 needle 3 key\n".encode("latin-1"))
    (root / "src" / "broken.py").write_bytes(b"x = '\xc3\xa9\xa9' caf\xc3\xa9 needle\n")
    (root / "bin.dat").write_bytes(b"needle\n\0\0binary needle\n")
    (root / "late.dat").write_bytes(b"late needle\n" + b"x" * 70000 + b"\n\0late\n")
    (root / "utf16.txt").write_bytes(b"\xff\xfe" + "utf16 text needle\n".encode("utf-16-le"))
    (root / "big.txt").write_text("big file needle\n" + "y" * 5000)
    (root / "empty.txt").write_bytes(b"")
    (root / ".gitignore").write_text("ignored/\n")
    (root / "ignored").mkdir()
    (root / "ignored" / "c.py").write_text("needle\n")


def test_indexed_results_equal_rg_on_awkward_files(app, workspace: Path, monkeypatch) -> None:
    make_tree(workspace)
    index = built(app)
    for pattern, options in QUERIES:
        walked, walk_summary = rows(index, pattern, options, False, monkeypatch)
        indexed, summary = rows(index, pattern, options, True, monkeypatch)
        assert indexed == walked, (pattern, options)
        assert (summary.matches, summary.files) == (walk_summary.matches, walk_summary.files), (pattern, options)
        assert not walk_summary.via_index
        # A hit on the file with a late NUL byte makes the index hand the query back to rg.
        expect_index = not any(word in pattern.lower() for word in ("nee", "late"))
        assert summary.via_index == expect_index, (pattern, options)
    assert "ignored/c.py" not in rows(index, "needle", SearchOptions(), False, monkeypatch)[0]


def test_size_cap_and_a_raised_cap_fall_back(app, workspace: Path, monkeypatch) -> None:
    make_tree(workspace)
    (workspace / "late.dat").unlink()
    app.settings._merged["index.search_max_filesize"] = "2K"
    index = built(app)
    walked, _ = rows(index, "big file", SearchOptions(), False, monkeypatch)
    indexed, summary = rows(index, "big file", SearchOptions(), True, monkeypatch)
    assert walked == indexed == {} and summary.via_index
    app.settings._merged["index.search_max_filesize"] = "8M"   # big.txt was never read: rg answers
    indexed, summary = rows(index, "big file", SearchOptions(), True, monkeypatch)
    assert "big.txt" in indexed and not summary.via_index


def test_the_index_persists_and_is_validated_on_reopen(workspace: Path, monkeypatch) -> None:
    from marie.app import App

    make_tree(workspace)
    with App(workspace) as first:
        built(first)
        assert first.index.text_index.last_sync["read"] >= 8
    (workspace / "src" / "a.py").write_text("needle moved\nfresh_token_xyz\n")   # changed while closed
    (workspace / "src" / "b.txt").unlink()
    with App(workspace) as again:
        again.index.scan()
        assert again.index.text_index.sync() == 1                            # only the changed file
        assert again.index.text_index.last_sync["removed"] == 1
        found, summary = rows(again.index, "fresh_token", SearchOptions(), True, monkeypatch)
        assert summary.via_index and list(found) == ["src/a.py"]
        assert rows(again.index, "Kelvin", SearchOptions(), True, monkeypatch)[0] == {}


def test_an_external_change_is_searchable_at_once(app, workspace: Path, monkeypatch) -> None:
    make_tree(workspace)
    app.settings._merged["index.symbols"] = False
    index = app.index
    index.start().result(30)
    assert wait_for(lambda: index.text_index_if_ready() is not None)
    (workspace / "src" / "new.py").write_text("brand_new_word = 1\n")
    (workspace / "src" / "a.py").write_text("brand_new_word in an old file\n")
    assert wait_for(lambda: "src/new.py" in index.snapshot()
                    and index.snapshot().get("src/a.py").size == 30)
    # Searchable as soon as the snapshot has it, indexed text or not.
    found, summary = rows(index, "brand_new_word", SearchOptions(), True, monkeypatch)
    assert summary.via_index and set(found) == {"src/new.py", "src/a.py"}
    assert index.text_index.wait_idle(10) and index.text_index.pending() == 0
    found, summary = rows(index, "brand_new_word", SearchOptions(), True, monkeypatch)
    assert summary.via_index and set(found) == {"src/new.py", "src/a.py"}
    (workspace / "src" / "new.py").unlink()
    assert wait_for(lambda: "src/new.py" not in index.snapshot())
    found, _ = rows(index, "brand_new_word", SearchOptions(), True, monkeypatch)
    assert set(found) == {"src/a.py"}


def test_sqlite_trigram_folding_matches_rg_for_ascii_letters(app, workspace: Path, monkeypatch) -> None:
    """The two non-ASCII letters rg folds to ASCII ones (Kelvin sign, long s) are found through
    the index, which is why case-insensitive queries may keep every ASCII trigram."""
    (workspace / "k.txt").write_text("\u212aelvin\n")
    (workspace / "s.txt").write_text("cla\u017f\u017f\n")
    index = built(app)
    for pattern, expected in (("kelvin", {"k.txt"}), ("class", {"s.txt"})):
        found, summary = rows(index, pattern, SearchOptions(), True, monkeypatch)
        assert summary.via_index and set(found) == expected


def test_a_big_batch_of_changes_resyncs_the_whole_index(app, workspace: Path, monkeypatch) -> None:
    """More changes at once than are worth tracking one by one (a rescan, a checkout): the index
    steps aside (rg answers), compares itself with the new snapshot, and answers again."""
    from marie.index import text_index as text_module

    make_tree(workspace)
    index = built(app)
    monkeypatch.setattr(text_module, "MAX_PENDING", 3)
    for i in range(6):
        (workspace / "src" / f"bulk{i}.py").write_text(f"bulk_token_{i} = 1\n")
    index.scan()                                          # announces 6 added paths at once
    assert wait_for(lambda: index.text_index_if_ready() is not None)
    assert index.text_index.last_sync["read"] == 6        # only the new files were read
    found, summary = rows(index, "bulk_token", SearchOptions(), True, monkeypatch)
    assert summary.via_index and len(found) == 6


def test_candidate_chunks_start_small_and_stay_under_the_argument_limit() -> None:
    from marie.index.indexed_search import CHUNK_BYTES, FIRST_CHUNK, path_chunks

    paths = [f"pkg/module_{i:06d}/file.py" for i in range(100_000)]
    chunks = list(path_chunks(paths))
    assert len(chunks[0]) == FIRST_CHUNK and len(chunks[1]) == FIRST_CHUNK * 4
    assert [p for chunk in chunks for p in chunk] == ["./" + p for p in paths]
    assert all(sum(len(a) + 1 for a in chunk) < CHUNK_BYTES + 100 for chunk in chunks)
