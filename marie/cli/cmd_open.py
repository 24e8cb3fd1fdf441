"""``marie open [PATH]`` (and plain ``marie``): open the window on a folder or file."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NO_DISPLAY = ("marie: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open. "
              "Run it under a virtual display with `xvfb-run marie`, or use the command line: `marie --help`.")


def has_display() -> bool:
    """True when Qt can create a window here (or was told to render offscreen)."""
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return True
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("open", help="open the MarieIDE window (the default command)")
    parser.add_argument("path", nargs="?", type=Path, default=None, help="folder or file to open (default: the current folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    target = (args.path or Path.cwd()).resolve()
    if not target.exists():
        print(f"marie: {target} does not exist", file=sys.stderr)
        return 2
    from marie.ui.launch import launch  # Qt is imported only here

    return launch(target)
