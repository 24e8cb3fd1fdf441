"""A language server other than pylsp, configured in settings: FakeToyServer (tests/lsp/fake_lsp_server.py,
a real subprocess speaking JSON-RPC over stdio) serves a made-up language by file extension. And a
misconfigured server (its command missing): one clear message, jedi or nothing, never a hang."""

from __future__ import annotations

from marie.ui.features import feature_of

import json
import sys
import time
from pathlib import Path

import pytest

from marie.app import App
from marie.core.event_types import LspStatus
from marie.lsp.client import ServerDown

FAKE_SERVER = Path(__file__).with_name("fake_lsp_server.py")


def make_app(root: Path, settings: str, dispatcher=None) -> App:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".marie").mkdir(exist_ok=True)
    (root / ".marie" / "settings.toml").write_text(settings, encoding="utf-8")
    return App(root, dispatcher) if dispatcher is not None else App(root)


def toy_settings(log: Path) -> str:
    return f"""
[lsp.servers.toy]
command = [{sys.executable!r}, {str(FAKE_SERVER)!r}]
args = [{str(log)!r}]
extensions = [".toy"]
"""


def received(log: Path, method: str) -> list[dict]:
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return [e["params"] for e in entries if e["method"] == method]


def test_a_configured_server_serves_its_file_type(tmp_path):
    log = tmp_path / "toy.log"
    app = make_app(tmp_path / "ws", toy_settings(log))
    try:
        path = app.root / "hello.toy"
        path.write_text("greet world\nbad 😀 thing\n", encoding="utf-8")
        assert app.lsp.language_for(path) == "toy"
        assert app.lsp.check(path)[0].message == "bad word"      # started on first use, didOpen sent
        opened = received(log, "textDocument/didOpen")
        assert opened[0]["textDocument"]["languageId"] == "toy"
        assert received(log, "initialize")[0]["rootUri"].endswith("/ws")
        before = app.lsp.diagnostics_seq(path)
        app.lsp.change(path, "greet world\nbad 😀 thing bad\n")   # one insertion after an emoji
        diagnostics = app.lsp.wait_diagnostics(path, before)
        changes = received(log, "textDocument/didChange")[-1]["contentChanges"]
        assert len(changes) == 1 and "range" in changes[0] and changes[0]["text"] == " bad"   # incremental
        assert changes[0]["range"]["start"]["character"] == 12    # UTF-16: the emoji counts 2
        assert received(log, "$/text")[-1]["text"] == "greet world\nbad 😀 thing bad\n"
        assert [(d.line, d.column, d.end_column) for d in diagnostics] == [(2, 1, 4), (2, 13, 16)]
        labels = [i.label for i in app.lsp.complete(path, 1, 3)]
        assert {"greet", "world", "thing", "toyfn"} <= set(labels)
        snippet = next(i for i in app.lsp.complete(path, 1, 3) if i.label == "toyfn")
        assert snippet.is_snippet and snippet.insert_text == "toyfn(${1:left}, ${2:right})$0"
        assert app.lsp.hover(path, 1, 8).text == "toy word: world"
        assert [s.language for s in app.lsp.servers()] == ["toy"]   # pylsp was never started
    finally:
        app.close()


def test_a_missing_command_is_unavailable_at_once(tmp_path):
    settings = '[lsp.servers.toy]\ncommand = "/nonexistent/toy-language-server"\nextensions = ["toy"]\n'
    app = make_app(tmp_path / "ws", settings)
    states = []
    app.events.on(LspStatus, lambda event: states.append((event.state, event.message)))
    try:
        path = app.root / "a.toy"
        path.write_text("bad\n", encoding="utf-8")
        with pytest.raises(ServerDown, match="not installed"):
            app.lsp.complete(path, 1, 1)
        with pytest.raises(ServerDown, match="not installed"):
            app.lsp.hover(path, 1, 1)
        assert states == [("starting", "starting"),
                          ("unavailable", "/nonexistent/toy-language-server is not installed")]
    finally:
        app.close()


