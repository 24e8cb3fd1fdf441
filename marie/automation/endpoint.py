"""The automation endpoint's server: JSON-RPC 2.0, one JSON object per line, over a unix socket.

Every request carries the session's ``token`` (read from the 0600 token file beside the socket);
a request without the right token gets error -32001 and the connection is closed. The peer's user
is checked too (``SO_PEERCRED``): a process of another user is refused even if it reached the
socket. Methods are given as ``handlers`` (name -> ``handler(params) -> result``); ``subscribe``
streams ``{"method": "event", "params": {...}}`` notifications on the same connection until the
client hangs up.

Threads: ``start`` binds on the caller's thread; an accept thread and one thread per connection
serve requests, so handlers run on those threads (the window's handlers hop to the GUI thread).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import struct
import threading
from pathlib import Path
from typing import Any, Callable

from marie.automation import location
from marie.core import atomic

log = logging.getLogger(__name__)

UNAUTHORIZED = -32001
METHOD_NOT_FOUND = -32601
INVALID = -32600
FAILED = -32000
MAX_LINE = 1 << 20

Handler = Callable[[dict], Any]
Subscriber = Callable[[list[str], Callable[[dict], None]], Callable[[], None]]


class AlreadyRunning(Exception):
    """Another MarieIDE of this user on this display already listens on the socket."""


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end (Linux ``SO_PEERCRED``; None where unsupported)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    data = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return struct.unpack("3i", data)[1]


class Endpoint:
    def __init__(self, handlers: dict[str, Handler], subscribe: Subscriber | None = None,
                 path: Path | None = None) -> None:
        self.handlers = dict(handlers)
        self.subscribe = subscribe
        self.path = path or location.socket_path()
        self.token = secrets.token_urlsafe(32)
        self._server: socket.socket | None = None
        self._closed = threading.Event()

    def start(self) -> Path:
        """Bind and listen (caller's thread); raises AlreadyRunning when another instance answers."""
        location.make_private_folder(self.path.parent)
        if self.path.exists() or self.path.is_symlink():
            if _answers(self.path):
                raise AlreadyRunning(f"MarieIDE already listens on {self.path}")
            self.path.unlink()  # left behind by a process that died
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is born 0600: no window in which others may connect
        try:
            server.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        server.listen(16)
        atomic.write_bytes(location.token_path(self.path), self.token.encode("ascii"), mode=0o600,
                           follow_symlinks=False)
        self._server = server
        threading.Thread(target=self._accept, daemon=True, name="marie-endpoint").start()
        return self.path

    def close(self) -> None:
        self._closed.set()
        server, self._server = self._server, None
        if server is not None:
            try:
                server.close()
            finally:
                for path in (self.path, location.token_path(self.path)):
                    try:
                        path.unlink()
                    except OSError:
                        pass

    # -- serving --------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed.is_set():
            server = self._server
            if server is None:
                return
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name="marie-endpoint-conn").start()

    def _serve(self, conn: socket.socket) -> None:
        write_lock = threading.Lock()

        def send(obj: dict) -> None:
            data = (json.dumps(obj, default=str) + "\n").encode("utf-8")
            with write_lock:
                conn.sendall(data)

        unsubscribers: list[Callable[[], None]] = []
        try:
            uid = peer_uid(conn)
            if uid is not None and uid != os.getuid():
                send(_error(None, UNAUTHORIZED, f"refused: the endpoint serves uid {os.getuid()} only"))
                return
            reader = conn.makefile("rb")
            while True:
                line = reader.readline(MAX_LINE + 1)
                if not line:
                    return
                if len(line) > MAX_LINE:
                    send(_error(None, INVALID, "request too large"))
                    return
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("not an object")
                except ValueError:
                    send(_error(None, INVALID, "not a JSON-RPC request"))
                    continue
                rid = request.get("id")
                if not secrets.compare_digest(str(request.get("token", "")), self.token):
                    send(_error(rid, UNAUTHORIZED, "wrong or missing token"))
                    return
                method = str(request.get("method", ""))
                params = request.get("params") or {}
                if method == "subscribe" and self.subscribe is not None:
                    names = [str(n) for n in params.get("events", [])]
                    unsubscribers.append(self.subscribe(names, lambda event: send(
                        {"jsonrpc": "2.0", "method": "event", "params": event})))
                    send({"jsonrpc": "2.0", "id": rid, "result": {"subscribed": names}})
                    continue
                handler = self.handlers.get(method)
                if handler is None:
                    send(_error(rid, METHOD_NOT_FOUND, f"no method {method!r}; known: {', '.join(sorted(self.handlers))}"))
                    continue
                try:
                    result = handler(params if isinstance(params, dict) else {})
                except Exception as exc:
                    log.info("endpoint method %s failed: %s", method, exc)
                    send(_error(rid, FAILED, str(exc) or type(exc).__name__))
                    continue
                send({"jsonrpc": "2.0", "id": rid, "result": result})
        except OSError:
            return  # the client went away
        finally:
            for unsubscribe in unsubscribers:
                try:
                    unsubscribe()
                except Exception:
                    log.exception("unsubscribe failed")
            conn.close()


def _error(rid: Any, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()
