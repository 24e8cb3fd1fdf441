"""One editor's completion requests: debounced, cancelled by the next keystroke, one in flight,
stale answers dropped by document version, cache hits answered at once.

The owner (the editor's ghost-text feature, or a test) calls ``request(state)`` after every edit or
caret move and gets ``on_suggestion(Suggestion)`` / ``on_skip(reason)`` back through the app's
dispatcher. The debounce is a wait on the request's cancel token on the "completion" worker, so the
next keystroke ends it at once and no timer is needed. Methods: the owner's thread (the GUI thread).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from marie.ai import errors
from marie.completion.service import CompletionService, Skipped, Suggestion
from marie.completion.trim import tail_allows_completion
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)
WORKER = "completion"


@dataclass(frozen=True)
class DocState:
    """The editor at one moment: ``caret`` is a character offset into ``text``."""

    text: str
    caret: int
    version: int
    path: str
    language: str


class CompletionEngine:
    def __init__(self, service: CompletionService, on_suggestion: Callable[[Suggestion], None],
                 on_skip: Callable[[str], None] | None = None) -> None:
        self.service = service
        self.app = service.app
        self.on_suggestion = on_suggestion
        self.on_skip = on_skip or (lambda reason: None)
        self.version = -1          # the newest version asked about; older answers are dropped
        self._token: CancelToken | None = None
        self._memo: dict = {}      # snippet choice per caret region (keeps the prompt's head stable)
        self.requests = 0          # requests that reached the worker (tests and the benchmark read it)
        self.dropped = 0           # answers that arrived for an older version

    @property
    def in_flight(self) -> bool:
        return self._token is not None and not self._token.cancelled

    def cancel(self) -> None:
        """Forget the pending request (the next keystroke, Escape, a closed editor)."""
        token, self._token = self._token, None
        if token is not None:
            token.cancel()

    def request(self, state: DocState, others: list[tuple[str, str]] | tuple = (), *, immediate: bool = False) -> None:
        """Ask for a suggestion at ``state``: a cache hit is delivered now, otherwise a request
        starts after the debounce (``immediate``: at once, e.g. right after accepting one)."""
        self.cancel()
        self.version = state.version
        caret = max(0, min(state.caret, len(state.text)))
        line_end = state.text.find("\n", caret)
        rest = state.text[caret: line_end if line_end >= 0 else len(state.text)]
        if not tail_allows_completion(rest):
            return
        hit = self.service.cache.get(state.path, state.text[:caret], rest)
        if hit is not None:
            self.on_suggestion(Suggestion(hit, caret, state.version, "cache"))
            return
        token = self._token = CancelToken()
        delay = 0.0 if immediate else max(0.0, float(self.service.settings.get("completion.debounce_ms")) / 1000)
        version = state.version
        post = self.app.dispatcher.post

        # Streamed pieces reach the GUI thread coalesced: while one is waiting to be shown, a newer
        # one replaces it instead of queueing behind it (each shown piece repaints the editor).
        waiting: list[Suggestion | None] = [None]
        lock = threading.Lock()

        def show_newest() -> None:
            with lock:
                newest, waiting[0] = waiting[0], None
            if newest is not None:
                self._deliver(newest, token)

        def partial(suggestion: Suggestion) -> None:
            with lock:
                posted, waiting[0] = waiting[0] is not None, suggestion
            if not posted:
                post(show_newest)

        def work(ctx: Any) -> Suggestion:
            if delay and token.wait(delay):
                raise Cancelled()
            self.requests += 1
            context = self.service.context_at(state.text, caret, state.path, state.language, others, self._memo)
            return self.service.complete_at(context, version, token, on_partial=partial)

        def failed(exc: BaseException) -> None:
            if token.cancelled or version != self.version:
                return
            self._token = None
            if isinstance(exc, Skipped):
                self.on_skip(exc.reason)
            elif isinstance(exc, errors.AIError):
                self.on_skip(str(exc))
            else:
                log.error("completion failed", exc_info=exc)

        def done(suggestion: Suggestion) -> None:
            if self._token is token:
                self._token = None
            self._deliver(suggestion, token)

        self.app.tasks.submit(work, name="inline completion", worker=WORKER, token=token,
                              on_done=done, on_error=failed, quiet=True)

    def _deliver(self, suggestion: Suggestion, token: CancelToken) -> None:
        if token.cancelled or suggestion.version != self.version:
            self.dropped += 1
            return
        self.on_suggestion(suggestion)
