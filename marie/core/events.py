"""A small publish/subscribe bus for cross-package notifications (file saved, index changed, ...).

Handlers are called through the dispatcher given at construction, so a GUI handler always runs on
the GUI thread whatever thread emitted the event. ``emit`` may be called from any thread.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Callable

from marie.core.dispatch import Dispatcher, InlineDispatcher

Handler = Callable[..., Any]

# Well-known event names; packages may add their own (use "package.event").
FILE_SAVED = "file.saved"                # path: Path
FILES_WRITTEN = "files.written"          # paths: list[Path], label: str  (the single write path)
INDEX_CHANGED = "index.changed"          # snapshot, changes
SETTINGS_CHANGED = "settings.changed"    # keys: set[str]
NOTICE = "notice"                        # message: str, level: "info" | "warning" | "error"


class EventBus:
    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        self.dispatcher = dispatcher or InlineDispatcher()
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, name: str, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers[name].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers[name]:
                    self._handlers[name].remove(handler)

        return unsubscribe

    def emit(self, name: str, **payload: Any) -> None:
        with self._lock:
            handlers = list(self._handlers.get(name, ()))
        for handler in handlers:
            self.dispatcher.post(lambda h=handler: h(**payload))

    def notice(self, message: str, level: str = "info") -> None:
        """Tell the user something (status bar in the GUI, stderr in the CLI)."""
        self.emit(NOTICE, message=message, level=level)
