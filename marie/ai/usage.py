"""Usage accounting: one row per request in SQLite (``paths.data_dir()/usage.sqlite``).

With encryption at rest on (``governance.encryption``), rows go sealed into the ``sealed`` table
(time in clear for range queries, the rest AES-GCM with the time as associated data) and every
report reads them back through the same ``rows`` call; without the key, nothing is written.

Prices come from the ``ai.prices`` settings table: ``"model" = {prompt = USD per million tokens,
completion = ..., cache_read = ..., cache_write = ...}`` (``cached`` is the older name of
``cache_read``). Any thread (each call opens its own connection).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from marie.ai.types import Usage
from marie.core import paths

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    ts REAL NOT NULL, task TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL, ttft_s REAL, cost_usd REAL NOT NULL, ok INTEGER NOT NULL, error TEXT,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0
)
"""
_SEALED = "CREATE TABLE IF NOT EXISTS sealed (ts REAL NOT NULL, blob BLOB NOT NULL)"
_COLUMNS = ("ts", "task", "provider", "model", "prompt_tokens", "completion_tokens", "cached_tokens", "latency_s",
            "ttft_s", "cost_usd", "ok", "error", "cache_write_tokens")

# Default prices of cached input as a share of the prompt price, when the price table gives none:
# Anthropic bills cache reads at 0.1x and 5-minute cache writes at 1.25x; OpenAI-style providers
# discount reads by 50-90% depending on the model (0.5x: the smallest discount, so never under-counted).
READ_FACTOR_CLAUDE = 0.1
READ_FACTOR_OTHER = 0.5
WRITE_FACTOR = 1.25


def prices_for(model: str, prices: dict) -> dict | None:
    """{prompt, completion, cache_read, cache_write} in USD per million tokens, or None without a price."""
    price = prices.get(model) or prices.get(model.split("/")[-1])
    if not isinstance(price, dict):
        return None
    prompt = float(price.get("prompt", 0.0))
    read_factor = READ_FACTOR_CLAUDE if "claude" in model.lower() else READ_FACTOR_OTHER
    read = price.get("cache_read", price.get("cached"))
    write = price.get("cache_write")
    return {"prompt": prompt, "completion": float(price.get("completion", 0.0)),
            "cache_read": float(read) if read is not None else prompt * read_factor,
            "cache_write": float(write) if write is not None else prompt * WRITE_FACTOR}


def cost_of(usage: Usage, model: str, prices: dict) -> float:
    """USD for ``usage`` on ``model`` from the ``ai.prices`` table (0 without a price for it)."""
    price = prices_for(model, prices)
    if price is None:
        return 0.0
    read = min(usage.cached_tokens, usage.prompt_tokens)
    write = min(usage.cache_write_tokens, usage.prompt_tokens - read)
    fresh = usage.prompt_tokens - read - write
    return (fresh * price["prompt"] + read * price["cache_read"] + write * price["cache_write"]
            + usage.completion_tokens * price["completion"]) / 1_000_000


