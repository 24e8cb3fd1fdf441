"""`marie --self-test` (what `make package` runs on the frozen app) passes on this install, and
fails, naming the check, when a part is broken."""

from __future__ import annotations

import os
import subprocess
import sys


def run(tmp_path, **env):
    full = dict(os.environ, MARIE_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen", **env)
    return subprocess.run([sys.executable, "-m", "marie", "--self-test"], capture_output=True, text=True,
                          env=full, timeout=300)


def test_self_test_passes_on_this_install(tmp_path):
    done = run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert [line.split()[1] for line in lines] == ["git", "search", "window", "model"]
    assert all(line.startswith("PASS") for line in lines)
    assert "lexer python" in done.stdout and "self-test: 4 passed, 0 failed" in done.stdout


def test_self_test_names_a_broken_part(tmp_path):
    # A default model that does not exist: the model check fails and says why; the others still run.
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "settings.toml").write_text('[ai.local]\nmodel = "/nonexistent/model.gguf"\n', encoding="utf-8")
    done = run(tmp_path)
    assert done.returncode == 1
    assert "FAIL  model" in done.stdout and "nonexistent" in done.stdout
    assert "self-test: 3 passed, 1 failed" in done.stdout
