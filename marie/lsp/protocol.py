"""The LSP client protocol as a pure state machine: bytes in, events out; calls queue bytes to send.

No threads, no processes, no clocks of its own (callers pass ``now``), so every rule is testable in
isolation: request ids and pending requests, ``$/cancelRequest``, timeouts (``expired``), answers to
server requests, document versions (a response to a request made for version N of a document is
marked ``stale`` when the document has moved on), and incremental ``didChange`` computed from the
previous text. ``marie.lsp.client`` drives it over a real pipe. Not thread-safe: the owner locks.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from typing import Any

from lsprotocol.types import TextDocumentSyncKind

from marie.lsp import jsonrpc
from marie.text.positions import LineTable


class State(enum.Enum):
    NOT_STARTED = "not started"
    INITIALIZING = "initializing"
    READY = "ready"
    SHUTTING_DOWN = "shutting down"
    EXITED = "exited"


class ProtocolError(RuntimeError):
    """A call that the protocol state does not allow (e.g. a request before initialize)."""


@dataclass(frozen=True)
class Response:
    id: int
    method: str
    result: Any = None
    error: dict | None = None     # JSON-RPC error object
    stale: bool = False           # the document changed since the request; result dropped


@dataclass(frozen=True)
class Notification:
    method: str
    params: Any


@dataclass(frozen=True)
class ServerRequest:
    """The server asks the client something; answer with ``Protocol.reply``."""

    id: Any
    method: str
    params: Any


@dataclass
class Pending:
    method: str
    sent_at: float
    timeout: float | None
    uri: str | None = None
    version: int | None = None


@dataclass
class Document:
    uri: str
    language_id: str
    version: int
    text: str


@dataclass
class Protocol:
    """One client<->server conversation. ``documents`` survive into a replacement after a crash."""

    state: State = State.NOT_STARTED
    capabilities: dict = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    pending: dict[int, Pending] = field(default_factory=dict)
    # How the server counts characters. The server's ``positionEncoding`` answer wins; without one,
    # LSP says UTF-16, but a known server may be configured otherwise (pylsp counts code points).
    default_encoding: str = "utf-16"

    def __post_init__(self) -> None:
        self._out = bytearray()
        self._parser = jsonrpc.MessageParser()
        self._ids = itertools.count(1)
        self.cancelled: set[int] = set()

    # -- output ---------------------------------------------------------------------------------
    @property
    def position_encoding(self) -> str:
        answer = self.capabilities.get("positionEncoding")
        return answer if answer in ("utf-8", "utf-16", "utf-32") else self.default_encoding

    def data_to_send(self) -> bytes:
        """Take the bytes queued so far (to write to the server's stdin)."""
        data, self._out = bytes(self._out), bytearray()
        return data

    def _send(self, message: dict) -> None:
        self._out += jsonrpc.encode(message)

    # -- lifecycle ------------------------------------------------------------------------------
    def initialize(self, params: dict, now: float = 0.0, timeout: float | None = None) -> int:
        if self.state is not State.NOT_STARTED:
            raise ProtocolError(f"initialize sent twice (state: {self.state.value})")
        self.state = State.INITIALIZING
        return self._request("initialize", params, now, timeout)

    def shutdown(self, now: float = 0.0, timeout: float | None = None) -> int:
        if self.state is not State.READY:
            raise ProtocolError(f"shutdown in state {self.state.value}")
        self.state = State.SHUTTING_DOWN
        return self._request("shutdown", None, now, timeout)

    def exit(self) -> None:
        self._send({"method": "exit"})
        self.state = State.EXITED

    # -- requests -------------------------------------------------------------------------------
    def request(self, method: str, params: Any, *, now: float = 0.0, timeout: float | None = None,
                uri: str | None = None) -> int:
        """Queue a request; with ``uri`` its answer is tied to that document's current version."""
        if self.state is not State.READY:
            raise ProtocolError(f"{method} before the server is ready (state: {self.state.value})")
        version = self.documents[uri].version if uri in self.documents else None
        return self._request(method, params, now, timeout, uri, version)

    def _request(self, method: str, params: Any, now: float, timeout: float | None,
                 uri: str | None = None, version: int | None = None) -> int:
        request_id = next(self._ids)
        message: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        self.pending[request_id] = Pending(method, now, timeout, uri, version)
        return request_id

    def notify(self, method: str, params: Any = None) -> None:
        if self.state in (State.NOT_STARTED, State.EXITED):
            raise ProtocolError(f"{method} in state {self.state.value}")
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def cancel(self, request_id: int) -> bool:
        """Forget a pending request and tell the server (``$/cancelRequest``). True if it was pending."""
        if self.pending.pop(request_id, None) is None:
            return False
        self.cancelled.add(request_id)
        self._send({"method": "$/cancelRequest", "params": {"id": request_id}})
        return True

    def expired(self, now: float) -> list[int]:
        """Ids of pending requests whose timeout has passed (the caller cancels them)."""
        return [rid for rid, p in self.pending.items() if p.timeout is not None and now - p.sent_at >= p.timeout]

    def next_deadline(self) -> float | None:
        times = [p.sent_at + p.timeout for p in self.pending.values() if p.timeout is not None]
        return min(times) if times else None

    def fail_all(self) -> dict[int, Pending]:
        """The server is gone: drop and return every pending request."""
        pending, self.pending = self.pending, {}
        self.state = State.EXITED
        return pending

    def reply(self, request_id: Any, result: Any = None, error: dict | None = None) -> None:
        """Answer a ``ServerRequest``."""
        message: dict[str, Any] = {"id": request_id}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result
        self._send(message)

    # -- input ----------------------------------------------------------------------------------
    def receive(self, data: bytes) -> list[Response | Notification | ServerRequest]:
        """Feed server output; returns the events it completes (raises jsonrpc.FramingError)."""
        events: list[Response | Notification | ServerRequest] = []
        for message in self._parser.feed(data):
            event = self._handle(message)
            if event is not None:
                events.append(event)
        return events

    def _handle(self, message: dict) -> Response | Notification | ServerRequest | None:
        if "method" in message:
            if "id" in message:
                return ServerRequest(message["id"], message["method"], message.get("params"))
            return Notification(message["method"], message.get("params"))
        request_id = message.get("id")
        pending = self.pending.pop(request_id, None) if isinstance(request_id, int) else None
        if pending is None or not isinstance(request_id, int):
            self.cancelled.discard(request_id)  # late answer to a cancelled request: ignore
            return None
        error = message.get("error")
        if pending.method == "initialize" and self.state is State.INITIALIZING:
            if error is None:
                self.capabilities = (message.get("result") or {}).get("capabilities") or {}
                self.state = State.READY
                self._send({"method": "initialized", "params": {}})
            else:
                self.state = State.EXITED
        elif pending.method == "shutdown" and error is None:
            pass  # the caller sends exit
        stale = False
        if pending.uri is not None:
            doc = self.documents.get(pending.uri)
            stale = doc is None or doc.version != pending.version
        return Response(request_id, pending.method, None if stale else message.get("result"), error, stale)

    # -- documents ------------------------------------------------------------------------------
    @property
    def sync_kind(self) -> TextDocumentSyncKind:
        """None_, Full or Incremental: how the server wants document changes."""
        sync = self.capabilities.get("textDocumentSync", 0)
        if isinstance(sync, dict):
            sync = sync.get("change", 0)
        try:
            return TextDocumentSyncKind(int(sync or 0))
        except ValueError:
            return TextDocumentSyncKind.Full   # an unknown kind: the full text always works

    def did_open(self, uri: str, language_id: str, text: str, version: int = 1) -> None:
        self.documents[uri] = Document(uri, language_id, version, text)
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language_id, "version": version, "text": text}})

    def did_change(self, uri: str, text: str) -> int | None:
        """The document's text is now ``text``: send one incremental change (or the full text when
        the server wants that). Returns the new version, None when nothing changed."""
        doc = self.documents[uri]
        if text == doc.text:
            return None
        doc.version += 1
        if self.sync_kind == TextDocumentSyncKind.Full or _odd_line_breaks(doc.text) or _odd_line_breaks(text):
            changes = [{"text": text}]
        else:
            changes = [incremental_change(doc.text, text, self.position_encoding)]
        doc.text = text
        if self.sync_kind != TextDocumentSyncKind.None_:
            self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": doc.version},
                                                   "contentChanges": changes})
        return doc.version

    def did_save(self, uri: str) -> None:
        doc = self.documents.get(uri)
        if doc is None:
            return
        sync = self.capabilities.get("textDocumentSync")
        params: dict[str, Any] = {"textDocument": {"uri": uri}}
        save = sync.get("save") if isinstance(sync, dict) else None
        if isinstance(save, dict) and save.get("includeText"):
            params["text"] = doc.text
        self.notify("textDocument/didSave", params)

    def did_close(self, uri: str) -> None:
        if self.documents.pop(uri, None) is not None:
            self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


