"""Formatter: Python files formatted with ruff (``ruff format``) or black, whichever is installed,
on demand ("Format: Format Document") and, with ``editor.format_on_save``, on Ctrl+S.

The formatter runs as a subprocess reading stdin, with the file's path for its configuration
(pyproject.toml), on a worker thread. A tool that fails (syntax error, crash) leaves the text as it
was and reports the tool's own message; nothing is ever half-formatted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from marie.plugins.api import PluginAPI, PluginInfo

PLUGIN = PluginInfo(name="formatter", version="1.0", api_version="1.0",
                    description="Format Python with ruff or black when installed; format on save")


class FormatError(Exception):
    """The formatter refused the text (its own message says why)."""


def find_tool() -> list[str] | None:
    """The command line of the first formatter found: ruff, then black (PATH or this Python)."""
    for name, argv in (("ruff", ["format", "--stdin-filename"]), ("black", ["-q", "--stdin-filename"])):
        exe = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
        if exe:
            return [exe, *argv]
    return None


def format_text(path: str, text: str, tool: list[str] | None = None) -> str:
    """``text`` formatted as the file ``path`` (worker thread). Raises FormatError."""
    tool = tool or find_tool()
    if tool is None:
        raise FormatError("neither ruff nor black is installed (pip install ruff)")
    argv = [*tool, path, "-"]
    try:
        done = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, timeout=30,
                              cwd=str(Path(path).parent) if Path(path).parent.exists() else None)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FormatError(f"{Path(tool[0]).name} did not run: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FormatError(f"{Path(tool[0]).name}: {message[-1] if message else 'failed'}")
    return done.stdout.decode("utf-8")


def activate(api: PluginAPI) -> None:
    api.add_formatter("ruff-or-black", ["python"], format_text)

    def format_current(window: Any) -> None:
        editor = window.current_editor()
        if editor is None or getattr(editor, "path", None) is None:
            window.show_message("Open a Python file to format it", "warning")
            return
        text, path = editor.text(), str(editor.path)

        def done(result: str) -> None:
            if result != text and editor.text() == text:
                editor.set_text(result)  # one undo step
            window.show_message("Formatted" if result != text else "Already formatted")

        window.app.tasks.submit(lambda ctx: format_text(path, text), name="format", on_done=done,
                                on_error=lambda exc: window.show_message(str(exc), "error"))

    api.add_command("format.document", "Format: Format Document", format_current, shortcut="Shift+Alt+F",
                    category="Format")
