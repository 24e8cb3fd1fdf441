"""Project search (real rg) streaming, options, cancel; replace-in-files preview and apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from marie.core.tasks import CancelToken
from marie.index.search import SearchError, SearchOptions, apply_replace, plan_replace


@pytest.fixture(autouse=True, params=["walk", "indexed"])
def search_mode(request, app, monkeypatch):
    """Every test here runs twice: rg walking the tree, and rg reading only the text index's
    candidates (the index rebuilt from the files as they are right before each search). The
    indexed run must really have answered from the index at least once."""
    if request.param == "walk":
        yield "walk"
        return
    from marie.index import indexed_search

    real = indexed_search.candidate_files
    answered: list[str] = []

    def fresh_candidates(service, pattern, options):
        service.scan()
        service.text_index.sync()
        found = real(service, pattern, options)
        if found is not None:
            answered.append(pattern)
        return found

    monkeypatch.setattr(indexed_search, "candidate_files", fresh_candidates)
    yield "indexed"
    assert answered, "no search of this test went through the text index"


def test_search_groups_by_file_with_positions(app, workspace: Path) -> None:
    (workspace / "a.py").write_text("alpha = 1\nbeta = alpha + alpha\n")
    (workspace / "sub").mkdir()
    (workspace / "sub" / "b.txt").write_text("né alpha\n")
    (workspace / ".gitignore").write_text("ignored/\n")
    (workspace / "ignored").mkdir()
    (workspace / "ignored" / "c.py").write_text("alpha\n")
    (workspace / "node_modules").mkdir()
    (workspace / "node_modules" / "d.js").write_text("alpha\n")   # files.exclude
    found = []
    summary = app.index.search("alpha", SearchOptions(), found.append)
    by_path = {f.path: f for f in found}
    assert set(by_path) == {"a.py", "sub/b.txt"}
    lines = by_path["a.py"].matches
    assert [(m.line, m.column) for m in lines] == [(1, 1), (2, 8)]
    assert lines[1].spans == ((7, 12), (15, 20))
    assert by_path["sub/b.txt"].matches[0].column == 4            # characters, not bytes
    assert summary.files == 2 and summary.matches == 4 and summary.first_result_s is not None


def test_search_options(app, workspace: Path) -> None:
    (workspace / "x.py").write_text("Foo foo foobar\nf.o\n")
    (workspace / "y.md").write_text("foo\n")
    search = app.index.search

    def count(pattern, **kw):
        return search(pattern, SearchOptions(**kw)).matches

    assert count("foo") == 4
    assert count("foo", case_sensitive=True) == 3
    assert count("foo", whole_word=True) == 3
    assert count("foo", include=("*.md",)) == 1
    assert count("foo", exclude=("*.md",)) == 3
    assert count("f.o") == 1                       # literal by default
    assert count("f.o", regex=True) == 5
    with pytest.raises(SearchError):
        search("(unclosed", SearchOptions(regex=True))


def test_search_streams_and_cancel_kills_rg(app, workspace: Path) -> None:
    for i in range(400):
        (workspace / f"f{i:03}.txt").write_text("needle\n" * 50)
    token = CancelToken()
    seen = []

    def on_match(found):
        seen.append(found.path)
        if len(seen) == 3:
            token.cancel()

    summary = app.index.search("needle", SearchOptions(), on_match, token)
    assert summary.cancelled
    assert 3 <= len(seen) < 400
    full = app.index.search("needle", SearchOptions())
    assert full.files == 400 and full.matches == 400 * 50


def test_replace_preview_and_apply_through_write_path(app, workspace: Path) -> None:
    (workspace / "a.py").write_bytes(b"old = 1\r\nprint(old)\r\n")          # CRLF kept
    (workspace / "b.py").write_text("x = 'old'\nnothing here\nold old\n")
    (workspace / "c.py").write_text("unrelated\n")
    previews = plan_replace(app.index, "old", "new_name", SearchOptions(whole_word=True))
    by_path = {p.path: p for p in previews}
    assert set(by_path) == {"a.py", "b.py"}
    items = by_path["b.py"].items
    assert [(i.line, i.column, i.before, i.after) for i in items] == [
        (1, 6, "x = 'old'", "x = 'new_name'"),
        (3, 1, "old old", "new_name old"),
        (3, 5, "old old", "old new_name")]
    # Only the first match in b.py is chosen; a.py entirely.
    result = apply_replace(app, previews, "old", "new_name", selected={"b.py": {0}, "a.py": {0, 1}})
    assert result.replaced == 3 and sorted(result.files) == ["a.py", "b.py"]
    assert (workspace / "a.py").read_bytes() == b"new_name = 1\r\nprint(new_name)\r\n"
    assert (workspace / "b.py").read_text() == "x = 'new_name'\nnothing here\nold old\n"
    assert (workspace / "c.py").read_text() == "unrelated\n"
    # It went through the single write path: a checkpoint labelled for the replace exists and
    # restoring it brings the old text back.
    assert result.checkpoint_id
    labels = [c.label for c in app.checkpoints.list()]
    assert any("replace 'old' with 'new_name'" in label for label in labels)
    app.checkpoints.restore(result.checkpoint_id)
    assert (workspace / "a.py").read_bytes() == b"old = 1\r\nprint(old)\r\n"


def test_replace_skips_files_changed_since_preview_and_regex_groups(app, workspace: Path) -> None:
    (workspace / "a.py").write_text("get_user(1)\n")
    (workspace / "b.py").write_text("get_item(2)\n")
    previews = plan_replace(app.index, r"get_(\w+)\(", "fetch_$1(", SearchOptions(regex=True))
    assert {p.path: p.items[0].after for p in previews} == {"a.py": "fetch_user(1)", "b.py": "fetch_item(2)"}
    (workspace / "b.py").write_text("get_item(3)\n")       # the user edited it meanwhile
    result = apply_replace(app, previews, r"get_(\w+)\(", "fetch_$1(")
    assert result.files == ["a.py"] and "changed since the preview" in result.skipped["b.py"]
    assert (workspace / "a.py").read_text() == "fetch_user(1)\n"
    assert (workspace / "b.py").read_text() == "get_item(3)\n"


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_plain_output_parse_equals_rg_json_for_counts_columns_and_spans(app, workspace: Path, monkeypatch, chunk) -> None:
    """The literal fast path (rg's plain output, counts from string methods, spans on demand)
    gives what rg's own JSON gives, whatever the case folding, line endings or read size."""
    import re as _re

    from marie.index import search as search_module

    monkeypatch.setattr(search_module, "_READ_CHUNK", chunk)       # lines split across reads
    (workspace / "a.txt").write_bytes("Kelvin \u212aey key KEY\r\nkeykey x\r\nnone\r\n".encode())
    (workspace / "b.txt").write_bytes("\u017fkey é KEY ſ\nkey_word key-word\n".encode())
    (workspace / "c.bin.txt").write_bytes(b"key \xff\xfe bytes key\n")
    for options in (SearchOptions(), SearchOptions(case_sensitive=True), SearchOptions(whole_word=True)):
        plain, via_json = [], []
        s1 = app.index.search("key", options, plain.append)
        s2 = app.index.search(_re.escape("key"), SearchOptions(regex=True, case_sensitive=options.case_sensitive,
                                                               whole_word=options.whole_word), via_json.append)

        def rows(found):
            merged: dict[str, list] = {}
            for f in found:
                merged.setdefault(f.path, []).extend((m.line, m.column, m.text, m.spans) for m in f.matches)
            return merged

        assert rows(plain) == rows(via_json), options
        assert s1.matches == s2.matches and s1.files == s2.files, options
    found = []
    app.index.search("kEy", SearchOptions(), found.append)
    line = next(f for f in found if f.path == "a.txt").matches[0]
    assert (line.line, line.column, line.text) == (1, 8, "Kelvin \u212aey key KEY")
    assert line.spans == ((7, 10), (11, 14), (15, 18))       # worked out on first use
