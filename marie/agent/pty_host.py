"""The process that runs one command in a pty for the IDE: ``python -m marie.agent.pty_host CONFIG``.

Why a process of its own: a pty hands over output 4 KB at a time, and a command printing tens of
megabytes means thousands of reads; done on a thread of the IDE each read takes the GIL and the GUI
thread waits behind them (measured: 150+ ms stalls while a command printed 50 MB). Here the reads
cost the IDE nothing; it gets the output in batches of up to 64 KB.

Protocol on stdout: frames of one type byte, a 4-byte big-endian length and the payload: ``o``
output (UTF-8 text), ``r`` the result (JSON of ``CommandResult``). CONFIG is JSON: command, cwd,
timeout_s, output_cap, shell. SIGTERM cancels (the command's process group is killed).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys
from dataclasses import asdict
from pathlib import Path


def frame(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack(">I", len(payload)) + payload


def main() -> int:
    from marie.agent.pty_command import run_command
    from marie.core.tasks import CancelToken

    config = json.loads(sys.argv[1])
    out = sys.stdout.buffer
    token = CancelToken()
    signal.signal(signal.SIGTERM, lambda *_: token.cancel())

    def on_output(text: str) -> None:
        out.write(frame(b"o", text.encode("utf-8")))
        out.flush()

    result = run_command(config["command"], Path(config["cwd"]), timeout_s=float(config["timeout_s"]),
                         output_cap=int(config["output_cap"]), env=dict(os.environ), token=token,
                         on_output=on_output, shell=config.get("shell", "/bin/sh"))
    data = asdict(result)
    data["output"] = ""          # already sent as it came; the parent keeps its own copy
    out.write(frame(b"r", json.dumps(data).encode("utf-8")))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
