"""``marie usage``: tokens, latency and cost of AI requests, per provider and model."""

from __future__ import annotations

import argparse
import json
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("usage", help="report AI usage (tokens, latency, cost)")
    parser.add_argument("--days", type=float, default=0, help="only the last N days (default: all)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.ai.usage import UsageStore, format_report

    since = time.time() - args.days * 86400 if args.days else 0.0
    rows = UsageStore().summary(since)
    print(json.dumps(rows, indent=2) if args.json else format_report(rows))
    return 0
