"""Shared helpers of the terminal tests: a bash with a known prompt, and waiting on conditions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from marie.terminal.screen import ScreenModel
from marie.terminal.session import TerminalSession, shell_env

PROMPT = "marie$ "
BASH = ["/bin/bash", "--noprofile", "--norc"]


def bash_session(cwd: Path, lines: int = 24, columns: int = 80, **kwargs) -> TerminalSession:
    """A started bash (no rc files, prompt ``marie$ ``) in ``cwd``; close it with ``.close()``."""
    env = shell_env({"PS1": PROMPT, "HISTFILE": "/dev/null"})
    session = TerminalSession(cwd, BASH, env=env, lines=lines, columns=columns, **kwargs).start()
    wait_for(lambda: PROMPT.strip() in "\n".join(session.model.screen_text()), what="the first prompt")
    return session


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "the condition") -> object:
    """Poll ``condition`` until it is truthy (generous bound: the test machine is shared)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


def run(session: TerminalSession, command: str, marker: str, timeout: float = 30.0) -> list[str]:
    """Type ``command`` + Enter and wait until ``marker`` is on a screen row of its own; the screen."""
    session.write(command.encode() + b"\r")
    wait_for(lambda: any(row.strip() == marker for row in session.model.screen_text()), timeout,
             f"{marker!r} after {command!r}")
    return session.model.screen_text()


def cells(model: ScreenModel) -> list[list[tuple]]:
    """Every row, scrollback first, as (character, fg, bg, bold, italics, underscore, strikethrough,
    reverse) per column, trailing blank default cells dropped: what the view paints."""
    out = []
    first, count = model.first_id(), model.history_size() + model.size[0]
    for runs in model.rows(first, count):
        row: list[tuple] = []
        for col, text, attrs in runs:
            row.extend([("", "default", "default", False, False, False, False, False)] * (col - len(row)))
            for ch in text:
                row.append((ch,) + tuple(attrs[1:8]))
        while row and row[-1][0] in (" ", "") and row[-1][1:] == ("default", "default", False, False, False, False, False):
            row.pop()
        out.append([(c or " ", *rest) for c, *rest in row])
    return out
