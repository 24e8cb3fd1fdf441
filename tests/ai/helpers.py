"""Shared helpers for the AI tests: an App with a small context, so memory and time stay low."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import tomli_w

from marie.app import App
from marie.core.settings import Settings


def make_ai_app(folder: Path, ai: dict | None = None, dispatcher=None) -> App:
    """An App on ``folder`` whose user settings are ``{"ai": ai}`` plus a 1024-token local context."""
    folder.mkdir(parents=True, exist_ok=True)
    table = {"ai": {"local": {"n_ctx": 1024, "threads": 1}}}
    for key, value in (ai or {}).items():
        if isinstance(value, dict) and isinstance(table["ai"].get(key), dict):
            table["ai"][key].update(value)
        else:
            table["ai"][key] = value
    user = folder / "user-settings.toml"
    user.write_text(tomli_w.dumps(table), encoding="utf-8")
    settings = Settings(user_file=user, project_file=None, policy_file=None)
    assert not settings.errors, settings.errors
    return App(folder, dispatcher, settings=settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def llama_server(model: Path, log_path: Path, chat_format: str, n_ctx: int = 4096):
    """A real ``llama_cpp.server`` on 127.0.0.1 serving ``model``; yields its /v1 base URL.
    Shared by the AI, contract and agent tests."""
    import httpx

    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                                 "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", "1", "--model_alias",
                                 "gemma", "--chat_format", chat_format], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, f"llama_cpp.server exited at start (see {log_path})"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "llama_cpp.server did not start in 90 s"
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
