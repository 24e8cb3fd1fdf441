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


def test_usage_file_from_before_cache_writes_gets_the_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # the schema the first release wrote
        conn.execute("CREATE TABLE requests (ts REAL NOT NULL, task TEXT NOT NULL, provider TEXT NOT NULL, "
                     "model TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, "
                     "cached_tokens INTEGER NOT NULL, latency_s REAL NOT NULL, ttft_s REAL, cost_usd REAL NOT NULL, "
                     "ok INTEGER NOT NULL, error TEXT)")
        conn.execute("INSERT INTO requests VALUES (1, 'chat', 'local', 'm', 10, 2, 0, 0.1, NULL, 0, 1, '')")
    store = UsageStore(path)
    store.record("chat", "anthropic", "claude-x", Usage(prompt_tokens=300, cached_tokens=100, cache_write_tokens=150))
    rows = {r["provider"]: r for r in store.summary()}
    assert rows["local"]["cache_write_tokens"] == 0 and rows["local"]["prompt_tokens"] == 10
    assert rows["anthropic"]["cache_write_tokens"] == 150 and rows["anthropic"]["cached_tokens"] == 100


def test_cache_prices_default_to_shares_of_the_prompt_price():
    usage = Usage(prompt_tokens=1_000_000, cached_tokens=600_000, cache_write_tokens=300_000)
    # Claude: reads 0.1x, writes 1.25x; others: reads 0.5x (writes only happen on Anthropic).
    assert abs(cost_of(usage, "claude-x", {"claude-x": {"prompt": 1.0}}) - (0.1 + 0.06 + 0.375)) < 1e-9
    assert abs(cost_of(usage, "gpt-x", {"gpt-x": {"prompt": 1.0}}) - (0.1 + 0.3 + 0.375)) < 1e-9
    explicit = {"gpt-x": {"prompt": 1.0, "cache_read": 0.2, "cache_write": 2.0}}
    assert abs(cost_of(usage, "gpt-x", explicit) - (0.1 + 0.12 + 0.6)) < 1e-9
