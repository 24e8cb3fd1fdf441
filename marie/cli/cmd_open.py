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


# Shared libraries Qt's X11 plugin loads at run time, with the Debian/Ubuntu package that has each.
_XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-shape.so.0": "libxcb-shape0", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0", "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxkbcommon.so.0": "libxkbcommon0", "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1", "libdbus-1.so.3": "libdbus-1-3",
}


def missing_x11_libraries() -> list[str]:
    """System libraries that Qt's xcb platform plugin needs and cannot find (Linux/X11 only).

    Qt aborts the process with a long message when they are missing; checking first with ``ldd`` lets
    us say in one line what to install. Returns [] when unsure (no ldd, no plugin, not X11)."""
    if not sys.platform.startswith("linux") or os.environ.get("WAYLAND_DISPLAY") or not os.environ.get("DISPLAY"):
        return []
    if os.environ.get("QT_QPA_PLATFORM", "xcb").split(":")[0] != "xcb":
        return []
    # Imported only past the checks above: offscreen and Wayland starts never pay for them.
    import importlib.util
    import shutil
    import subprocess

    spec = importlib.util.find_spec("PySide6")  # locates the package without importing Qt
    if not spec or not spec.submodule_search_locations:
        return []
    qt = Path(list(spec.submodule_search_locations)[0]) / "Qt"
    candidates = [qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"]
    # `ldd` is a subprocess (~10 ms on every start): once it found everything for this PySide6
    # install (paths and mtimes), that is remembered in the cache folder and not asked again.
    key = _install_key(candidates)
    marker = _ok_marker()
    try:
        if key and marker.read_text(encoding="utf-8") == key:
            return []
    except (OSError, UnicodeDecodeError):
        pass
    ldd = shutil.which("ldd")
    if not ldd:
        return []
    missing: list[str] = []
    for lib in candidates:
        if not lib.exists():
            continue
        try:
            out = subprocess.run([ldd, str(lib)], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        for line in out.splitlines():
            if "not found" in line:
                name = line.split("=>")[0].strip()
                if name not in missing:
                    missing.append(name)
    if not missing and key:
        try:
            from marie.core import atomic

            marker.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(marker, key)
        except OSError:
            pass  # only a cache: the check runs again next time
    return missing


def _ok_marker() -> Path:
    from marie.core import paths

    return paths.cache_dir() / "x11-libraries-ok"


def _install_key(candidates: list[Path]) -> str:
    """Paths and mtimes of the Qt X11 plugin files: changes when PySide6 is (re)installed."""
    parts = []
    for lib in candidates:
        try:
            parts.append(f"{lib}:{lib.stat().st_mtime_ns}")
        except OSError:
            parts.append(f"{lib}:-")
    return "\n".join(parts)


def missing_libraries_message(missing: list[str]) -> str:
    packages = sorted({_XCB_PACKAGES.get(name, name) for name in missing})
    return (f"marie: Qt's X11 support needs system libraries that are missing ({', '.join(missing)}). "
            f"On Debian/Ubuntu: sudo apt-get install {' '.join(packages)} — or use the command line: `marie --help`.")


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "open the MarieIDE window (the default command)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("open", help=SUMMARY)
    parser.add_argument("path", nargs="?", default=None,
                        help="folder or file to open, a file optionally as PATH:LINE[:COL] (default: the current folder)")
    parser.add_argument("--new-window", action="store_true",
                        help="always start a new window instead of opening a file in the running one")
    parser.set_defaults(func=run)


def split_location(text: str) -> tuple[Path, int | None, int | None]:
    """``PATH[:LINE[:COL]]`` -> (path, line, column); a path that exists as given wins (a file
    named "a:1" stays a file)."""
    if Path(text).exists():
        return Path(text), None, None
    head, sep, last = text.rpartition(":")
    if sep and last.isdigit():
        head2, sep2, middle = head.rpartition(":")
        if sep2 and middle.isdigit():
            return Path(head2), int(middle), int(last)
        return Path(head), int(last), None
    return Path(text), None, None


def run(args: argparse.Namespace) -> int:
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    missing = missing_x11_libraries()
    if missing:
        print(missing_libraries_message(missing), file=sys.stderr)
        return 2
    path, line, column = split_location(args.path) if args.path else (Path.cwd(), None, None)
    target = path.resolve()
    if not target.exists():
        print(f"marie: {target} does not exist", file=sys.stderr)
        return 2
    if target.is_file() and not args.new_window:
        # Single instance: a file goes to the running window of this user and display, if any.
        from marie.automation.client import try_open

        if try_open(str(target), line, column, on_unsafe=lambda why: print(f"marie: {why}", file=sys.stderr)):
            print(f"marie: opened {target} in the running MarieIDE", file=sys.stderr)
            return 0
    from marie.ui.launch import launch  # Qt is imported only here

    return launch(target, line=line, column=column)
