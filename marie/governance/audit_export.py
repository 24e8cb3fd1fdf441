"""Audit log reports for compliance reviews: CSV, JSON or a self-contained HTML page. Any thread."""

from __future__ import annotations

import csv
import html
import io
import json
import time
from typing import Any

COLUMNS = ("seq", "time", "kind", "summary", "hash")


def _summary(record: dict) -> str:
    data = record.get("data") or {}
    kind = record.get("kind", "")
    if kind == "ai.request":
        files = ", ".join(f"{f['path']} ({f['bytes']} B)" for f in data.get("files", [])) or "no files"
        red = len(data.get("redactions", []))
        return (f"{data.get('task')} -> {data.get('provider')}:{data.get('model')} {data.get('endpoint', '')}; "
                f"{data.get('bytes', 0)} bytes; {files}; {red} redaction(s)")
    if kind == "ai.result":
        return (f"{data.get('provider')}:{data.get('model')} {data.get('prompt_tokens', 0)}+"
                f"{data.get('completion_tokens', 0)} tokens, ${data.get('cost_usd', 0):.4f}")
    if kind in ("files.write", "checkpoint.restore"):
        return (f"{data.get('label')}: wrote {len(data.get('written', []))}, deleted {len(data.get('deleted', []))}; "
                f"checkpoint {data.get('checkpoint')}")
    return json.dumps(data, ensure_ascii=False, sort_keys=True)[:300]


def rows(log: Any) -> list[dict]:
    out = []
    for record in log.entries():
        out.append({"seq": record["seq"], "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record["ts"])),
                    "kind": record.get("kind", ""), "summary": _summary(record), "hash": record["hash"],
                    "data": record.get("data", {})})
    return out


def export(log: Any, fmt: str) -> str:
    records = rows(log)
    verdict = log.verify()
    if fmt == "json":
        return json.dumps({"head": verdict.head, "intact": verdict.ok, "problems": verdict.problems,
                           "records": records}, indent=1, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        for r in records:
            writer.writerow([r[c] for c in COLUMNS])
        return buf.getvalue()
    if fmt == "html":
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in COLUMNS) + "</tr>\n"
                       for r in records)
        status = "intact" if verdict.ok else "NOT intact: " + "; ".join(verdict.problems)
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>MarieIDE audit log</title>"
                f"<style>body{{font:13px sans-serif}}td,th{{border:1px solid #ccc;padding:2px 6px}}"
                f"table{{border-collapse:collapse}}</style></head><body><h1>MarieIDE audit log</h1>"
                f"<p>{len(records)} records; chain {html.escape(status)}; head <code>{html.escape(verdict.head)}</code></p>"
                f"<table><tr>{''.join(f'<th>{c}</th>' for c in COLUMNS)}</tr>\n{body}</table></body></html>\n")
    raise ValueError(f"unknown format {fmt!r} (csv, json or html)")
