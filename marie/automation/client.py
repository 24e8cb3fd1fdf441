"""The automation endpoint's client: ``marie remote`` and ``marie PATH`` (single instance) use it.

It checks the endpoint's folder and socket are private to this user before it sends the token
(a socket planted by someone else would otherwise receive it), reads the token file, and speaks
one JSON object per line. Any thread; blocking.
"""

from __future__ import annotations

import itertools
import json
import socket
from pathlib import Path
from typing import Any, Callable, Iterator

from marie.automation import location


class NotRunning(Exception):
    """No MarieIDE window of this user and display is listening."""


class RemoteError(Exception):
    """The window answered with a JSON-RPC error; ``code`` is its code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Client:
    def __init__(self, path: Path | None = None, token: str | None = None, timeout: float = 10.0) -> None:
        self.path = path or location.socket_path()
        try:
            location.check_private(self.path.parent, is_dir=True)
            location.check_private(self.path)
        except FileNotFoundError:
            raise NotRunning(f"no MarieIDE window is running for this user and display ({self.path})") from None
        if token is None:
            try:
                token_file = location.token_path(self.path)
                location.check_private(token_file)
                token = token_file.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                raise NotRunning(f"the running MarieIDE left no token beside {self.path}") from None
        self.token = token
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(str(self.path))
        except OSError as exc:
            self.sock.close()
            raise NotRunning(f"no MarieIDE window answers on {self.path} ({exc.strerror or exc})") from None
        self.reader = self.sock.makefile("rb")
        self._ids = itertools.count(1)

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> dict:
        line = self.reader.readline()
        if not line:
            raise RemoteError("the window closed the connection", -32000)
        return json.loads(line)

    def call(self, method: str, **params: Any) -> Any:
        """Send one request and return its result (raises RemoteError)."""
        rid = next(self._ids)
        self.sock.sendall((json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params,
                                       "token": self.token}) + "\n").encode("utf-8"))
        while True:
            reply = self._read()
            if reply.get("id") != rid:
                continue  # an event notification of an earlier subscription
            if "error" in reply:
                raise RemoteError(str(reply["error"].get("message", "failed")), int(reply["error"].get("code", -32000)))
            return reply.get("result")

    def events(self, names: list[str]) -> Iterator[dict]:
        """Subscribe and yield each event as it comes (blocks; ends when the window closes)."""
        self.call("subscribe", events=names)
        self.sock.settimeout(None)
        while True:
            message = self._read()
            if message.get("method") == "event":
                yield message.get("params", {})


def try_open(path: str, line: int | None = None, column: int | None = None,
             on_unsafe: Callable[[str], None] | None = None) -> bool:
    """Open ``path`` in the running window if there is one (single instance). True when it did."""
    try:
        with Client(timeout=5.0) as client:
            client.call("open", path=path, line=line, column=column)
            return True
    except NotRunning:
        return False
    except location.UnsafeLocation as exc:
        if on_unsafe:
            on_unsafe(str(exc))
        return False
    except (RemoteError, OSError, ValueError):
        return False
