"""Usage accounting: one row per request in SQLite (``paths.data_dir()/usage.sqlite``).

Prices come from the ``ai.prices`` settings table: ``"model" = {prompt = USD per million tokens,
completion = ..., cached = ...}``. Any thread (each call opens its own connection).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from marie.ai.types import Usage
from marie.core import paths

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    ts REAL NOT NULL, task TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL, ttft_s REAL, cost_usd REAL NOT NULL, ok INTEGER NOT NULL, error TEXT
)
"""


def cost_of(usage: Usage, model: str, prices: dict) -> float:
    price = prices.get(model) or prices.get(model.split("/")[-1]) or {}
    if not isinstance(price, dict):
        return 0.0
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    fresh = usage.prompt_tokens - cached
    per_cached = float(price.get("cached", price.get("prompt", 0.0)))
    return (fresh * float(price.get("prompt", 0.0)) + cached * per_cached
            + usage.completion_tokens * float(price.get("completion", 0.0))) / 1_000_000


class UsageStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.data_dir() / "usage.sqlite"
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            conn.execute(_SCHEMA)
            self._ready = True
        return conn

    def record(self, task: str, provider: str, model: str, usage: Usage, ttft_s: float | None = None,
               ok: bool = True, error: str = "") -> None:
        with self._lock, self._connect() as conn:
            conn.execute("INSERT INTO requests VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         (time.time(), task, provider, model, usage.prompt_tokens, usage.completion_tokens,
                          usage.cached_tokens, usage.latency_s, ttft_s, usage.cost_usd, int(ok), error[:300]))

    def summary(self, since: float = 0.0) -> list[dict]:
        """Totals per provider and model since ``since`` (a Unix time)."""
        with self._lock, self._connect() as conn:
            rows = conn.execute(
                "SELECT provider, model, COUNT(*), SUM(ok), SUM(prompt_tokens), SUM(completion_tokens), "
                "SUM(cached_tokens), AVG(latency_s), AVG(ttft_s), SUM(cost_usd) FROM requests WHERE ts >= ? "
                "GROUP BY provider, model ORDER BY provider, model", (since,)).fetchall()
        keys = ("provider", "model", "requests", "ok", "prompt_tokens", "completion_tokens", "cached_tokens",
                "avg_latency_s", "avg_ttft_s", "cost_usd")
        return [dict(zip(keys, row)) for row in rows]

    def recent(self, limit: int = 20) -> list[dict]:
        with self._lock, self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM requests ORDER BY ts DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]


def format_report(rows: list[dict]) -> str:
    if not rows:
        return "No AI requests recorded yet."
    header = f"{'provider':<12} {'model':<28} {'reqs':>5} {'failed':>6} {'prompt':>9} {'cached':>8} {'output':>8} {'avg s':>6} {'cost $':>9}"
    lines = [header, "-" * len(header)]
    total = 0.0
    for r in rows:
        total += r["cost_usd"] or 0.0
        lines.append(f"{r['provider']:<12} {r['model'][:28]:<28} {r['requests']:>5} {r['requests'] - (r['ok'] or 0):>6} "
                     f"{r['prompt_tokens'] or 0:>9} {r['cached_tokens'] or 0:>8} {r['completion_tokens'] or 0:>8} "
                     f"{(r['avg_latency_s'] or 0):>6.2f} {(r['cost_usd'] or 0):>9.4f}")
    lines.append(f"total cost: ${total:.4f}")
    return "\n".join(lines)
