"""Usage reports: tokens and cost per day, provider, model and task; CSV and HTML with inline SVG
bar charts (no chart library: a few rectangles say it, and the page stays one self-contained file).
``totals`` is shared with the Usage panel. Pure functions; any thread.
"""

from __future__ import annotations

import csv
import html
import io
import time
from typing import Iterable

DIMENSIONS = ("day", "provider", "model", "task")
CSV_COLUMNS = ("day", "provider", "model", "task", "requests", "failed", "prompt_tokens", "completion_tokens",
               "cached_tokens", "cost_usd")


def day_of(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def totals(rows: Iterable[dict], by: str) -> list[tuple[str, dict]]:
    """[(key, {requests, failed, tokens, prompt_tokens, completion_tokens, cost_usd})] grouped by one
    dimension ("day" sorts by date, the others by cost, highest first)."""
    groups: dict[str, dict] = {}
    for r in rows:
        key = day_of(r["ts"]) if by == "day" else str(r[by] or "?")
        g = groups.setdefault(key, {"requests": 0, "failed": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                    "cost_usd": 0.0})
        g["requests"] += 1
        g["failed"] += 0 if r["ok"] else 1
        g["prompt_tokens"] += r["prompt_tokens"] or 0
        g["completion_tokens"] += r["completion_tokens"] or 0
        g["cost_usd"] += r["cost_usd"] or 0.0
    for g in groups.values():
        g["tokens"] = g["prompt_tokens"] + g["completion_tokens"]
    items = list(groups.items())
    items.sort(key=(lambda kv: kv[0]) if by == "day" else (lambda kv: (-kv[1]["cost_usd"], -kv[1]["tokens"], kv[0])))
    return items


def to_csv(rows: list[dict]) -> str:
    """One line per day, provider, model and task."""
    groups: dict[tuple, dict] = {}
    for r in rows:
        key = (day_of(r["ts"]), r["provider"], r["model"], r["task"])
        g = groups.setdefault(key, dict.fromkeys(CSV_COLUMNS[4:], 0))
        g["requests"] += 1
        g["failed"] += 0 if r["ok"] else 1
        for name in ("prompt_tokens", "completion_tokens", "cached_tokens"):
            g[name] += r[name] or 0
        g["cost_usd"] += r["cost_usd"] or 0.0
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for key in sorted(groups):
        g = groups[key]
        writer.writerow([*key, *(round(g[c], 6) if c == "cost_usd" else g[c] for c in CSV_COLUMNS[4:])])
    return buf.getvalue()


def svg_bars(items: list[tuple[str, float]], title: str, unit: str = "", width: int = 640) -> str:
    """A horizontal bar chart as inline SVG."""
    bar_h, label_w, top = 18, 180, 24
    height = top + bar_h * max(1, len(items)) + 8
    peak = max((v for _, v in items), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="0" y="16" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = top + i * bar_h
        w = max(1, int((width - label_w - 90) * value / peak)) if value else 0
        shown = f"{unit}{value:,.4f}" if unit == "$" else f"{value:,.0f}"
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{html.escape(label[:28])}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="{bar_h - 5}" fill="#4c78a8"/>'
                     f'<text x="{label_w + w + 4}" y="{y + 13}" font-size="12">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(rows: list[dict], budgets: list[tuple[str, float, float]] | None = None) -> str:
    """A self-contained page: totals and one chart per dimension (cost per day, tokens per the rest)."""
    total_cost = sum(r["cost_usd"] or 0 for r in rows)
    total_tokens = sum((r["prompt_tokens"] or 0) + (r["completion_tokens"] or 0) for r in rows)
    charts = [svg_bars([(k, g["cost_usd"]) for k, g in totals(rows, "day")], "Cost per day", "$"),
              svg_bars([(k, g["tokens"]) for k, g in totals(rows, "day")], "Tokens per day")]
    for by in ("provider", "model", "task"):
        charts.append(svg_bars([(k, g["tokens"]) for k, g in totals(rows, by)], f"Tokens per {by}"))
        charts.append(svg_bars([(k, g["cost_usd"]) for k, g in totals(rows, by)], f"Cost per {by}", "$"))
    budget_html = "".join(f"<li>{html.escape(p)}: ${s:.2f} of ${lim:.2f}{' (over)' if s >= lim else ''}</li>"
                          for p, s, lim in (budgets or []))
    table = to_csv(rows).strip().splitlines()
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in next(csv.reader([line]))) + "</tr>\n"
                    for line in table[1:])
    head = "".join(f"<th>{c}</th>" for c in CSV_COLUMNS)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>MarieIDE AI usage</title>"
            "<style>body{font:13px sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}"
            "table{border-collapse:collapse}svg{display:block;margin:12px 0}</style></head><body>"
            f"<h1>AI usage</h1><p>{len(rows)} requests, {total_tokens:,} tokens, ${total_cost:.4f}</p>"
            + (f"<ul>{budget_html}</ul>" if budget_html else "") + "".join(charts)
            + f"<table><tr>{head}</tr>\n{cells}</table></body></html>\n")
