"""``marie complete FILE:LINE:COL``: print the inline suggestion the editor would show there.

LINE and COL are 1-based; COL counts characters. ``--model provider[:model]`` overrides the
``completion`` route for this run. The suggestion goes to stdout as is (nothing when there is none,
with the reason on stderr and exit code 3), so scripts and editor integrations can use it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from marie.cli.common import add_root_argument, fail, make_app

_WHERE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)$")


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "print the inline completion for FILE:LINE:COL"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("complete", help=SUMMARY)
    parser.add_argument("where", help="FILE:LINE:COL (1-based line and column)")
    parser.add_argument("--model", default=None, help="provider or provider:model (default: ai.routing.completion)")
    parser.add_argument("--stats", action="store_true", help="print provider, tokens and latency to stderr")
    add_root_argument(parser)
    parser.set_defaults(func=run)


def caret_offset(text: str, line: int, column: int) -> int:
    """The character offset of 1-based (line, column); a column past the line's end is its end."""
    lines = text.split("\n")
    if line < 1 or line > len(lines):
        raise ValueError(f"line {line} is outside the file (it has {len(lines)} lines)")
    offset = sum(len(l) + 1 for l in lines[: line - 1])
    return offset + min(max(column, 1) - 1, len(lines[line - 1]))


def run(args: argparse.Namespace) -> int:
    from marie.ai import errors
    from marie.completion.service import Skipped, service_for
    from marie.core.tasks import Cancelled
    from marie.text.document import TextFile
    from marie.text.languages import language_for

    m = _WHERE.match(args.where)
    if m is None:
        return fail(f"expected FILE:LINE:COL, got {args.where!r}")
    path = Path(m["file"])
    try:
        text = TextFile.load(path).text.replace("\r\n", "\n")
        caret = caret_offset(text, int(m["line"]), int(m["col"]))
    except (OSError, ValueError) as exc:
        return fail(f"cannot complete in {path}: {exc}")
    app, dispatcher = make_app(args.root)
    try:
        service = service_for(app)
        if args.model:
            provider, _, model = args.model.partition(":")
            service.route_override = [(provider.strip(), model.strip())]   # this run only
        language = language_for(path, text[:200].split("\n", 1)[0])
        on, reason = service.enabled_for(language, path.resolve())
        if not on:
            print(f"marie: {reason}", file=sys.stderr)
            return 3
        rel = service.relative(path.resolve()) or str(path)
        try:
            ctx = service.context_at(text, caret, rel, language)
            suggestion = service.complete_at(ctx, use_cache=False)
        except Skipped as exc:
            print(f"marie: no suggestion: {exc.reason}", file=sys.stderr)
            return 3
        except Cancelled:
            return 130
        except errors.AIError as exc:
            return fail(str(exc))
        sys.stdout.write(suggestion.text + ("\n" if not suggestion.text.endswith("\n") else ""))
        if args.stats:
            print(f"marie: {suggestion.provider}:{suggestion.model} prompt={suggestion.prompt_tokens} "
                  f"cached={suggestion.cached_tokens} {suggestion.latency_s:.2f}s", file=sys.stderr)
        return 0
    finally:
        dispatcher.drain()
        app.close()