def test_a_missing_python_server_falls_back_to_jedi(tmp_path):
    app = make_app(tmp_path / "ws", '[lsp.python]\ncommand = "/nonexistent/pylsp"\n')
    try:
        path = app.root / "m.py"
        path.write_text("import collections\ncollections.Ord\n", encoding="utf-8")
        assert "OrderedDict" in [i.label for i in app.lsp.complete(path, 2, 16)]
        assert app.lsp.fallback_used == 1
        assert app.lsp.handle("python").state == "unavailable"
    finally:
        app.close()


# -- in the editor ---------------------------------------------------------------------------------
@pytest.fixture
def open_window(qtbot):
    """Makes real MainWindows (closed with their apps after the test)."""
    from tests.qt_helpers import close_main_windows, open_main_window

    made = []

    def make(root: Path):
        made.append(open_main_window(qtbot, root))
        return made[-1]

    yield make
    close_main_windows(*made)


def test_toy_files_in_the_editor_get_diagnostics_completion_and_snippets(qtbot, tmp_path, open_window):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from marie.ui.lsp.markers import INDIC_ERROR, M_ERROR

    log = tmp_path / "toy.log"
    root = tmp_path / "ws"
    make_app(root, toy_settings(log)).close()
    (root / "play.toy").write_text("alpha beta\nbad\n", encoding="utf-8")
    window = open_window(root)
    editor = window.open_file(root / "play.toy")
    qtbot.waitUntil(lambda: feature_of(editor, "lsp") is not None, timeout=5000)
    ed, sci = feature_of(editor, "lsp"), editor.sci
    assert ed.language == "toy"
    qtbot.waitUntil(lambda: [d.message for d in ed.diagnostics] == ["bad word"], timeout=15000)
    assert sci.indicatorValueAt(INDIC_ERROR, sci.positionFromLine(1)) == 1 and sci.markerGet(1) & (1 << M_ERROR)
    log_view = window.panels["lsp_log"].view            # the server's stderr in the log panel
    qtbot.waitUntil(lambda: "[toy] FakeToyServer ready" in log_view.toPlainText(), timeout=5000)
    # typing reaches the server as didChange; fixing the word clears the squiggle
    editor.goto(2, 4)
    editor.setFocus()
    qtbot.keyClicks(sci, "ge")
    qtbot.waitUntil(lambda: any(e["text"] == "alpha beta\nbadge\n" for e in received(log, "$/text")), timeout=15000)
    qtbot.waitUntil(lambda: ed.diagnostics == [], timeout=15000)
    assert sci.indicatorValueAt(INDIC_ERROR, sci.positionFromLine(1)) == 0
    # completion from the server, and its snippet's tab stops
    qtbot.keyClick(sci, Qt.Key.Key_Return)
    window.activateWindow()     # Ctrl+Space is a window shortcut
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=15000)
    qtbot.keyClick(sci, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sci.autoCActive() and "toyfn" in ed._items, timeout=15000)
    assert {"alpha", "beta", "badge"} <= set(ed._items)
    sci.autoCSelect("toyfn")
    qtbot.keyClick(sci, Qt.Key.Key_Tab)
    assert editor.text() == "alpha beta\nbadge\ntoyfn(left, right)\n" and editor.selected_text() == "left"
    qtbot.keyClicks(sci, "x")
    qtbot.keyClick(sci, Qt.Key.Key_Tab)
    assert editor.selected_text() == "right"
    qtbot.waitUntil(lambda: any(e["text"] == "alpha beta\nbadge\ntoyfn(x, right)\n" for e in received(log, "$/text")),
                    timeout=15000)
    # a word completed inside a placeholder keeps the tab stops
    qtbot.keyClicks(sci, "al")                          # two word characters open the popup
    qtbot.waitUntil(lambda: sci.autoCActive() and "alpha" in ed._items, timeout=15000)
    sci.autoCSelect("alpha")
    qtbot.keyClick(sci, Qt.Key.Key_Tab)
    assert editor.text() == "alpha beta\nbadge\ntoyfn(x, alpha)\n" and ed.snippet_session is not None
    qtbot.keyClick(sci, Qt.Key.Key_Tab)                 # the final stop: after the call
    assert ed.snippet_session is None and editor.cursor_position() == (3, 16)


