"""Shared pieces of the HTTP providers: SSE parsing, status-code -> structured error, the producer
thread, and ``stream_post`` (POST, read the event stream on a helper thread, hand the pieces to the caller)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Iterator

import httpx

from marie.ai import errors
from marie.ai.keys import redact
from marie.ai.provider import Stream, pump
from marie.ai.types import Usage


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """Server-sent events from text lines: yields (event name or "", data)."""
    event, data = "", []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def parse_json(data: str, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise errors.BadResponse(f"{what} sent a malformed event (not JSON): {data[:80]!r}") from None


def error_for_status(status: int, body: str, what: str, provider: str, retry_after: str | None = None,
                     key: str | None = None) -> errors.AIError:
    """Map an HTTP failure to the structured error a user understands."""
    detail = ""
    try:
        payload = json.loads(body)
        err = payload.get("error", payload) if isinstance(payload, dict) else {}
        if isinstance(err, dict):
            detail = str(err.get("message") or err.get("type") or "")
        elif isinstance(err, str):
            detail = err
    except ValueError:
        detail = body.strip()[:200]
    detail = redact(detail, key)
    suffix = f": {detail}" if detail else ""
    if status in (401, 403):
        return errors.AuthError(f"{what} refused the API key (HTTP {status}){suffix}. Check the key for "
                                f"{provider!r}.", provider=provider, status=status)
    if status == 429 or status == 529:
        try:
            after = float(retry_after) if retry_after else None
        except ValueError:
            after = None
        wait = f" Retry after {after:.0f} s." if after else ""
        return errors.RateLimited(f"{what} is rate-limiting or overloaded (HTTP {status}){suffix}.{wait}",
                                  provider=provider, status=status, retry_after=after)
    if status == 404:
        return errors.ModelMissing(f"{what} does not know this model or endpoint (HTTP 404){suffix}",
                                   provider=provider, status=status)
    low = detail.lower()
    if status in (400, 413, 422) and ("context" in low or "too long" in low or "maximum" in low and "token" in low):
        return errors.ContextTooLong(f"The prompt is too long for this model{suffix}", provider=provider, status=status)
    if status >= 500:
        return errors.ServerDown(f"{what} failed on its side (HTTP {status}){suffix}. Try again later.",
                                 provider=provider, status=status)
    return errors.AIError(f"{what} rejected the request (HTTP {status}){suffix}", provider=provider, status=status)


def connect_error(exc: Exception, what: str, url: str, provider: str) -> errors.AIError:
    if isinstance(exc, httpx.TimeoutException):
        return errors.ServerDown(f"{what} at {url} did not answer in time ({type(exc).__name__}).", provider=provider)
    return errors.ServerDown(f"{what} at {url} cannot be reached ({type(exc).__name__}: {exc}). Is it running?",
                             provider=provider)


def start_producer(target: Callable[[Stream], None], stream: Stream, name: str) -> None:
    """Run ``target(stream)`` on a daemon thread; it must end the stream (errors are forwarded)."""

    def run() -> None:
        try:
            target(stream)
        except BaseException as exc:  # forwarded to the consumer, which raises it on its own thread
            stream.fail(exc)
        finally:
            stream.end()

    threading.Thread(target=run, daemon=True, name=name).start()


# An SSE handler: ``handle(stream, event, data) -> bool`` puts text/meta on ``stream`` and returns
# True when the final event arrived (the stream is complete); it raises AIError subclasses for errors.
EventHandler = Callable[[Stream, str, str], bool]


def stream_post(provider: str, url: str, body: dict, headers: dict, *, key: str | None, timeout: float,
                what: str, base_url: str, handle: EventHandler, unfinished: str, token: Any,
                on_text: Callable[[str], None] | None) -> tuple[str, dict]:
    """POST ``body`` as JSON and feed each server-sent event to ``handle``; returns (text, meta).

    Blocking (worker thread); the socket is read on a helper thread so that cancelling ``token``
    closes the response at once. HTTP failures become the structured errors of ``error_for_status``
    and ``connect_error``; a stream that ends before ``handle`` saw its final event raises
    ``BadResponse(unfinished)``.
    """
    responses: list[httpx.Response] = []

    def produce(stream: Stream) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))) as client:
                with client.stream("POST", url, json=body, headers=headers) as response:
                    responses.append(response)
                    if response.status_code >= 400:
                        text = response.read().decode("utf-8", "replace")
                        raise error_for_status(response.status_code, text, what, provider,
                                               response.headers.get("retry-after"), key)
                    finished = False
                    for event, data in sse_events(response.iter_lines()):
                        if stream.stopped.is_set():
                            return
                        if handle(stream, event, data):
                            finished = True
                            break
                    if not finished and not stream.stopped.is_set():
                        raise errors.BadResponse(unfinished, provider=provider)
        except httpx.HTTPError as exc:
            if stream.stopped.is_set():
                return
            raise connect_error(exc, what, base_url, provider) from None

    stream = Stream()
    start_producer(produce, stream, f"marie-ai-{provider}")
    return pump(stream, token, on_text, timeout, what, on_cancel=lambda: [r.close() for r in responses])


def usage_of(meta: dict, started: float) -> Usage:
    """The ``Usage`` of a streamed answer from the meta a handler collected."""
    return Usage(prompt_tokens=int(meta.get("prompt_tokens", 0)),
                 completion_tokens=int(meta.get("completion_tokens", 0)),
                 cached_tokens=int(meta.get("cached_tokens", 0)),
                 cache_write_tokens=int(meta.get("cache_write_tokens", 0)),
                 latency_s=time.perf_counter() - started)
