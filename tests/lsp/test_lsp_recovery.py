"""Crash and hang recovery against real processes, and the jedi fallback when pylsp is absent."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from marie.app import App
from marie.lsp.client import RequestTimeout, ServerDown
from marie.lsp.types import path_to_uri

HANGING_SERVER = Path(__file__).with_name("hanging_server.py")


def make_app(root: Path, settings: str = "") -> App:
    root.mkdir(parents=True, exist_ok=True)
    if settings:
        (root / ".marie").mkdir(exist_ok=True)
        (root / ".marie" / "settings.toml").write_text(settings, encoding="utf-8")
    return App(root)


def wait_for(predicate, timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_kill_9_brings_pylsp_back_with_documents_replayed(tmp_path):
    app = make_app(tmp_path / "ws")
    try:
        path = app.root / "mod.py"
        path.write_text("import os\n", encoding="utf-8")
        # unsaved buffer text: only a replayed didOpen lets the new server know `value_after_kill`
        app.lsp.open(path, "import os\nvalue_after_kill = 1\nvalue_af\n")
        assert "value_after_kill" in [i.label for i in app.lsp.complete(path, 3, 9)]
        handle = app.lsp.handle("python")
        for round_ in range(10):
            pid, generation = handle.pid, handle.generation
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            back = wait_for(lambda: handle.generation > generation and handle.state == "running", 2.0)
            assert back, f"round {round_}: server not back and replayed within 2 s (state {handle.state})"
            assert handle.pid != pid
            assert time.monotonic() - killed_at < 2.0
        # the replacement server knows the unsaved document text, and follows later edits
        assert "value_after_kill" in [i.label for i in app.lsp.complete(path, 3, 9)]
        app.lsp.change(path, "import os\nvalue_after_kill = 1\nsecond_name = 2\nsecond_n\n")
        assert "second_name" in [i.label for i in app.lsp.complete(path, 4, 9)]
        assert app.lsp.fallback_used == 0
        assert len(handle.restarts) == 10 and any("replayed" in line for line in handle.log)
    finally:
        app.close()


@pytest.fixture
def hanging(tmp_path):
    log = tmp_path / "server.log"
    settings = f"""
[lsp]
request_timeout_s = 0.5
hang_timeout_s = 1.0

[lsp.servers.text]
command = [{sys.executable!r}, {str(HANGING_SERVER)!r}, {str(log)!r}]
"""
    app = make_app(tmp_path / "ws", settings)
    yield app, log
    app.close()


def methods(log: Path) -> list[tuple[int, str]]:
    if not log.exists():
        return []
    return [(int(p), m) for p, m in (line.split(" ", 1) for line in log.read_text().splitlines())]


def test_hanging_server_times_out_is_cancelled_and_restarted(hanging):
    app, log = hanging
    path = app.root / "notes.txt"
    path.write_text("hello\n", encoding="utf-8")
    app.lsp.open(path)
    handle = app.lsp.handle("text")
    handle.client(10)
    first_pid = handle.pid
    with pytest.raises(RequestTimeout):
        app.lsp.hover(path, 1, 2)
    assert wait_for(lambda: (first_pid, "$/cancelRequest") in methods(log), 2.0)
    # silent for hang_timeout_s after the request: killed and started again, document replayed
    assert wait_for(lambda: handle.state == "running" and handle.pid not in (None, first_pid), 10.0), handle.log
    new_pid = handle.pid
    assert wait_for(lambda: (new_pid, "textDocument/didOpen") in methods(log), 2.0)
    seen = [m for p, m in methods(log) if p == new_pid]
    assert seen[:3] == ["initialize", "initialized", "textDocument/didOpen"]
    assert any("hung" in line for line in handle.log)


def test_pending_requests_fail_at_once_when_the_server_dies(hanging):
    app, log = hanging
    path = app.root / "notes.txt"
    path.write_text("hello\n", encoding="utf-8")
    app.lsp.open(path)
    client = app.lsp.handle("text").client(10)
    future = client.request("textDocument/hover", {"textDocument": {"uri": path_to_uri(path)},
                                                   "position": {"line": 0, "character": 1}}, timeout=30)
    os.kill(client.pid, signal.SIGKILL)
    with pytest.raises(ServerDown):
        future.result(5)   # far below the request's 30 s timeout: failed on the crash itself


def test_jedi_answers_when_the_server_command_is_missing(tmp_path):
    app = make_app(tmp_path / "ws", '[lsp.python]\ncommand = "/nonexistent/pylsp-missing"\n')
    try:
        (app.root / "lib.py").write_text('def helper(value):\n    """Double the value."""\n    return value * 2\n')
        main = app.root / "main.py"
        main.write_text("import lib\nlib.helper(2)\nlib.hel\n", encoding="utf-8")
        items = app.lsp.complete(main, 3, 8)
        assert [i.label for i in items] == ["helper"] and items[0].kind == "function"
        hover = app.lsp.hover(main, 2, 6)
        assert hover is not None and "Double the value." in hover.text
        [loc] = app.lsp.definition(main, 2, 6)
        assert loc.path == (app.root / "lib.py").resolve() and loc.line == 1
        [status] = app.lsp.servers()
        assert status.state == "unavailable" and "pylsp-missing" in status.message
        assert app.lsp.fallback_used == 3
    finally:
        app.close()


def test_a_server_that_keeps_dying_backs_off_then_stops_within_its_budget(tmp_path):
    settings = f"""
[lsp]
restart_max = 3
restart_window_s = 60.0
backoff_base_s = 0.05
start_timeout_s = 5.0

[lsp.servers.text]
command = [{sys.executable!r}, "-c", "import sys; sys.stderr.write('boom\\\\n'); sys.exit(3)"]
"""
    app = make_app(tmp_path / "ws", settings)
    try:
        path = app.root / "notes.txt"
        path.write_text("x\n", encoding="utf-8")
        app.lsp.open(path)
        handle = app.lsp.handle("text")
        assert wait_for(lambda: handle.state == "failed", 15.0), handle.log
        assert len(handle.restarts) == 3
        assert "restarts" in handle.message and "Restart Language Server" in handle.message
        assert any("boom" in line for line in handle.log)        # its stderr reached the log
        with pytest.raises(ServerDown):
            app.lsp.hover(path, 1, 1)
    finally:
        app.close()
