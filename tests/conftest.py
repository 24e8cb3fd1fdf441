"""Shared fixtures. Every test run gets its own MARIE_HOME so no real user settings or data are used."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="marie-test-home-"))
os.environ["MARIE_HOME"] = str(_HOME)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["MARIE_POLICY"] = str(_HOME / "policy.toml")
# Keep git from reading the developer's own config in tests that shell out to git.
os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
os.environ.setdefault("GIT_AUTHOR_NAME", "Marie Test")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "marie@example.invalid")
os.environ.setdefault("GIT_COMMITTER_NAME", "Marie Test")
os.environ.setdefault("GIT_COMMITTER_EMAIL", "marie@example.invalid")

VENV_BIN = str(Path(sys.executable).parent)
if VENV_BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = VENV_BIN + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture
def marie_home() -> Path:
    return _HOME


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def app(workspace: Path):
    """An App on ``workspace`` with the inline dispatcher (callbacks run where they are posted)."""
    from marie.app import App

    instance = App(workspace)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    """The default local model (Gemma 3 270M Q4_K_M), assembled once from its PyPI package."""
    from marie.ai.models import default_model_path

    return default_model_path(ensure=True)


def run_python(code: str, *args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter of this venv (for import-isolation and crash tests)."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def pytest_sessionfinish(session, exitstatus):
    """Remove this run's MARIE_HOME (it holds a ~250 MB copy of the default model)."""
    import shutil

    shutil.rmtree(_HOME, ignore_errors=True)
