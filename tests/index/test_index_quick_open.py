"""Quick-open ranking and symbols on real folders."""

from __future__ import annotations

from pathlib import Path

from marie.index.quick_open import parse_query


def make(root: Path, rels: list[str]) -> None:
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


def paths(results) -> list[str]:
    return [r.path for r in results]


def test_file_name_beats_folder_match(app, workspace: Path) -> None:
    make(workspace, ["router/a/b/index.ts", "src/lib/router.ts", "docs/rerouting_notes.md"])
    app.index.scan()
    assert paths(app.index.find("router"))[0] == "src/lib/router.ts"


def test_contiguous_and_word_boundary_beat_scattered(app, workspace: Path) -> None:
    make(workspace, ["src/user_service.py", "src/mousevector.py", "src/userservice_impl.py",
                     "src/s_tore_pay.py", "src/storepay.py"])
    app.index.scan()
    ranked = paths(app.index.find("userservice"))
    assert ranked[0] == "src/userservice_impl.py"          # contiguous beats split by "_"
    assert "src/user_service.py" in ranked
    ranked = paths(app.index.find("usvc"))                  # word-boundary initials beat scattered letters
    assert ranked.index("src/user_service.py") < ranked.index("src/mousevector.py")
    ranked = paths(app.index.find("storepay"))
    assert ranked[0] == "src/storepay.py"


def test_exact_name_and_recent_first(app, workspace: Path) -> None:
    make(workspace, ["a/config.py", "b/config.py", "c/config_loader.py", "d/app_config.py"])
    index = app.index
    index.scan()
    top = paths(index.find("config.py"))
    assert set(top[:2]) == {"a/config.py", "b/config.py"}
    index.note_opened("b/config.py")
    assert paths(index.find("config"))[0] == "b/config.py"
    # Empty query: recent files first.
    assert paths(index.find(""))[0] == "b/config.py"
    # Recency survives a restart of the service (stored in the workspace data folder).
    from marie.app import App

    with App(workspace) as again:
        again.index.scan()
        assert paths(again.index.find("config"))[0] == "b/config.py"


def test_name_line_syntax(app, workspace: Path) -> None:
    make(workspace, ["pkg/main.py", "pkg/other.py"])
    app.index.scan()
    first = app.index.find("main.py:12")[0]
    assert (first.path, first.line, first.column) == ("pkg/main.py", 12, None)
    first = app.index.find("main:3:7")[0]
    assert (first.path, first.line, first.column) == ("pkg/main.py", 3, 7)
    assert parse_query("c:\\x").text == "c:\\x"


def test_query_with_folder_and_spaces(app, workspace: Path) -> None:
    make(workspace, ["server/api/handler.go", "client/api/handler.go", "server/db/handler.go"])
    app.index.scan()
    assert paths(app.index.find("server/api"))[0] == "server/api/handler.go"
    assert paths(app.index.find("client handler"))[0] == "client/api/handler.go"


def test_symbols_per_file_and_workspace(app, workspace: Path) -> None:
    (workspace / "m.py").write_text("class Store:\n    def load(self):\n        pass\n\ndef helper():\n    pass\n")
    (workspace / "w.go").write_text("package w\n\ntype Widget struct{}\n\nfunc (w Widget) Draw() {}\n")
    (workspace / "r.rs").write_text("struct Point;\nfn distance() {}\n")
    (workspace / "j.js").write_text("class View {\n  render() {}\n}\nconst make = () => 1;\n")
    (workspace / "t.ts").write_text("interface Shape { area(): number }\nexport function área() {}\n")
    (workspace / "huge.py").write_text("def hidden():\n    pass\n" + "#" * 2_000_000)
    (workspace / "bin.py").write_bytes(b"def nope():\x00\x00\x01 pass\n")
    index = app.index
    index.scan()
    syms = index.symbols("m.py")
    assert [(s.name, s.kind, s.line, s.column) for s in syms] == [
        ("Store", "class", 1, 7), ("load", "method", 2, 9), ("helper", "function", 5, 5)]
    assert {(s.name, s.kind) for s in index.symbols("w.go")} == {("Widget", "type"), ("Draw", "method")}
    assert {s.name for s in index.symbols("r.rs")} == {"Point", "distance"}
    assert {s.name for s in index.symbols("j.js")} == {"View", "render", "make"}
    ts = {s.name: s for s in index.symbols("t.ts")}
    assert ts["área"].column == 17 and ts["Shape"].kind == "interface"
    assert index.symbols("huge.py") == [] and "larger" in index.symbol_index.skipped["huge.py"]
    assert index.symbols("bin.py") == [] and index.symbol_index.skipped["bin.py"] == "binary"
    index.symbol_index.start().result(20)
    found = index.workspace_symbols("draw")
    assert found and found[0].name == "Draw" and found[0].path == "w.go"
    assert not index.workspace_symbols("hidden")


