"""Commands in a real pty: a command's file changes undone exactly, a runaway command killed at its
timeout, output past the cap cut, cancel in the middle of a command, secrets kept out of its
environment."""

from __future__ import annotations

import os
import threading

import pytest

from marie.agent import events as ev
from marie.agent.pty_command import filtered_env, run_command
from marie.agent.service import agent_service
from tests.agent.fake_openai import FakeOpenAIServer, call
from tests.agent.helpers import CALC, make_agent_app, make_project


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path / "ws")
    (root / "data").mkdir()
    (root / "data" / "a.txt").write_text("alpha\n")
    (root / "data" / "b.bin").write_bytes(bytes(range(256)))
    os.chmod(root / "data" / "b.bin", 0o751)
    return root


def _tree(root):
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith(".git"):
            continue
        out[rel] = (p.read_bytes(), oct(p.stat().st_mode)) if p.is_file() else "dir"
    return out


def test_a_command_that_deletes_and_creates_files_is_undone_exactly(project):
    before = _tree(project)
    command = ("rm -r data && mkdir -p out/deep && echo made > out/deep/new.txt && "
               "printf 'x' >> calc.py && mv README.md README.txt")
    script = [{"calls": [call("run_command", {"command": command})]}, {"text": "done"}]
    with FakeOpenAIServer(script) as server:
        app = make_agent_app(project, server.base_url)
        try:
            run = agent_service(app).start_run("reorganise", mode="auto")
            session = run.run()
            step = session.steps[0]
            assert step.ok and step.checkpoint_id
            assert sorted(step.changed) == ["README.md", "README.txt", "calc.py", "data/a.txt", "data/b.bin",
                                            "out/deep/new.txt"]
            assert "files changed by the command" in step.result
            restored = run.undo_step(step.call_id)
            assert sorted(restored) == sorted(step.changed)
        finally:
            app.close()
    assert _tree(project) == before


def test_runaway_command_is_killed_at_its_timeout_and_output_is_capped(tmp_path):
    result = run_command("echo start; while :; do echo spam spam spam; done", tmp_path, timeout_s=1.5,
                         output_cap=10_000, env=filtered_env([]))
    assert result.timed_out and result.exit_code is None
    assert result.output.startswith("start") and len(result.output.encode()) <= 10_000
    assert result.cut_bytes > 0


def test_a_command_that_never_prints_is_killed_with_its_children(tmp_path):
    result = run_command("sleep 100 & echo $! > child.pid; sleep 100", tmp_path, timeout_s=1.0,
                         output_cap=1000, env=filtered_env([]))
    assert result.timed_out
    child = int((tmp_path / "child.pid").read_text())
    with pytest.raises(ProcessLookupError):
        _wait_gone(child)
        os.kill(child, 0)


def _wait_gone(pid: int) -> None:
    import time
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


def test_secrets_are_filtered_from_the_environment(tmp_path):
    env = filtered_env(["*_API_KEY", "*TOKEN*"], {"OPENAI_API_KEY": "sk-1", "GH_TOKEN": "t", "HOME": "/h", "PATH": os.environ["PATH"]})
    result = run_command("env", tmp_path, timeout_s=10, output_cap=100_000, env=env)
    assert "HOME=/h" in result.output and "sk-1" not in result.output and "GH_TOKEN" not in result.output


def test_cancel_in_the_middle_of_a_command_kills_it_and_ends_the_run(project):
    script = [{"calls": [call("run_command", {"command": "echo $$ > shell.pid; echo started; sleep 60; touch late.txt"})]},
              {"text": "never reached"}]
    with FakeOpenAIServer(script) as server:
        app = make_agent_app(project, server.base_url)
        try:
            run = agent_service(app).start_run("wait", mode="auto")

            def on_output(event: ev.CommandOutput) -> None:
                if "started" in event.text:
                    threading.Thread(target=run.cancel).start()

            app.events.on(ev.CommandOutput, on_output)
            session = run.run()
        finally:
            app.close()
    assert session.finished == "cancelled"
    assert len(server.requests) == 1            # the model was not asked again
    step = session.steps[0]
    assert "cancelled" in step.summary and step.checkpoint_id
    pid = int((project / "shell.pid").read_text())
    _wait_gone(pid)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (project / "late.txt").exists()
    assert (project / "calc.py").read_text() == CALC
