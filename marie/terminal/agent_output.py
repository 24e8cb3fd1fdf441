"""The agent's commands as one read-only terminal: for each ``run_command``/``run_tests`` step a
header line (``$ command``), the output as it streams (``CommandOutput`` events), and a closing line
with the result (``ToolFinished``). The agent runs the commands in its own pty runner
(``marie.agent.pty_command``); this only shows them. Events arrive on the GUI thread (the app's
dispatcher); parsing happens on this object's parser thread, like a shell's output.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from marie.terminal.parser import OutputParser
from marie.terminal.screen import DEFAULT_SCROLLBACK, ScreenModel

COMMAND_TOOLS = ("run_command", "run_tests")


def command_of(arguments: str) -> str:
    """The command line a tool call runs, from its JSON arguments (the raw text if it is not JSON)."""
    try:
        data = json.loads(arguments or "{}")
    except ValueError:
        return arguments
    if isinstance(data, dict):
        for key in ("command", "cmd", "args", "path"):
            if data.get(key):
                value = data[key]
                return " ".join(map(str, value)) if isinstance(value, list) else str(value)
        return " ".join(f"{k}={v}" for k, v in data.items())
    return str(data)


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8", "replace")


class AgentOutput:
    def __init__(self, lines: int = 24, columns: int = 120, scrollback: int = DEFAULT_SCROLLBACK,
                 on_dirty: Callable[[], None] | None = None) -> None:
        self.model = ScreenModel(columns, lines, scrollback)
        self.on_dirty = on_dirty
        self.parser = OutputParser(self.model, "agent-output", on_dirty=lambda: self.on_dirty and self.on_dirty()).start()
        self._calls: set[str] = set()          # call ids of command tools in flight
        self._line_open = False                # the last output did not end its line
        self.commands = 0

    exited = False                             # never: the view treats it as a live, read-only terminal

    def acknowledge(self) -> None:
        self.parser.acknowledge()

    def started(self, event: Any) -> None:
        if event.tool not in COMMAND_TOOLS:
            return
        self._calls.add(event.call_id)
        self.commands += 1
        self.parser.put(crlf(f"\x1b[1;36m$ {command_of(event.arguments)}\x1b[0m\n"), block=False)

    def output(self, event: Any) -> None:
        if event.call_id in self._calls and event.text:
            self._line_open = not event.text.endswith("\n")
            self.parser.put(crlf(event.text), block=False)

    def finished(self, event: Any) -> None:
        if event.call_id not in self._calls:
            return
        self._calls.discard(event.call_id)
        colour, mark = ("32", "\u2713") if event.ok else ("31", "\u2717")
        end = "\n" if self._line_open else ""
        self._line_open = False
        self.parser.put(b"\x1b[0m" + crlf(f"{end}\x1b[{colour}m{mark} {event.summary}\x1b[0m\n\n"), block=False)

    def close(self) -> None:
        self.parser.close()
