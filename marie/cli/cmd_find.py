"""``marie find PATH QUERY``: quick-open ranking from the command line (``name:line`` allowed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "fuzzy-find files by name, ranked like quick open (Ctrl+P)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("find", help=SUMMARY)
    parser.add_argument("path", type=Path, help="the workspace folder")
    parser.add_argument("query", help="what to look for, e.g. 'srvmain' or 'main.py:12'")
    parser.add_argument("-n", "--limit", type=int, default=20, help="how many results (default 20)")
    parser.add_argument("--json", action="store_true", help='a JSON list of {"path", "line", "column"}')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.cli.common import fail, make_app
    from marie.index.snapshot import display_path

    if not args.path.is_dir():
        return fail(f"{args.path} is not a folder")
    app, _dispatcher = make_app(args.path)
    try:
        app.index.scan_paths()  # the rg listing: no stat of every file for a one-shot query
        results = app.index.find(args.query, limit=max(1, args.limit))
        if args.json:
            print(json.dumps([{"path": m.path, "line": m.line or None, "column": m.column or None} for m in results]))
            return 0 if results else 1
        for match in results:
            where = f":{match.line}" if match.line else ""
            where += f":{match.column}" if match.line and match.column else ""
            print(display_path(match.path) + where)
        if not results:
            print(f"marie: no file matches {args.query!r}", file=sys.stderr)
            return 1
        return 0
    finally:
        app.close()
