"""The ``marie`` command line: the same core services as the window, without Qt.

Subcommands live in ``marie/cli/cmd_<name>.py``; module ``cmd_<name>`` defines
``register(subparsers)``, which adds the subcommand ``<name>`` and sets ``func`` (``func(args) -> int``)
on its parser. Only the module of the command being run is imported (all of them for ``--help``), so
``marie`` opens the window without paying for every subcommand's imports. ``marie`` with no
subcommand (or ``marie PATH``) opens the window. No module here imports Qt at import time.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from pathlib import Path

from marie import __version__


def command_names() -> list[str]:
    """Subcommand names, from the module names alone (nothing is imported)."""
    # A directory listing rather than pkgutil: the window starts through here, and pkgutil's imports
    # cost more than the listing.
    names = {entry.name.split(".", 1)[0] for entry in os.scandir(Path(__file__).parent)
             if entry.name.startswith("cmd_") and entry.name.endswith((".py", ".pyc"))}
    return sorted(name.removeprefix("cmd_") for name in names)


def command_summary(name: str) -> str | None:
    """The ``SUMMARY`` line of ``cmd_<name>.py``, read from its text without importing it; None when
    the source is not there (a frozen build) or the line is not a plain one-line string."""
    try:
        text = (Path(__file__).parent / f"cmd_{name}.py").read_text(encoding="utf-8")
    except OSError:
        return None
    match = _SUMMARY.search(text)
    return match.group(1) if match else None


# A plain double-quoted line only (no escapes), so the text read is the value Python would see.
_SUMMARY = re.compile(r'^SUMMARY = "([^"\\\n]*)"$', re.MULTILINE)


def build_parser(only: str | None = None, listing: bool = False) -> argparse.ArgumentParser:
    """The argument parser with every subcommand, or just ``only`` (faster). ``listing``: only what
    ``marie --help`` prints, each subcommand's one line read from its file, so that the top-level help
    imports and builds none of the eighteen subcommand parsers (half of its start-up time)."""
    parser = argparse.ArgumentParser(prog="marie", description="MarieIDE: open a project, or work with it from the terminal.")
    parser.add_argument("--version", action="version", version=f"MarieIDE {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    parser.add_argument("--self-test", action="store_true",
                        help="check this build works here (window, lexers, local model, rg, git) and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_names():
        if only is not None and name != only:
            continue
        summary = command_summary(name) if listing else None
        if summary is not None:
            subparsers.add_parser(name, help=summary, add_help=False)
        else:
            importlib.import_module(f"marie.cli.cmd_{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--self-test"]:
        # The build's own check (window, lexers, local model, ripgrep, libgit2): make package runs it.
        from marie.ui.self_test import run as self_test

        return self_test()
    commands = set(command_names())
    wants_help = any(a in ("-h", "--help", "--version") for a in argv)
    # `marie` and `marie PATH` open the window, like `code .`.
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None and not wants_help:
        argv, first = ["open", *argv], "open"
    elif first is not None and first not in commands:
        argv, first = ["open", *argv], "open"
    only = None if first is None else first
    parser = build_parser(only, listing=only is None)
    args = parser.parse_args(argv)
    import logging  # not before: `marie --help` never needs it (start-up time is measured, bench_cli)

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
