"""``marie search PATH PATTERN``: project search (ripgrep) with the index's ignore rules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "search the project's files (ripgrep), grouped by file"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("search", help=SUMMARY)
    parser.add_argument("path", type=Path, help="the workspace folder")
    parser.add_argument("pattern", help="text (or a regular expression with --regex)")
    parser.add_argument("-e", "--regex", action="store_true", help="PATTERN is a regular expression")
    parser.add_argument("-s", "--case-sensitive", action="store_true", help="match case")
    parser.add_argument("-w", "--word", action="store_true", help="whole words only")
    parser.add_argument("-g", "--include", action="append", default=[], help="only files matching this glob")
    parser.add_argument("-x", "--exclude", action="append", default=[], help="skip files matching this glob")
    parser.add_argument("--max", type=int, default=None, help="stop after this many matches")
    parser.add_argument("--json", action="store_true",
                        help='one JSON object per file: {"path", "matches": [{"line", "column", "text"}]}')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.cli.common import fail, make_app
    from marie.index.search import SearchError, SearchOptions
    from marie.index.snapshot import display_path

    if not args.path.is_dir():
        return fail(f"{args.path} is not a folder")
    options = SearchOptions(regex=args.regex, case_sensitive=args.case_sensitive, whole_word=args.word,
                            include=tuple(args.include), exclude=tuple(args.exclude), max_results=args.max)
    app, _dispatcher = make_app(args.path)

    last = [None]

    def show_json(found) -> None:
        print(json.dumps({"path": found.path, "matches": [{"line": m.line, "column": m.column, "text": m.text}
                                                          for m in found.matches]}))
        sys.stdout.flush()

    def show(found) -> None:
        if found.path != last[0]:       # a file's lines may come in two parts: one heading
            print(display_path(found.path))
            last[0] = found.path
        for m in found.matches:
            print(f"  {m.line}:{m.column}: {m.text.strip()}")
        sys.stdout.flush()

    try:
        summary = app.index.search(args.pattern, options, show_json if args.json else show)
    except SearchError as exc:
        return fail(str(exc), 2)
    finally:
        app.close()
    more = " (stopped at the limit)" if summary.truncated else ""
    matches = f"{summary.matches} match" + ("" if summary.matches == 1 else "es")
    files = f"{summary.files} file" + ("" if summary.files == 1 else "s")
    print(f"{matches} in {files}{more}", file=sys.stderr)
    return 0 if summary.matches else 1
