"""JSON-RPC 2.0 message framing as used by LSP over stdio: ``Content-Length`` headers, a blank line,
then a UTF-8 JSON body. Pure functions and a byte-fed parser; no I/O, safe to test without a process.
"""

from __future__ import annotations

import json
from typing import Any


class FramingError(ValueError):
    """The peer sent bytes that are not a valid LSP frame (bad header, bad JSON)."""


def encode(message: dict[str, Any]) -> bytes:
    """One framed message (adds ``"jsonrpc": "2.0"``)."""
    body = json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class MessageParser:
    """Accumulates bytes and returns complete messages. Not thread-safe: one reader feeds it."""

    MAX_BODY = 256 * 1024 * 1024  # a server claiming more is broken; refuse rather than allocate

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._length: int | None = None

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Add bytes; return every message now complete (raises FramingError on garbage)."""
        self._buffer += data
        messages: list[dict[str, Any]] = []
        while True:
            if self._length is None:
                end = self._buffer.find(b"\r\n\r\n")
                if end == -1:
                    if len(self._buffer) > 65536:
                        raise FramingError("no LSP header end found in 64 KiB of output")
                    return messages
                self._length = self._parse_headers(bytes(self._buffer[:end]))
                del self._buffer[: end + 4]
            if len(self._buffer) < self._length:
                return messages
            body = bytes(self._buffer[: self._length])
            del self._buffer[: self._length]
            self._length = None
            try:
                message = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise FramingError(f"message body is not UTF-8 JSON: {exc}") from None
            if not isinstance(message, dict):
                raise FramingError("message body is not a JSON object")
            messages.append(message)

    def _parse_headers(self, raw: bytes) -> int:
        length = None
        for line in raw.split(b"\r\n"):
            if not line.strip():
                continue
            name, sep, value = line.partition(b":")
            if not sep:
                raise FramingError(f"bad header line {line[:80]!r}")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise FramingError(f"bad Content-Length {value[:40]!r}") from None
        if length is None or length < 0 or length > self.MAX_BODY:
            raise FramingError("missing or invalid Content-Length header")
        return length
