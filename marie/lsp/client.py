"""One running language server: a subprocess on stdio pipes driven by the ``Protocol`` state machine.

Threads: a reader thread turns stdout bytes into events (resolves request futures, calls the
notification callback, answers server requests), a stderr thread forwards log lines, and a small
watchdog thread times requests out (sending ``$/cancelRequest``). Public methods may be called from
any thread; blocking ones (``start``, ``call``) must not run on the GUI thread.
When the process dies every pending request fails AT ONCE with ``ServerDown``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

from marie.lsp.jsonrpc import FramingError
from marie.lsp.protocol import Notification, Pending, Protocol, ProtocolError, Response, ServerRequest, State

log = logging.getLogger(__name__)


class ServerError(RuntimeError):
    """Base of language-server failures; the message is written for the user."""


class ServerDown(ServerError):
    """The server is not running (crashed, killed, never started, or missing)."""


class RequestTimeout(ServerError):
    """The server did not answer in time; the request was cancelled."""


class RequestFailed(ServerError):
    """The server answered with a JSON-RPC error."""

    def __init__(self, method: str, error: dict) -> None:
        self.code = error.get("code")
        super().__init__(f"{method} failed: {error.get('message', 'unknown error')} (code {self.code})")


class ResultStale(ServerError):
    """The document changed while the request was running; its answer was dropped."""


class LspClient:
    def __init__(self, command: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
                 name: str = "server", position_encoding: str = "utf-16",
                 on_notification: Callable[[Notification], None] | None = None,
                 on_server_request: Callable[[ServerRequest], tuple[Any, dict | None]] | None = None,
                 on_stderr: Callable[[str], None] | None = None,
                 on_exit: Callable[["LspClient", int | None], None] | None = None,
                 on_timeout: Callable[["LspClient", int, Pending], None] | None = None) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.env = env
        self.name = name
        self.protocol = Protocol(default_encoding=position_encoding)
        self._lock = threading.RLock()        # guards protocol + futures
        self._write_lock = threading.Lock()   # one writer on stdin at a time
        self._futures: dict[int, Future] = {}
        self._on_notification = on_notification
        self._on_server_request = on_server_request
        self._on_stderr = on_stderr
        self._on_exit = on_exit
        self._on_timeout = on_timeout
        self._proc: subprocess.Popen | None = None
        self._dead = threading.Event()
        self._wake = threading.Event()
        self.last_received = 0.0
        self.started_at = 0.0
        self.exit_reason = ""

    # -- process --------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and not self._dead.is_set()

    @property
    def ready(self) -> bool:
        return self.alive and self.protocol.state is State.READY

    def spawn(self) -> None:
        """Start the process and the reader threads (raises ServerDown if it cannot start)."""
        try:
            self._proc = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=self.cwd, env=self.env, bufsize=0, start_new_session=True)
        except (OSError, ValueError) as exc:
            self._dead.set()
            raise ServerDown(f"{self.name}: cannot start {self.command[0]!r}: {getattr(exc, 'strerror', None) or exc}") from None
        self.started_at = time.monotonic()
        for target, label in ((self._read_stdout, "out"), (self._read_stderr, "err"), (self._watchdog, "timer")):
            threading.Thread(target=target, name=f"lsp-{self.name}-{label}", daemon=True).start()

    def start(self, init_params: dict, timeout: float) -> dict:
        """Spawn and run the initialize handshake; returns the server capabilities. Worker thread."""
        self.spawn()
        with self._lock:
            request_id = self.protocol.initialize(init_params, time.monotonic(), timeout)
            future = self._futures[request_id] = Future()
        self._flush()
        self._wait(future, "initialize", timeout)
        return self.protocol.capabilities

    def kill(self, reason: str = "killed") -> None:
        """Kill the process now (SIGKILL); the reader notices EOF and fails pending requests."""
        if not self.exit_reason:
            self.exit_reason = reason
        proc = self._proc
        if proc and proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass

    def shutdown(self, timeout: float = 2.0) -> None:
        """Polite stop: shutdown + exit, then kill if it lingers. Any thread but the GUI."""
        self.exit_reason = self.exit_reason or "stopped"
        future = None
        with self._lock:
            if self.protocol.state is State.READY and self.alive:
                request_id = self.protocol.shutdown(time.monotonic(), timeout)
                future = self._futures[request_id] = Future()
        if future is not None:
            self._flush()
            try:
                future.result(timeout)
                with self._lock:
                    self.protocol.exit()
                self._flush()
            except Exception:
                pass
        proc = self._proc
        if proc:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill("did not exit")
                try:
                    proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
        self._close_pipes()
        self._dead.set()
        self._wake.set()

    def _close_pipes(self) -> None:
        proc = self._proc
        if proc:
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if pipe:
                        pipe.close()
                except OSError:
                    pass

    # -- requests -------------------------------------------------------------------------------
    def request(self, method: str, params: Any, *, timeout: float | None = None, uri: str | None = None) -> Future:
        """Send a request; the Future gets the result or a ServerError. Any thread."""
        future: Future = Future()
        with self._lock:
            if not self.alive:
                future.set_exception(ServerDown(f"{self.name} is not running"))
                return future
            try:
                request_id = self.protocol.request(method, params, now=time.monotonic(), timeout=timeout, uri=uri)
            except ProtocolError as exc:
                future.set_exception(ServerDown(f"{self.name}: {exc}"))
                return future
            self._futures[request_id] = future
            future.request_id = request_id  # type: ignore[attr-defined]
        self._flush()
        self._wake.set()
        return future

    def call(self, method: str, params: Any, *, timeout: float, uri: str | None = None) -> Any:
        """Blocking request (worker threads only)."""
        return self._wait(self.request(method, params, timeout=timeout, uri=uri), method, timeout)

    def _wait(self, future: Future, method: str, timeout: float) -> Any:
        try:
            # the watchdog fails the future at its deadline; the margin covers scheduling delays
            return future.result(timeout + 1.0)
        except TimeoutError:
            raise RequestTimeout(f"{self.name} did not answer {method} within {timeout:g} s") from None

    def cancel(self, future: Future) -> None:
        """Cancel a pending request (sends ``$/cancelRequest``); its future fails with Cancelled."""
        request_id = getattr(future, "request_id", None)
        with self._lock:
            if request_id is None or not self.protocol.cancel(request_id):
                return
            self._futures.pop(request_id, None)
        self._flush()
        future.cancel()

    def notify(self, method: str, params: Any = None) -> None:
        with self._lock:
            if not self.alive:
                return
            self.protocol.notify(method, params)
        self._flush()

    # -- documents (the protocol computes incremental changes) -----------------------------------
    def did_open(self, uri: str, language_id: str, text: str, version: int = 1) -> None:
        self._doc_call(lambda p: p.did_open(uri, language_id, text, version))

    def did_change(self, uri: str, text: str) -> None:
        self._doc_call(lambda p: p.did_change(uri, text) if uri in p.documents else None)

    def did_save(self, uri: str) -> None:
        self._doc_call(lambda p: p.did_save(uri))

    def did_close(self, uri: str) -> None:
        self._doc_call(lambda p: p.did_close(uri))

    def _doc_call(self, fn: Callable[[Protocol], Any]) -> None:
        with self._lock:
            if not self.alive or self.protocol.state is not State.READY:
                return
            fn(self.protocol)
        self._flush()

    # -- I/O ------------------------------------------------------------------------------------
    def _flush(self) -> None:
        with self._write_lock:
            with self._lock:
                data = self.protocol.data_to_send()
            if not data or self._proc is None or self._proc.stdin is None:
                return
            try:
                self._proc.stdin.write(data)
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                self.kill("its input pipe closed")  # the reader will see EOF and clean up

    def _read_stdout(self) -> None:
        proc = self._proc
        assert proc and proc.stdout
        fd = proc.stdout.fileno()
        try:
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                self.last_received = time.monotonic()
                with self._lock:
                    try:
                        events = self.protocol.receive(data)
                    except FramingError as exc:
                        log.error("%s sent garbage: %s", self.name, exc)
                        self.exit_reason = f"protocol error: {exc}"
                        self.kill(self.exit_reason)
                        break
                    futures = [(e, self._futures.pop(e.id, None)) for e in events if isinstance(e, Response)]
                for event in events:
                    if isinstance(event, ServerRequest):
                        self._answer(event)
                    elif isinstance(event, Notification) and self._on_notification:
                        try:
                            self._on_notification(event)
                        except Exception:
                            log.exception("notification handler failed for %s", event.method)
                self._flush()  # e.g. the "initialized" notification
                for event, future in futures:
                    if future is None or future.done():
                        continue
                    if event.error is not None:
                        future.set_exception(RequestFailed(event.method, event.error))
                    elif event.stale:
                        future.set_exception(ResultStale(f"{event.method}: the document changed; result dropped"))
                    else:
                        future.set_result(event.result)
        finally:
            self._died()

    def _answer(self, request: ServerRequest) -> None:
        result, error = None, None
        if self._on_server_request:
            try:
                result, error = self._on_server_request(request)
            except Exception as exc:
                error = {"code": -32603, "message": str(exc)}
        with self._lock:
            self.protocol.reply(request.id, result, error)

    def _died(self) -> None:
        proc = self._proc
        code = None
        if proc:
            try:
                code = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
        first = not self._dead.is_set()
        self._dead.set()
        self._wake.set()
        with self._lock:
            self.protocol.fail_all()
            futures, self._futures = self._futures, {}
        reason = self.exit_reason or (f"exited with code {code}" if code is not None else "exited")
        for future in futures.values():
            if not future.done():
                future.set_exception(ServerDown(f"{self.name} stopped ({reason})"))
        self._close_pipes()
        if first and self._on_exit:
            self._on_exit(self, code)

    def _read_stderr(self) -> None:
        proc = self._proc
        assert proc and proc.stderr
        try:
            for raw in iter(proc.stderr.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip()
                if line and self._on_stderr:
                    try:
                        self._on_stderr(line)
                    except Exception:
                        log.exception("stderr handler failed")
        except (ValueError, OSError):
            # The exit path closes the pipes (``_close_pipes``) while this thread may still be in
            # readline: the server is gone, so there is nothing left to read.
            pass

    def _watchdog(self) -> None:
        while not self._dead.is_set():
            with self._lock:
                deadline = self.protocol.next_deadline()
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()
            now = time.monotonic()
            expired: list[tuple[int, Pending, Future | None]] = []
            with self._lock:
                for request_id in self.protocol.expired(now):
                    pending = self.protocol.pending[request_id]
                    self.protocol.cancel(request_id)
                    expired.append((request_id, pending, self._futures.pop(request_id, None)))
            if not expired:
                continue
            self._flush()
            for request_id, pending, future in expired:
                if future is not None and not future.done():
                    future.set_exception(RequestTimeout(
                        f"{self.name} did not answer {pending.method} within {pending.timeout:g} s; request cancelled"))
                if self._on_timeout:
                    try:
                        self._on_timeout(self, request_id, pending)
                    except Exception:
                        log.exception("timeout handler failed")
