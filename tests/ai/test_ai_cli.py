"""``marie ask``, ``marie models`` and ``marie usage`` end to end (real processes, real model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from marie.ai.types import Usage
from marie.ai.usage import UsageStore, cost_of, format_report


def marie(*args: str, cwd=None, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marie", *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin, timeout=120, env={**os.environ, **(env or {})})


def test_ask_streams_with_no_configuration(workspace, gemma_path):
    result = marie("ask", "Say hello.", "--max-tokens", "8", "--stats", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "local:gemma3-270m" in result.stderr and "output=" in result.stderr
    grammar = workspace.parent / "yn.gbnf"
    grammar.write_text('root ::= "yes" | "no"')
    result = marie("ask", "Is the sky blue?", "--grammar", str(grammar), cwd=workspace)
    assert result.returncode == 0 and result.stdout.strip() in ("yes", "no"), result.stderr
    report = marie("usage", "--json")
    rows = json.loads(report.stdout)
    assert any(r["provider"] == "local" and r["requests"] >= 2 for r in rows)
    assert "gemma3-270m" in marie("usage").stdout


def test_ask_reports_a_bad_model_clearly(workspace, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 3)
    settings = workspace / ".marie" / "settings.toml"
    settings.parent.mkdir()
    settings.write_text(f'[ai.local]\nmodel = "{bad}"\n')
    result = marie("ask", "hi", cwd=workspace)
    assert result.returncode == 1
    assert "truncated" in result.stderr and "Traceback" not in result.stderr


def test_models_commands(tmp_path, gemma_path):
    listed = marie("models", "list")
    assert listed.returncode == 0 and "gemma3-270m" in listed.stdout and "built in" in listed.stdout
    info = json.loads(marie("models", "info", "--json").stdout)
    assert info["quantization"] == "Q4_K_M" and info["context_length"] == 32768 and info["architecture"] == "gemma3"
    link = tmp_path / "extra.gguf"
    os.symlink(gemma_path, link)
    added = marie("models", "add", str(link), "--name", "extra")
    assert added.returncode == 0, added.stderr
    assert "extra" in marie("models", "list").stdout
    assert "Gemma 3 270m" in marie("models", "info", "extra").stdout
    assert marie("models", "remove", "extra").returncode == 0
    assert "extra" not in marie("models", "list").stdout
    missing = marie("models", "add", str(tmp_path / "nope.gguf"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    key = marie("models", "key", "openai", stdin="sk-x\n", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert key.returncode == 1 and "OPENAI_API_KEY" in key.stderr


def test_usage_costs_from_price_table(tmp_path):
    prices = {"big-model": {"prompt": 3.0, "completion": 15.0, "cached": 0.3}}
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=100_000, cached_tokens=500_000)
    assert abs(cost_of(usage, "big-model", prices) - (1.5 + 0.15 + 1.5)) < 1e-9
    assert cost_of(usage, "unknown", prices) == 0.0
    store = UsageStore(tmp_path / "u.sqlite")
    usage.cost_usd = 3.15
    store.record("chat", "anthropic", "big-model", usage, ttft_s=0.2)
    store.record("chat", "anthropic", "big-model", Usage(), ok=False, error="RateLimited")
    rows = store.summary()
    assert rows[0]["requests"] == 2 and rows[0]["ok"] == 1 and rows[0]["cost_usd"] == 3.15
    assert "total cost: $3.1500" in format_report(rows)
