"""Shared helpers for the agent tests: a git workspace with a small Python project and failing
tests, and an App whose ``agent`` route points at a loopback OpenAI-compatible server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import tomli_w

from marie.app import App
from marie.core.settings import Settings
from tests.ai.helpers import free_port, llama_server  # noqa: F401  (re-exported: the agent tests use them)

CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST = ("from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_mul():\n    assert mul(2, 3) == 6\n")


def make_project(root: Path, git: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST)
    (root / "README.md").write_text("# calc\n")
    if git:
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-q", "-m", "start"], cwd=root, check=True)
    return root


def make_agent_app(root: Path, base_url: str = "http://127.0.0.1:9/v1", agent: dict | None = None,
                   policy: dict | None = None, dispatcher=None, timeout_s: float = 30.0) -> App:
    """An App on ``root`` with user settings routing ``agent`` to the "server" provider at ``base_url``."""
    table = {"ai": {"providers": {"server": {"base_url": base_url, "model": "fake", "timeout_s": timeout_s}},
                    "routing": {"agent": ["server"]}},
             "agent": {"commands": {"timeout_s": 60.0}, **(agent or {})}}
    home = root.parent / f"{root.name}-settings"
    home.mkdir(parents=True, exist_ok=True)
    user = home / "user.toml"
    user.write_text(tomli_w.dumps(table), encoding="utf-8")
    policy_file = None
    if policy is not None:
        policy_file = home / "policy.toml"
        policy_file.write_text(tomli_w.dumps(policy), encoding="utf-8")
    settings = Settings(user_file=user, project_file=None, policy_file=policy_file)
    assert not settings.errors, settings.errors
    return App(root, dispatcher, settings=settings)


