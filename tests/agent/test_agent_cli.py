"""``marie agent`` as a subprocess: steps on stderr, the diff on stdout, --yes-to, --apply, exit codes,
--export and --continue; the model is a loopback server with a fixed transcript."""

from __future__ import annotations

import os
import subprocess
import sys

import tomli_w

from tests.agent.fake_openai import FakeOpenAIServer, call
from tests.agent.helpers import CALC, make_project


def marie(home, *args, cwd):
    env = {**os.environ, "MARIE_HOME": str(home), "MARIE_POLICY": str(home / "policy.toml")}
    return subprocess.run([sys.executable, "-m", "marie", "agent", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def settings(home, base_url):
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.toml").write_text(tomli_w.dumps(
        {"ai": {"providers": {"server": {"base_url": base_url, "model": "fake"}}, "routing": {"agent": ["server"]}}}))


def test_cli_runs_the_loop_prints_steps_and_the_diff(tmp_path):
    root = make_project(tmp_path / "ws")
    home = tmp_path / "home"
    script = [{"calls": [call("edit", {"path": "calc.py", "search": "return a - b", "replace": "return a + b"})]},
              {"calls": [call("run_command", {"command": "echo hello-from-pty"})]},
              {"calls": [call("run_command", {"command": "rm calc.py"})]},
              {"text": "Fixed add."}]
    with FakeOpenAIServer(script) as server:
        settings(home, server.base_url)
        out = marie(home, "fix add", "--mode", "edits", "--yes-to", "run_command(echo)", cwd=root)
    assert out.returncode == 0, out.stderr
    assert "+    return a + b" in out.stdout and "-    return a - b" in out.stdout
    assert "[1] edit" in out.stderr and "hello-from-pty" in out.stderr
    assert "declined run_command(rm calc.py)" in out.stderr      # no terminal: what is still asked is declined
    assert "agent: Fixed add." in out.stderr
    assert (root / "calc.py").read_text() == CALC                  # review mode: nothing applied without --apply
    session_id = out.stderr.split("agent: session ")[1].split()[0]
    md = marie(home, "--export", session_id, cwd=root)
    assert md.returncode == 0 and "`run_command`" in md.stdout and "not allowed" in md.stdout


def test_cli_apply_and_refused_auto(tmp_path):
    root = make_project(tmp_path / "ws")
    home = tmp_path / "home"
    script = [{"calls": [call("edit", {"path": "calc.py", "search": "return a - b", "replace": "return a + b"})]},
              {"text": "done"}]
    with FakeOpenAIServer(script) as server:
        settings(home, server.base_url)
        out = marie(home, "fix", "--mode", "auto", "--apply", "--model", "server:fake", cwd=root)
        assert out.returncode == 0, out.stderr
        assert (root / "calc.py").read_text() == CALC.replace("a - b", "a + b")
        assert "undo with: marie checkpoint restore" in out.stderr
        (home / "policy.toml").write_text("[agent]\nallow_auto = false\n")
        refused = marie(home, "fix", "--mode", "auto", cwd=root)
    assert refused.returncode == 1 and "admin policy" in refused.stderr
