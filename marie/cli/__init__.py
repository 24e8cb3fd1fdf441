"""The ``marie`` command line: the same core services as the window, without Qt.

Subcommands live in ``marie/cli/cmd_*.py``; each module defines ``register(subparsers)`` and sets
``func`` (``func(args) -> int``) on its parsers. ``marie`` with no subcommand (or ``marie PATH``)
opens the window. No module here imports Qt at import time.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from pathlib import Path

from marie import __version__


def _command_modules() -> list[str]:
    package = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(package)]) if m.name.startswith("cmd_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marie", description="MarieIDE: open a project, or work with it from the terminal.")
    parser.add_argument("--version", action="version", version=f"MarieIDE {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules():
        module = importlib.import_module(f"marie.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()  # type: ignore[union-attr]
    # `marie` and `marie PATH` open the window, like `code .`.
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None and not any(a in ("-h", "--help", "--version") for a in argv):
        argv = ["open", *argv]
    elif first is not None and first not in commands:
        argv = ["open", *argv]
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
