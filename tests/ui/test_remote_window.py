"""A running window driven from outside: `marie remote open/state/command` and `marie FILE:LINE`
(single instance) in real subprocesses reach the real window through its automation endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from marie.ui.automation_host import WindowEndpoint


@pytest.fixture
def remote_env(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    monkeypatch.setenv("MARIE_ENDPOINT_DIR", str(folder))
    return dict(os.environ, MARIE_ENDPOINT_DIR=str(folder), QT_QPA_PLATFORM="offscreen")


def marie(qtbot, env, *args: str) -> subprocess.CompletedProcess:
    """Run `marie ARGS` while the window's event loop keeps running (it must answer the call)."""
    proc = subprocess.Popen([sys.executable, "-m", "marie", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60000)
    out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_remote_open_state_command_and_single_instance(qtbot, make_window, workspace, remote_env):
    target = workspace / "pkg" / "mod.py"
    target.parent.mkdir()
    target.write_text("one = 1\ntwo = 2\nthree = 3\nfour = 4\n", encoding="utf-8")
    window = make_window()
    window.finish_startup()
    host = WindowEndpoint(window)
    assert host.start() is not None
    try:
        done = marie(qtbot, remote_env, "remote", "ping")
        assert done.returncode == 0, done.stderr
        assert str(workspace) in done.stdout

        done = marie(qtbot, remote_env, "remote", "open", f"{target}:3:2")
        assert done.returncode == 0, done.stderr
        editor = window.current_editor()
        assert editor is not None and editor.path == target.resolve()
        assert editor.cursor_position()[0] == 3

        done = marie(qtbot, remote_env, "remote", "state", "--json")
        state = json.loads(done.stdout)
        assert state["current"] == str(target.resolve()) and str(target.resolve()) in state["open_files"]

        # Running a command: closing the tab through the window's own command registry.
        done = marie(qtbot, remote_env, "remote", "commands", "--json")
        ids = {row["id"] for row in json.loads(done.stdout)}
        close_id = next(i for i in ("file.close", "tab.close", "file.close_tab") if i in ids)
        done = marie(qtbot, remote_env, "remote", "command", close_id)
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: window.current_editor() is None, timeout=10000)

        done = marie(qtbot, remote_env, "remote", "command", "no.such.command")
        assert done.returncode == 1 and "no command 'no.such.command'" in done.stderr

        # `marie FILE:LINE` with a window running opens it there instead of starting a second one.
        done = marie(qtbot, remote_env, f"{target}:2")
        assert done.returncode == 0, done.stderr
        assert "opened" in done.stderr and "running MarieIDE" in done.stderr
        editor = window.current_editor()
        assert editor is not None and editor.path == target.resolve() and editor.cursor_position()[0] == 2
    finally:
        host.close()
    done = marie(qtbot, remote_env, "remote", "ping")
    assert done.returncode == 4 and "no MarieIDE window" in done.stderr
