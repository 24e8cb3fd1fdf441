"""Run one shell command in a pseudo-terminal (``ptyprocess``): in the workspace, with a timeout,
an output cap, an environment filtered of secrets, and cancellation that kills it at once.

``run_command`` blocks (call it on a worker thread); ``on_output`` runs on that thread for batches
of output as they arrive. The process gets its own session, so killing it kills what it started too.
``run_isolated`` (what the agent uses) does the same from a helper process (``marie.agent.pty_host``)
so the pty's many small reads never hold the IDE's GIL.
"""

from __future__ import annotations

import codecs
import collections
import fnmatch
import os
import select
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ptyprocess import PtyProcess  # type: ignore[import-untyped]

from marie.core.tasks import CancelToken


@dataclass
class CommandResult:
    command: str
    exit_code: int | None          # None when killed (timeout, cancel)
    output: str                    # decoded, capped
    seconds: float
    timed_out: bool = False
    cancelled: bool = False
    cut_bytes: int = 0             # output bytes past the cap, dropped

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def filtered_env(deny: list[str] | tuple[str, ...], base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without the variables matching ``deny``."""
    env = dict(os.environ if base is None else base)
    patterns = [p.upper() for p in deny]
    out = {k: v for k, v in env.items() if not any(fnmatch.fnmatchcase(k.upper(), p) for p in patterns)}
    out["TERM"] = "dumb"          # no colour codes or cursor movement in what the model reads
    out.setdefault("PAGER", "cat")
    out["GIT_PAGER"] = "cat"
    out["PYTHONUNBUFFERED"] = "1"
    return out


def _kill_group(proc: PtyProcess) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill(signal.SIGKILL)
    except Exception:
        pass


def run_command(command: str, cwd: Path, *, timeout_s: float, output_cap: int, env: dict[str, str],
                token: CancelToken | None = None, on_output: Callable[[str], None] | None = None,
                shell: str = "/bin/sh") -> CommandResult:
    """Run ``command`` with ``shell -c`` in a pty; blocking (worker thread)."""
    started = time.monotonic()
    proc = PtyProcess.spawn([shell, "-c", command], cwd=str(cwd), env=env, dimensions=(40, 200))
    cancelled = [False]

    def cancel() -> None:
        cancelled[0] = True
        _kill_group(proc)

    if token is not None:
        token.on_cancel(cancel)
    # Output is decoded piece by piece as it comes (no 50 MB decode at the end: a single C call
    # that size holds the GIL long enough to stall the GUI thread), and handed to ``on_output`` in
    # batches of at most every 30 ms or 64 KB (a pty delivers 4 KB reads: one event each would
    # flood the dispatcher).
    kept: list[str] = []
    kept_n = 0
    cut = 0
    timed_out = False
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    batch: list[str] = []
    batch_n = 0
    last_sent = time.monotonic()

    def send(force: bool = False) -> None:
        nonlocal batch, batch_n, last_sent
        if on_output and batch and (force or batch_n >= 65536 or time.monotonic() - last_sent >= 0.03):
            on_output("".join(batch))
            batch, batch_n, last_sent = [], 0, time.monotonic()

    fd = proc.fd
    try:
        while True:
            left = timeout_s - (time.monotonic() - started)
            if left <= 0:
                timed_out = True
                _kill_group(proc)
                break
            if cancelled[0]:
                break
            try:
                # Held-back output waits at most 30 ms for more to join it.
                ready, _, _ = select.select([fd], [], [], min(left, 0.03 if batch else 0.1))
            except (OSError, ValueError):
                break
            if not ready:
                send(force=True)
                if not proc.isalive():
                    # Drain what is left, then stop.
                    ready = [fd]
                else:
                    continue
            try:
                data = os.read(fd, 65536)
            except OSError:      # EIO: the child closed the pty
                break
            if not data:
                break
            room = output_cap - kept_n
            if room > 0:
                piece = data[:room]
                kept_n += len(piece)
                text = decoder.decode(piece).replace("\r\n", "\n")
                if text:
                    kept.append(text)
                    batch.append(text)
                    batch_n += len(text)
                    send()
            cut += max(0, len(data) - max(room, 0))
        send(force=True)
    finally:
        if timed_out or cancelled[0]:
            _kill_group(proc)
    exit_code: int | None = None
    if not (timed_out or cancelled[0]):
        try:
            proc.wait()
        except Exception:
            pass
        if proc.exitstatus is not None:
            exit_code = proc.exitstatus
        elif proc.signalstatus is not None:
            exit_code = -proc.signalstatus
    # Wait for a kill to land so no child outlives the call.
    deadline = time.monotonic() + 2.0
    while proc.isalive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        proc.close(force=True)
    except Exception:
        pass
    output = "".join(kept) + decoder.decode(b"", final=True)
    return CommandResult(command, exit_code, output, time.monotonic() - started, timed_out, cancelled[0], cut)


_KEEP_CHARS = 1 << 20


def run_isolated(command: str, cwd: Path, *, timeout_s: float, output_cap: int, env: dict[str, str],
                 token: CancelToken | None = None, on_output: Callable[[str], None] | None = None,
                 shell: str = "/bin/sh") -> CommandResult:
    """``run_command`` in a helper process (``marie.agent.pty_host``), so the pty's many small reads
    never compete with the GUI thread for the GIL. Same arguments and result; blocking (worker)."""
    import json
    import struct
    import subprocess
    import sys

    config = json.dumps({"command": command, "cwd": str(cwd), "timeout_s": timeout_s, "output_cap": output_cap,
                         "shell": shell})
    started = time.monotonic()
    host = subprocess.Popen([sys.executable, "-m", "marie.agent.pty_host", config], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env, cwd=str(cwd),
                            start_new_session=True)

    def cancel() -> None:
        try:
            host.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass

    if token is not None:
        token.on_cancel(cancel)
    # What the model sees is cut to a few thousand tokens: keep the first and the last megabyte
    # (joining 50 MB at the end would hold the GIL long enough to stall the GUI thread).
    head: list[str] = []
    head_n = 0
    tail: collections.deque[str] = collections.deque()
    tail_n = 0
    dropped = 0
    buffer = b""
    result: dict | None = None
    assert host.stdout is not None
    fd = host.stdout.fileno()
    deadline = started + timeout_s + 10       # the host enforces the timeout; this guards the host
    while result is None:
        if time.monotonic() > deadline:
            host.kill()
            break
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            if host.poll() is not None:
                break
            continue
        data = os.read(fd, 1 << 20)
        if not data:
            break
        # Frames are parsed by offset (slicing a megabyte per frame would copy it again and again
        # while holding the GIL the GUI thread waits for).
        buffer = buffer + data if buffer else data
        offset = 0
        while len(buffer) - offset >= 5:
            kind = buffer[offset:offset + 1]
            (size,) = struct.unpack_from(">I", buffer, offset + 1)
            if len(buffer) - offset < 5 + size:
                break
            payload = buffer[offset + 5:offset + 5 + size]
            offset += 5 + size
            if kind == b"o":
                text = payload.decode("utf-8", "replace")
                if head_n < _KEEP_CHARS:
                    head.append(text)
                    head_n += len(text)
                else:
                    tail.append(text)
                    tail_n += len(text)
                    while tail_n - len(tail[0]) > _KEEP_CHARS:
                        old = tail.popleft()
                        tail_n -= len(old)
                        dropped += len(old)
                if on_output:
                    on_output(text)
            elif kind == b"r":
                result = json.loads(payload)
        buffer = buffer[offset:]
    try:
        host.wait(5)
    except subprocess.TimeoutExpired:
        host.kill()
        host.wait()
    host.stdout.close()
    middle = f"\n[... {dropped} characters left out here ...]\n" if dropped else ""
    output = "".join(head) + middle + "".join(tail)
    if result is None:
        cancelled = bool(token is not None and token.cancelled)
        return CommandResult(command, None, output, time.monotonic() - started, timed_out=not cancelled,
                             cancelled=cancelled)
    result["output"] = output
    return CommandResult(**result)