# Servers disagree on what ends a line beyond "\n" and "\r\n" (LSP adds a lone "\r"; Python
# servers using str.splitlines add \v, \f, \x1c-\x1e, \x85, \u2028, \u2029). When a text holds any
# of these, a range could be read differently, so the full text is sent instead (always valid).
_ODD = frozenset("\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _odd_line_breaks(text: str) -> bool:
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True
    return not text.isascii() and any(ch in _ODD for ch in text) or any(ch in "\v\f\x1c\x1d\x1e" for ch in text)


def incremental_change(old: str, new: str, encoding: str = "utf-16") -> dict:
    """One LSP content change turning ``old`` into ``new``: the differing middle, found by common
    prefix and suffix (O(n), exact for the single edit a keystroke or paste makes)."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # Never split a "\r\n" pair: LSP lines end after it, a range inside it is ambiguous.
    if start > 0 and old[start - 1] == "\r" and start < len(old) and old[start] == "\n":
        start -= 1
    lines = LineTable.of(old, encoding)
    s_line, s_char = lines.offset_to_lsp(start)
    e_line, e_char = lines.offset_to_lsp(end_old)
    if end_old < len(old) and old[end_old] == "\n" and end_old > 0 and old[end_old - 1] == "\r":
        # the end lies between \r and \n: extend over the \n so the range ends on a line start
        end_old += 1
        end_new = min(len(new), end_new + 1)
        e_line, e_char = lines.offset_to_lsp(end_old)
    return {"range": {"start": {"line": s_line, "character": s_char}, "end": {"line": e_line, "character": e_char}},
            "text": new[start:end_new]}
