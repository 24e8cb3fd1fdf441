"""Shared fixtures. Every test run gets its own MARIE_HOME so no real user settings or data are used."""

from __future__ import annotations

import ipaddress
import os
import socket
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


# -- no data leaves the machine in tests -----------------------------------------------------------
# Every connect outside 127.0.0.0/8 and ::1 (and every connect by hostname other than "localhost")
# is refused and recorded; a test that tried one fails at teardown even if the code under test
# swallowed the error. This proves the governance claim "nothing leaves except through app.ai":
# the whole suite runs with it. Subprocesses are outside this guard (they are our own servers).
_BLOCKED: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback(sock: socket.socket, address: object) -> bool:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False   # a hostname: resolving it would already be a lookup off the machine
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _loopback(self, address):
        _BLOCKED.append(repr(address))
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r} (tests/conftest.py)")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _loopback(self, address):
        _BLOCKED.append(repr(address))
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r} (tests/conftest.py)")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only_session():
    """Installed for the whole run: non-loopback connects raise and are recorded."""
    socket.socket.connect = _guarded_connect          # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex    # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect             # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex       # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_connection_left_the_machine(_loopback_only_session):
    """Fails the test that tried to connect outside loopback (even when the error was handled)."""
    start = len(_BLOCKED)
    yield
    tried = _BLOCKED[start:]
    if tried:
        pytest.fail(f"the test tried to connect off the machine: {', '.join(tried)}", pytrace=False)


@pytest.fixture
def network_attempts() -> list[str]:
    """The blocked connection attempts so far (a test can assert none happened)."""
    return _BLOCKED


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
