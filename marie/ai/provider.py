"""The provider interface and the stream pump shared by every provider.

A provider turns a ``ChatRequest`` into streamed text. Providers produce events on a helper thread
(a socket read or a worker-process pipe may block); ``pump`` consumes them on the *calling* thread,
so ``on_text`` runs where the caller expects and cancellation returns at once (the caller stops
waiting; the producer is told to stop and winds down on its own).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from marie.ai.errors import AIError, ServerDown
from marie.ai.types import Capabilities, ChatRequest, ToolCall, Usage
from marie.core.tasks import Cancelled, CancelToken


@dataclass
class Result:
    """What a provider returns; the service adds routing notes and cost."""

    text: str
    usage: Usage
    model: str
    ttft_s: float | None = None
    finish: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    # What the user should know about how this answer was made (e.g. "retried in safe mode").
    notes: list[str] = field(default_factory=list)


class Provider:
    """Base class. ``name`` is the routing name ("local", "openai", "anthropic", or a custom one)."""

    name: str = ""
    local: bool = False

    def capabilities(self, model: str) -> Capabilities:
        raise NotImplementedError

    def complete(self, request: ChatRequest, model: str, token: CancelToken | None,
                 on_text: Callable[[str], None] | None) -> Result:
        """Blocking; call on a worker thread. Raises AIError subclasses or Cancelled."""
        raise NotImplementedError

    def count_tokens(self, text: str, model: str) -> int:
        # Remote providers have no tokenizer here: about four characters per token for English and code.
        return max(1, (len(text) + 3) // 4) if text else 0

    def close(self) -> None:
        pass


_END = object()


class Stream:
    """A queue of ("text", str) / ("usage", dict) / ("error", AIError) items from a producer thread."""

    def __init__(self) -> None:
        self.items: queue.Queue = queue.Queue()
        self.stopped = threading.Event()  # set when the consumer no longer wants items

    def text(self, piece: str) -> None:
        self.items.put(("text", piece))

    def meta(self, **values: Any) -> None:
        self.items.put(("meta", values))

    def fail(self, error: BaseException) -> None:
        self.items.put(("error", error))

    def end(self) -> None:
        self.items.put(("end", None))

    def wake(self) -> None:
        self.items.put(("wake", None))


def pump(stream: Stream, token: CancelToken | None, on_text: Callable[[str], None] | None,
         timeout_s: float, what: str, on_cancel: Callable[[], None] | None = None) -> tuple[str, dict]:
    """Consume ``stream`` on this thread until it ends; returns (text, meta).

    Raises ``Cancelled`` as soon as ``token`` is cancelled, ``ServerDown`` when nothing arrives for
    ``timeout_s`` seconds, or the producer's error.
    """
    pieces: list[str] = []
    meta: dict = {}
    started = time.perf_counter()
    if token is not None:
        token.on_cancel(stream.wake)
    try:
        while True:
            if token is not None and token.cancelled:
                raise Cancelled()
            try:
                kind, value = stream.items.get(timeout=timeout_s)
            except queue.Empty:
                raise ServerDown(f"{what} sent nothing for {timeout_s:.0f} s (timed out); "
                                 "is it overloaded? Try again or pick another model.") from None
            if kind == "text":
                if "ttft_s" not in meta:
                    meta["ttft_s"] = time.perf_counter() - started
                pieces.append(value)
                if on_text:
                    on_text(value)
            elif kind == "meta":
                meta.update(value)
            elif kind == "error":
                if isinstance(value, (AIError, Cancelled)):
                    raise value
                raise AIError(f"{what} failed: {value}") from value
            elif kind == "end":
                return "".join(pieces), meta
            # "wake": loop to re-check the token
    except BaseException:
        stream.stopped.set()
        if on_cancel:
            on_cancel()
        raise
