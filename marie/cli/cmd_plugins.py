"""``marie plugins list [--json]``: every plugin found, its state (active, failed, slow, disabled,
blocked, incompatible), where it came from and what it contributes. Exit code 0, or 3 with
``--check`` when any plugin failed to load (for CI)."""

from __future__ import annotations

import argparse
import json
import sys

from marie.cli.common import add_root_argument, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "list plugins and what they contribute"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help=SUMMARY)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="every plugin found and its state")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--check", action="store_true", help="exit 3 if a plugin failed, was slow or incompatible")
    add_root_argument(parser, actions=actions)
    parser.set_defaults(func=run, action="list", json=False, check=False)


def run(args: argparse.Namespace) -> int:
    app, dispatcher = make_app(args.root)
    try:
        rows = [record.summary() for record in app.plugins.records()]
        dispatcher.drain()
    finally:
        app.close()
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no plugins found (see plugins/README.md for where MarieIDE looks)")
    for row in rows if not args.json else ():
        gives = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in row["contributes"].items())
        line = f"{row['name']:<16} {row['version'] or '-':<8} {row['state']:<12} {gives or row['error']}"
        print(line.rstrip())
        if row["state"] == "active" and row["error"]:
            print(f"  note: {row['error']}")
    bad = [r for r in rows if r["state"] in ("failed", "slow", "incompatible")]
    if bad and not args.json:
        for row in bad:
            print(f"marie: plugin {row['name']} ({row['origin']}): {row['error']}", file=sys.stderr)
    return 3 if (args.check and bad) else 0
