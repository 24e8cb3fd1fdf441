"""Language features against a REAL python-lsp-server subprocess (one server for the module)."""

from __future__ import annotations

import textwrap

import pytest

from marie.app import App
from marie.core.event_types import FilesWritten
from marie.lsp.types import apply_text_edits

FILES = {
    "pkg/__init__.py": "",
    "pkg/tools.py": '''
        def helper(value):
            """Double the value."""
            return value * 2


        class Greeter:
            def greet(self, name: str) -> str:
                return "hi " + name
        ''',
    "main.py": '''
        import os
        from pkg.tools import Greeter, helper

        result = helper(21)
        greeter = Greeter()
        ''',
    "unicode.py": '''
        名前 = 1
        s = "😀😀"; t = 名前 + 1
        ''',
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("pylsp") / "ws"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    instance = App(root)
    yield instance
    instance.close()


def test_completion_comes_from_the_server(app):
    path = app.root / "main.py"
    text = path.read_text() + "os.pa\ngreeter.gr\n"
    # The first completion warms jedi inside pylsp (parsing os, pkg): on a loaded CI machine that
    # can pass the interactive 3 s budget and fall back to jedi in-process, which is not under test.
    items = app.lsp.complete(path, 6, 6, text=text, timeout=60)
    assert "path" in [i.label for i in items]
    assert app.lsp.servers()[0].state == "running" and app.lsp.fallback_used == 0
    methods = app.lsp.complete(path, 7, 11, text=text)
    greet = next(i for i in methods if i.label.startswith("greet"))
    assert greet.kind in ("method", "function") and greet.is_snippet and greet.insert_text.startswith("greet(")


def test_hover_shows_the_docstring(app):
    hover = app.lsp.hover(app.root / "main.py", 4, 11)
    assert hover is not None and "Double the value." in hover.text


def test_definition_across_files(app):
    [loc] = app.lsp.definition(app.root / "main.py", 4, 11)
    assert loc.path == (app.root / "pkg" / "tools.py").resolve()
    assert (loc.line, loc.column) == (1, 5)


def test_references_and_highlight(app):
    refs = app.lsp.references(app.root / "pkg" / "tools.py", 1, 6)
    assert {(r.path.name, r.line) for r in refs} >= {("tools.py", 1), ("main.py", 2), ("main.py", 4)}
    marks = app.lsp.document_highlight(app.root / "main.py", 4, 11)
    assert sorted(h.range.line for h in marks) == [2, 4]


def test_diagnostics_update_after_an_edit(app):
    path = app.root / "diag.py"
    path.write_text("import json\n\nvalue = undefined_name\n", encoding="utf-8")
    diagnostics = app.lsp.check(path)
    messages = [d.message for d in diagnostics]
    assert any("json" in m and "unused" in m for m in messages)
    assert any("undefined name 'undefined_name'" in m for m in messages)
    assert app.lsp.diagnostics()[path.resolve()] == diagnostics
    seq = app.lsp.diagnostics_seq(path)
    app.lsp.change(path, "import json\n\nvalue = json.dumps(1)\n")
    after = app.lsp.wait_diagnostics(path, seq)
    assert not [d for d in after if d.source == "pyflakes"]


def test_signature_help_and_symbols(app):
    path = app.root / "main.py"
    text = path.read_text() + "helper(\n"
    sig = app.lsp.signature_help(path, 6, 8, text=text)
    assert sig is not None and "value" in sig.signatures[0].label
    names = [s.name for s in app.lsp.document_symbols(app.root / "pkg" / "tools.py")]
    assert "helper" in names and "Greeter" in names


def test_non_ascii_positions_round_trip_through_utf16(app):
    path = app.root / "unicode.py"
    # line 2 is: s = "😀😀"; t = 名前 + 1  -> 名前 starts at code-point column 16 (UTF-16: 18)
    line = path.read_text(encoding="utf-8").splitlines()[1]
    column = line.index("名前") + 1
    [loc] = app.lsp.definition(path, 2, column)
    assert (loc.line, loc.column, loc.end_column) == (1, 1, 3)
    refs = sorted((r.line, r.column, r.end_column) for r in app.lsp.references(path, 1, 1))
    assert refs == [(1, 1, 3), (2, column, column + 2)]
    text = path.read_text(encoding="utf-8") + 'u = "名前😀"; os_name = s.up\n'
    items = app.lsp.complete(path, 3, len('u = "名前😀"; os_name = s.up') + 1, text=text)
    assert "upper" in [i.label.split("(")[0] for i in items]


def test_formatting_document_and_range(app):
    path = app.root / "ugly.py"
    source = "x=[1,2 ,3]\ndef f( a ):\n  return a\n"
    path.write_text(source, encoding="utf-8")
    edits = app.lsp.formatting(path)
    formatted = apply_text_edits(source, edits)
    assert "x = [1, 2, 3]" in formatted and "def f(a):" in formatted and "    return a" in formatted


def test_rename_across_files_goes_through_the_write_path(app):
    tools = app.root / "pkg" / "tools.py"
    main = app.root / "main.py"
    app.lsp.open(main)
    edit = app.lsp.rename(tools, 1, 6, "twice")
    assert set(edit.changes) >= {tools.resolve(), main.resolve()}
    written = []
    app.events.on(FilesWritten, lambda event: written.append(event.label))
    result = app.lsp.apply_workspace_edit(edit, "rename helper to twice")
    assert result.checkpoint_id is not None
    assert "def twice(value):" in tools.read_text()
    assert "from pkg.tools import Greeter, twice" in main.read_text() and "twice(21)" in main.read_text()
    assert written == ["rename helper to twice"]
    # the open document was re-synced, so the server sees the new name
    [loc] = app.lsp.definition(main, 4, 11)
    assert loc.path == tools.resolve()
    # the checkpoint holds the old text (the rename can be undone)
    restored = app.checkpoints.restore(result.checkpoint_id)
    assert "def helper(value):" in tools.read_text() and restored is not None