def test_symbols_kept_live_by_the_watcher(app, workspace: Path) -> None:
    import time

    (workspace / "a.py").write_text("def first():\n    pass\n")
    index = app.index
    app.settings._merged["index.symbols"] = True
    index.start().result(10)
    index.symbol_index._task.result(10)
    assert [s.name for s in index.workspace_symbols("first")] == ["first"]
    (workspace / "a.py").write_text("def second():\n    pass\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not index.workspace_symbols("second"):
        time.sleep(0.05)
    assert [s.name for s in index.workspace_symbols("second")] == ["second"]
    assert not index.workspace_symbols("first")


def test_background_symbol_parsing_yields_to_foreground_work(app, workspace: Path) -> None:
    import concurrent.futures
    import time

    import pytest

    from marie.core.tasks import Cancelled

    for i in range(30):
        (workspace / f"m{i}.py").write_text(f"def f{i}():\n    pass\n")
    index = app.index
    index.scan()
    symbols = index.symbol_index
    with index.background_paused():
        task = symbols.start()
        time.sleep(0.5)
        assert not task.future.done(), "the build must wait while a foreground operation holds it"
        assert symbols.all() == []
    task.result(20)
    assert len(symbols.all()) == 30
    with index.background_paused():   # cancelling still works while paused
        again = symbols.start()
        time.sleep(0.2)
        again.cancel()
        with pytest.raises((Cancelled, concurrent.futures.CancelledError)):
            again.result(5)


def test_typing_on_narrows_to_the_previous_hits_with_identical_results(app, workspace: Path) -> None:
    """Each keystroke that extends the query matches only the previous query's hits; the ranked
    results are exactly what a matcher that never narrows gives, keystroke by keystroke."""
    from marie.index.quick_open import QuickOpen

    words = ["router", "widget", "invoice", "handler", "ledger", "schema", "tenant", "vault"]
    rels = [f"{a}/{b}_{i}/{c}_{a[:3]}{i}.py" for i, (a, b, c) in
            enumerate((words[i % 8], words[(i * 3) % 8], words[(i * 5 + 1) % 8]) for i in range(400))]
    make(workspace, rels)
    snap = app.index.scan()
    typing = QuickOpen()
    narrowed = 0
    for query in ["widget_inv", "rou han", "schema/ten", "vault_x", "Ledger", "inv:12"]:
        for end in range(1, len(query) + 1):
            prefix = query[:end]
            last = typing._narrowing
            if last is not None and prefix.startswith(last.text):
                narrowed += 1
                assert len(last.indices) < len(snap.files())
            got = typing.find(snap, prefix)
            fresh = QuickOpen().find(snap, prefix)
            assert [(m.path, m.score, m.line) for m in got] == [(m.path, m.score, m.line) for m in fresh], prefix
    assert narrowed > 20


def test_symbol_index_persists_and_reparses_only_changed_files(workspace: Path) -> None:
    """A reopened project reads its symbols from the store on disk; only files changed while it
    was closed are parsed again, and removed files' symbols are gone."""
    from marie.app import App

    (workspace / "a.py").write_text("def alpha():\n    pass\n")
    (workspace / "b.py").write_text("class Beta:\n    pass\n")
    (workspace / "c.go").write_text("package c\n\nfunc Gamma() {}\n")
    with App(workspace) as first:
        first.index.scan()
        first.index.symbol_index.start().result(20)
        assert first.index.symbol_index.last_build["parsed"] == 3
    (workspace / "a.py").write_text("def alpha_two():\n    pass\n")
    (workspace / "c.go").unlink()
    with App(workspace) as again:
        again.index.scan()
        symbols = again.index.symbol_index
        symbols.start().result(20)
        assert (symbols.last_build["parsed"], symbols.last_build["removed"]) == (1, 1)
        assert [s.name for s in again.index.workspace_symbols("beta")] == ["Beta"]   # from the store
        assert [s.name for s in again.index.workspace_symbols("alpha")] == ["alpha_two"]
        assert not again.index.workspace_symbols("gamma")
        assert [(s.name, s.line) for s in again.index.symbols("b.py")] == [("Beta", 1)]
