"""``marie index stats PATH``: scan a folder with the project index and print what it holds."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "the project index (scan statistics)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help=SUMMARY)
    sub = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    stats = sub.add_parser("stats", help="scan PATH and print file, folder and symlink counts")
    stats.add_argument("path", nargs="?", type=Path, default=None, help="the workspace folder (default: here)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--symbols", action="store_true", help="also build the symbol index and count symbols")
    stats.set_defaults(func=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from marie.cli.common import fail, make_app

    root = (args.path or Path.cwd())
    if not root.is_dir():
        return fail(f"{root} is not a folder")
    app, _dispatcher = make_app(root)
    try:
        started = time.perf_counter()
        snapshot = app.index.scan()
        figures: dict = dict(snapshot.stats())
        figures["scan_seconds"] = round(time.perf_counter() - started, 3)
        if args.symbols:
            index = app.index.symbol_index
            app.tasks.run_sync(lambda ctx: index.start().result())
            figures["symbols"] = len(index.all())
        if args.json:
            print(json.dumps({**figures, "unreadable_folders": list(snapshot.unreadable)}, indent=2))
        else:
            print(f"{app.root}")
            print(f"  files     {figures['files']}")
            print(f"  folders   {figures['dirs']}")
            print(f"  symlinks  {figures['symlinks']}")
            print(f"  bytes     {figures['bytes']}")
            if "symbols" in figures:
                print(f"  symbols   {figures['symbols']}")
            print(f"  scanned in {figures['scan_seconds']} s")
            for problem in snapshot.unreadable:
                print(f"  not indexed: {problem}")
        return 0
    finally:
        app.close()
