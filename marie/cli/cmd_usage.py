"""``marie usage``: tokens, latency and cost of AI requests; ``marie usage report --format csv|html``."""

from __future__ import annotations

import argparse
import json
import time


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "report AI usage (tokens, latency, cost)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("usage", help=SUMMARY)
    parser.add_argument("--days", type=float, default=0, help="only the last N days (default: all)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    report = sub.add_parser("report", help="per day, provider, model and task, as CSV or HTML with charts")
    report.add_argument("--format", choices=("csv", "html"), default="csv")
    report.add_argument("--days", type=float, default=0, help="only the last N days (default: all)")
    report.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    parser.set_defaults(func=run, action=None)


def _store():
    from marie.ai.usage import UsageStore
    from marie.core import paths
    from marie.core.settings import Settings
    from marie.governance import crypto

    settings = Settings(user_file=paths.user_settings_file(), policy_file=paths.policy_file())
    return UsageStore(cipher=lambda: crypto.cipher_for(settings)), settings


def run(args: argparse.Namespace) -> int:
    from marie.ai.usage import format_report

    store, settings = _store()
    since = time.time() - args.days * 86400 if args.days else 0.0
    if args.action != "report":
        rows = store.summary(since)
        print(json.dumps(rows, indent=2) if args.json else format_report(rows))
        return 0
    from marie.governance import usage_report

    rows = store.rows(since)
    text = usage_report.to_csv(rows) if args.format == "csv" else usage_report.to_html(rows, _budgets(store, settings))
    from marie.cli.common import write_output

    write_output(text, args.output)
    return 0


def _budgets(store, settings) -> list[tuple[str, float, float]]:
    from marie.governance import policy as policy_mod
    from marie.governance.service import budget_state

    return budget_state(policy_mod.load(settings), store)
