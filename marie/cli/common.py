"""Helpers shared by the CLI subcommands: building the app on a folder and printing errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `marie --help` imports every subcommand module: none may pay for the App here
    from marie.app import App
    from marie.core.dispatch import QueueDispatcher


def add_root_argument(parser: argparse.ArgumentParser, *, actions: argparse._SubParsersAction | None = None) -> None:
    """``--root DIR`` on a command and, with ``actions``, on each of its actions too, so both
    ``marie git --root X status`` and ``marie git status --root X`` work."""
    parser.add_argument("--root", type=Path, default=None, help="the workspace folder (default: the current folder)")
    for action in (actions.choices.values() if actions else ()):
        # SUPPRESS: an action that was not given --root must not reset the command's value to None.
        action.add_argument("--root", type=Path, default=argparse.SUPPRESS, help="the workspace folder")


def make_app(root: Path | None = None) -> tuple["App", "QueueDispatcher"]:
    """An app on ``root`` (default: the current folder) whose callbacks the CLI pumps itself."""
    from marie.app import App
    from marie.core.dispatch import QueueDispatcher

    dispatcher = QueueDispatcher()
    app = App(root or Path.cwd(), dispatcher)
    for error in app.settings.errors:
        print(f"marie: settings: {error}", file=sys.stderr)
    return app, dispatcher


def fail(message: str, code: int = 1) -> int:
    print(f"marie: {message}", file=sys.stderr)
    return code


def write_output(text: str, output: str) -> None:
    """``text`` to stdout (``output`` "-") or atomically to the file ``output`` (reports, exports)."""
    if output == "-":
        sys.stdout.write(text)
        return
    from marie.core import atomic

    atomic.write_bytes(output, text.encode("utf-8"))
    print(f"wrote {output}", file=sys.stderr)
