"""``marie lsp check FILE`` (diagnostics) and ``marie lsp complete FILE:LINE:COL`` (1-based, one label
per line), over the same ``LspService`` the editor uses. No Qt.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from marie.cli.common import add_root_argument, fail, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "language-server features from the terminal"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lsp", help=SUMMARY)
    sub = parser.add_subparsers(dest="lsp_command", metavar="ACTION")
    check = sub.add_parser("check", help="print a file's diagnostics (exit 1 if any is an error)")
    check.add_argument("file", type=Path)
    check.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the server (default 20)")
    add_root_argument(check)
    check.set_defaults(func=run_check)
    complete = sub.add_parser("complete", help="print completions at FILE:LINE:COL (1-based), one per line")
    complete.add_argument("target", help="FILE:LINE:COL, 1-based as editors show them")
    complete.add_argument("--timeout", type=float, default=20.0)
    add_root_argument(complete)
    complete.set_defaults(func=run_complete)
    status = sub.add_parser("servers", help="show which server each language would use")
    add_root_argument(status)
    status.set_defaults(func=run_servers)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _root_for(args: argparse.Namespace, file: Path) -> Path:
    if args.root:
        return args.root
    # the nearest folder with a project marker, else the file's folder
    for folder in [file.parent, *file.parent.parents]:
        if any((folder / m).exists() for m in (".git", ".marie", "pyproject.toml", "setup.py")):
            return folder
    return file.parent


def _check_file(file: Path) -> str | None:
    if not file.exists():
        return f"{file}: no such file"
    if file.is_dir():
        return f"{file}: is a folder, not a file"
    return None


def run_check(args: argparse.Namespace) -> int:
    file = args.file.resolve()
    problem = _check_file(file)
    if problem:
        return fail(problem, 2)
    from marie.lsp.client import ServerError

    app, _ = make_app(_root_for(args, file))
    app.plugins.load()  # servers that plugins contribute (the window loads them on a worker)
    try:
        try:
            diagnostics = app.lsp.check(file, timeout=args.timeout)
        except ServerError as exc:
            return fail(str(exc))
        shown = _display(file, app.root)
        for d in diagnostics:
            print(f"{shown}:{d}")
        errors = sum(1 for d in diagnostics if d.severity == "error")
        print(f"{len(diagnostics)} problem(s), {errors} error(s)", file=sys.stderr)
        return 1 if errors else 0
    finally:
        app.close()


def run_complete(args: argparse.Namespace) -> int:
    match = re.fullmatch(r"(.+):(\d+):(\d+)", args.target)
    if not match:
        return fail(f"expected FILE:LINE:COL (1-based), got {args.target!r}", 2)
    file = Path(match.group(1)).resolve()
    line, column = int(match.group(2)), int(match.group(3))
    problem = _check_file(file)
    if problem:
        return fail(problem, 2)
    if line < 1 or column < 1:
        return fail("LINE and COL are 1-based (the first line is 1)", 2)
    from marie.lsp.client import ServerError
    from marie.text.positions import LineTable

    app, _ = make_app(_root_for(args, file))
    app.plugins.load()  # servers that plugins contribute (the window loads them on a worker)
    try:
        text = app.lsp.read_document(file)
        lines = LineTable.of(text)
        if line > lines.line_count:
            return fail(f"{file.name} has {lines.line_count} line(s); line {line} does not exist", 2)
        if column > len(lines.line(line - 1)) + 1:
            return fail(f"line {line} has {len(lines.line(line - 1))} character(s); column {column} is past its end", 2)
        try:
            items = app.lsp.complete(file, line, column, text=text, timeout=args.timeout)
        except ServerError as exc:
            return fail(str(exc))
        for item in items:
            print(item.label)
        return 0
    finally:
        app.close()


def run_servers(args: argparse.Namespace) -> int:
    from marie.lsp.servers import WELL_KNOWN

    app, _ = make_app(args.root)
    app.plugins.load()  # servers that plugins contribute (the window loads them on a worker)
    try:
        for language in ["python", *sorted(set(WELL_KNOWN))]:
            spec = app.lsp.spec(language)
            if spec is None:
                print(f"{language}: none (install {WELL_KNOWN[language][0]} or set lsp.servers.{language}.command)")
            else:
                state = "installed" if spec.available() else "NOT FOUND"
                print(f"{language}: {' '.join(spec.command)} ({state})")
        return 0
    finally:
        app.close()


def _display(file: Path, root: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return str(file)
