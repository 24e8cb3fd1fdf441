"""One terminal session: a shell in a pseudo-terminal (``ptyprocess``), read on a reader thread and
parsed into a ``ScreenModel`` by an ``OutputParser`` on its thread; keystrokes go out on a writer
thread.

Nothing here blocks the caller: ``write``/``paste``/``resize`` return at once. The model tells its
reader that something changed through ``on_dirty`` (called on the parser thread, at most once until
the reader calls ``acknowledge()``), so a view repaints at its own pace however fast output comes.
``on_exit(code)`` is called once, on the parser thread, after the last output was parsed. Memory is
bounded: the reader stops reading while ``MAX_PENDING`` bytes wait to be parsed (the program then
waits, as it would on a slow terminal), and floods keep only what a scrollback can hold.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from marie.terminal.parser import MAX_PENDING, OutputParser
from marie.terminal.screen import APP_CURSOR_KEYS, BRACKETED_PASTE, DEFAULT_SCROLLBACK, ScreenModel

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
__all__ = ["MAX_PENDING", "READ_SIZE", "TerminalSession", "default_shell", "shell_env"]


def default_shell(settings: Any = None) -> list[str]:
    """The shell command line: ``terminal.shell`` (empty: ``$SHELL``, else /bin/bash) and
    ``terminal.args`` (``["-l"]`` by default: a login shell, like a terminal emulator's new window)."""
    shell = (settings.get("terminal.shell", "") if settings is not None else "") or os.environ.get("SHELL") or "/bin/bash"
    args = settings.get("terminal.args", ["-l"]) if settings is not None else ["-l"]
    return [shell, *[str(a) for a in args]]


def shell_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a terminal's shell: ours, with TERM and COLORTERM set like xterm's."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TERMCAP")}
    env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", "TERM_PROGRAM": "MarieIDE"})
    env.update(extra or {})
    return env


class TerminalSession:
    def __init__(self, cwd: Path | str, argv: Sequence[str] | None = None, env: dict[str, str] | None = None,
                 lines: int = 24, columns: int = 80, scrollback: int = DEFAULT_SCROLLBACK,
                 on_dirty: Callable[[], None] | None = None, on_exit: Callable[[int], None] | None = None) -> None:
        self.cwd = Path(cwd)
        self.argv = list(argv) if argv else default_shell()
        self.env = env if env is not None else shell_env()
        self.model = ScreenModel(columns, lines, scrollback, on_input=self.write)
        self.parser = OutputParser(self.model, "terminal", on_dirty=lambda: self.on_dirty and self.on_dirty(),
                                   on_end=self._reap)
        self.on_dirty = on_dirty
        self.on_exit = on_exit
        self.exit_code: int | None = None
        self.proc: Any = None
        self._closed = False
        self._writes: queue.Queue[bytes | None] = queue.Queue()
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- life cycle
    def start(self) -> "TerminalSession":
        """Start the shell and the threads (any thread). Raises OSError when the shell cannot start."""
        from ptyprocess import PtyProcess

        lines, columns = self.model.size
        self.proc = PtyProcess.spawn(self.argv, cwd=str(self.cwd), env=self.env, dimensions=(lines, columns))
        self.parser.name = f"terminal-{self.proc.pid}"
        self.parser.start()
        for name, target in (("reader", self._read_loop), ("writer", self._write_loop)):
            thread = threading.Thread(target=target, name=f"terminal-{name}-{self.proc.pid}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def exited(self) -> bool:
        return self.exit_code is not None

    def close(self, wait: float = 2.0) -> None:
        """End the shell (SIGHUP, as when a terminal window closes; SIGKILL if it lingers) and stop the
        threads. Any thread; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        proc = self.proc
        if proc is not None and self.exit_code is None:
            try:
                os.killpg(os.getpgid(proc.pid), signal.SIGHUP)
            except OSError:
                pass
        self._writes.put(None)
        self.parser.close(0)
        deadline = time.monotonic() + wait
        for thread in [*self._threads, self.parser._thread]:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        if proc is not None and proc.isalive():
            try:
                proc.terminate(force=True)
            except Exception:
                log.debug("terminating the shell failed", exc_info=True)
        if proc is not None:
            try:
                proc.close(force=True)
            except Exception:
                pass

    # ---------------------------------------------------------------- input (any thread)
    def write(self, data: bytes) -> None:
        """Send bytes to the program (keystrokes, answers). Returns at once; the writer thread writes."""
        if data and not self._closed:
            self._writes.put(data)

    def paste(self, text: str) -> None:
        """Paste ``text``: newlines as Enter, wrapped in bracketed-paste marks when the program asked
        for them (bash and zsh do), so a pasted command is not run before the user presses Enter."""
        data = text.replace("\r\n", "\n").replace("\n", "\r").encode("utf-8")
        if self.model.has_mode(BRACKETED_PASTE):
            data = b"\x1b[200~" + data.replace(b"\x1b[201~", b"") + b"\x1b[201~"
        self.write(data)

    @property
    def app_cursor_keys(self) -> bool:
        """Whether the program asked for application cursor keys (arrows as ESC O A ...)."""
        return self.model.has_mode(APP_CURSOR_KEYS)

    def resize(self, lines: int, columns: int) -> None:
        """New size in cells: the model first, then the pty (the kernel sends SIGWINCH)."""
        lines, columns = max(2, lines), max(10, columns)
        if (lines, columns) == self.model.size:
            return
        self.model.resize(lines, columns)
        if self.proc is not None and self.exit_code is None:
            try:
                self.proc.setwinsize(lines, columns)
            except OSError:
                pass
        self.parser.notify()

    def current_directory(self) -> Path:
        """The shell's working directory now (Linux /proc), else the one it started in."""
        try:
            return Path(os.readlink(f"/proc/{self.pid}/cwd"))
        except (OSError, TypeError):
            return self.cwd

    # ---------------------------------------------------------------- change notices
    def acknowledge(self) -> None:
        """The reader is about to look at the model: the next change notifies again (any thread)."""
        self.parser.acknowledge()

    @property
    def flood(self) -> Any:
        return self.parser.flood

    @property
    def peak_pending(self) -> int:
        """The most bytes that ever waited for the parser."""
        return self.parser.peak_pending

    # ---------------------------------------------------------------- threads
    def _read_loop(self) -> None:
        fd = self.proc.fd
        while not self._closed:
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:          # EIO: every process holding the pty's other end has gone
                data = b""
            if not data:
                break
            self.parser.put(data)    # waits while the parser is MAX_PENDING behind
        self.parser.end()

    def _reap(self) -> None:
        if self._closed and self.exit_code is not None:
            return
        proc = self.proc
        code = -1
        try:
            proc.wait()
            code = proc.exitstatus if proc.exitstatus is not None else 128 + (proc.signalstatus or 0)
        except Exception:
            log.debug("waiting for the shell failed", exc_info=True)
        self.exit_code = code
        self.parser.notify(force=True)
        if self.on_exit is not None and not self._closed:
            try:
                self.on_exit(code)
            except Exception:
                log.exception("terminal exit listener failed")

    def _write_loop(self) -> None:
        fd = self.proc.fd
        while True:
            data = self._writes.get()
            if data is None or self._closed:
                return
            try:
                while data:
                    written = os.write(fd, data)
                    data = data[written:]
            except OSError:
                return