def test_a_missing_server_in_the_editor_says_so_once(qtbot, tmp_path, open_window):
    root = tmp_path / "ws"
    make_app(root, '[lsp.servers.toy]\ncommand = "/nonexistent/toy-ls"\nextensions = [".toy"]\n').close()
    (root / "a.toy").write_text("abc\n", encoding="utf-8")
    window = open_window(root)
    messages = []
    shown = window.show_message
    window.show_message = lambda text, level="info": (messages.append((text, level)), shown(text, level))
    editor = window.open_file(root / "a.toy")
    qtbot.waitUntil(lambda: feature_of(editor, "lsp") is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.app.lsp.handle("toy").state == "unavailable", timeout=5000)
    completions = {}
    window.app.tasks.on_task_change(
        lambda task: completions.__setitem__(task.id, task) if task.name == "lsp completion" else None)
    editor.setFocus()
    for _ in range(3):   # completion asked three times (Ctrl+Space): answered by nothing, no new message
        feature_of(editor, "lsp").complete()
    qtbot.keyClicks(editor.sci, "xy")    # two word characters ask for completion too
    qtbot.waitUntil(lambda: len(completions) >= 4 and all(t.finished for t in completions.values()), timeout=10000)
    qtbot.wait(100)    # their answers (errors) reach the GUI thread
    assert not editor.sci.autoCActive()
    toy = [m for m in messages if "toy" in m[0]]
    assert toy == [("Language server for toy is unavailable: /nonexistent/toy-ls is not installed", "warning")]


def test_a_server_that_dies_at_start_fails_requests_at_once(tmp_path):
    # a start timeout far longer than the test: only failing fast lets these requests return
    settings = f"""
[lsp]
start_timeout_s = 600.0
[lsp.servers.toy]
command = [{sys.executable!r}, "-c", "import sys; sys.stderr.write('not a language server\\\\n'); sys.exit(3)"]
extensions = [".toy"]
"""
    app = make_app(tmp_path / "ws", settings)
    try:
        path = app.root / "a.toy"
        path.write_text("abc\n", encoding="utf-8")
        handle = app.lsp.handle("toy")
        handle.ensure_started()
        deadline = time.monotonic() + 30
        while len(handle.restarts) < 2 and time.monotonic() < deadline:   # two failed starts
            time.sleep(0.02)
        for _ in range(3):
            with pytest.raises(ServerDown, match="keeps failing to start"):
                app.lsp.complete(path, 1, 1)
        assert any("not a language server" in line for line in handle.log)   # its stderr, for the log panel
    finally:
        app.close()


def test_an_older_editor_text_never_replaces_a_newer_one(tmp_path):
    from marie.lsp.service import StampedText

    log = tmp_path / "toy.log"
    app = make_app(tmp_path / "ws", toy_settings(log))
    try:
        path = app.root / "order.toy"
        path.write_text("one\n", encoding="utf-8")
        app.lsp.open(path, StampedText("two\n", 5))
        # a request holding an older text arrives late (another worker thread): it runs on the newer one
        assert app.lsp.change(path, StampedText("one\n", 3)) is None
        assert [i.label for i in app.lsp.complete(path, 1, 1, text=StampedText("old\n", 4))][:1] == ["two"]
        assert app.lsp.text_of(path) == "two\n"
        app.lsp.change(path, StampedText("three\n", 6))
        app.lsp.change(path, "plain text from the CLI is always taken\n")
        assert app.lsp.text_of(path) == "plain text from the CLI is always taken\n"
        deadline = time.monotonic() + 15    # the server handles notifications in its own time
        while not [e for e in received(log, "$/text") if e["text"].startswith("plain")] and time.monotonic() < deadline:
            time.sleep(0.02)
        texts = [e["text"] for e in received(log, "$/text")]
        assert received(log, "textDocument/didOpen")[0]["textDocument"]["text"] == "two\n"
        assert "one\n" not in texts and "old\n" not in texts and texts[-1].startswith("plain")
    finally:
        app.close()