class UsageStore:
    """``cipher``: a ``marie.governance.crypto.Cipher``, a callable returning one (or None), or None."""

    def __init__(self, path: Path | None = None, cipher: Any = None) -> None:
        self.path = path or paths.data_dir() / "usage.sqlite"
        self._lock = threading.Lock()
        self._ready = False
        self._cipher = cipher

    def cipher(self) -> Any:
        return self._cipher() if callable(self._cipher) else self._cipher

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            conn.execute(_SCHEMA)
            conn.execute(_SEALED)
            have = {row[1] for row in conn.execute("PRAGMA table_info(requests)")}
            if "cache_write_tokens" not in have:  # a usage file from before cache writes were counted
                conn.execute("ALTER TABLE requests ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0")
            conn.commit()
            self._ready = True
        return conn

    def record(self, task: str, provider: str, model: str, usage: Usage, ttft_s: float | None = None,
               ok: bool = True, error: str = "") -> None:
        values = (time.time(), task, provider, model, usage.prompt_tokens, usage.completion_tokens,
                  usage.cached_tokens, usage.latency_s, ttft_s, usage.cost_usd, int(ok), error[:300],
                  usage.cache_write_tokens)
        cipher = self.cipher()   # raises KeyUnavailable when encryption is on without a key
        with self._lock, self._connect() as conn:
            if cipher is None:
                conn.execute(f"INSERT INTO requests ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                             values)
            else:
                blob = cipher.seal(json.dumps(dict(zip(_COLUMNS, values))).encode(), repr(values[0]).encode())
                conn.execute("INSERT INTO sealed (ts, blob) VALUES (?, ?)", (values[0], blob))

    def rows(self, since: float = 0.0, until: float = float("inf")) -> list[dict]:
        """Every request row in [since, until), oldest first (sealed rows opened). Any thread."""
        with self._lock, self._connect() as conn:
            conn.row_factory = sqlite3.Row
            plain = [dict(r) for r in conn.execute("SELECT * FROM requests WHERE ts >= ? AND ts < ? ORDER BY ts",
                                                   (since, until))]
            sealed = conn.execute("SELECT ts, blob FROM sealed WHERE ts >= ? AND ts < ? ORDER BY ts",
                                  (since, until)).fetchall()
        if sealed:
            cipher = self.cipher()
            if cipher is None:
                raise RuntimeError("the usage file holds encrypted rows but encryption is off: turn it on to read them")
            for row in sealed:
                plain.append(json.loads(cipher.open(bytes(row["blob"]), repr(row["ts"]).encode(), what="a usage row")))
            plain.sort(key=lambda r: r["ts"])
        return plain

    def spent(self, since: float) -> float:
        """USD spent since ``since`` (budgets)."""
        return sum(r["cost_usd"] or 0.0 for r in self.rows(since))

    def summary(self, since: float = 0.0) -> list[dict]:
        """Totals per provider and model since ``since`` (a Unix time)."""
        groups: dict[tuple, list[dict]] = {}
        for row in self.rows(since):
            groups.setdefault((row["provider"], row["model"]), []).append(row)
        out = []
        for (provider, model), rows in sorted(groups.items()):
            ttfts = [r["ttft_s"] for r in rows if r["ttft_s"] is not None]
            out.append({"provider": provider, "model": model, "requests": len(rows), "ok": sum(r["ok"] for r in rows),
                        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
                        "completion_tokens": sum(r["completion_tokens"] for r in rows),
                        "cached_tokens": sum(r["cached_tokens"] for r in rows),
                        "avg_latency_s": sum(r["latency_s"] for r in rows) / len(rows),
                        "avg_ttft_s": sum(ttfts) / len(ttfts) if ttfts else None,
                        "cost_usd": sum(r["cost_usd"] for r in rows),
                        "cache_write_tokens": sum(r.get("cache_write_tokens") or 0 for r in rows)})
        return out

    def recent(self, limit: int = 20) -> list[dict]:
        return list(reversed(self.rows()))[:limit]


def format_report(rows: list[dict]) -> str:
    if not rows:
        return "No AI requests recorded yet."
    header = (f"{'provider':<12} {'model':<28} {'reqs':>5} {'failed':>6} {'prompt':>9} {'cached':>8} {'cache w':>8} "
              f"{'output':>8} {'avg s':>6} {'cost $':>9}")
    lines = [header, "-" * len(header)]
    total = 0.0
    for r in rows:
        total += r["cost_usd"] or 0.0
        lines.append(f"{r['provider']:<12} {r['model'][:28]:<28} {r['requests']:>5} {r['requests'] - (r['ok'] or 0):>6} "
                     f"{r['prompt_tokens'] or 0:>9} {r['cached_tokens'] or 0:>8} {r.get('cache_write_tokens') or 0:>8} "
                     f"{r['completion_tokens'] or 0:>8} "
                     f"{(r['avg_latency_s'] or 0):>6.2f} {(r['cost_usd'] or 0):>9.4f}")
    lines.append(f"total cost: ${total:.4f}")
    return "\n".join(lines)
