"""A small publish/subscribe bus for typed cross-package events (``marie.core.event_types``).

``bus.on(IndexChanged, handler)`` subscribes to a class (and its subclasses); ``bus.publish(event)``
delivers the event object to each handler through the dispatcher given at construction, so a GUI
handler always runs on the GUI thread whatever thread published. ``publish`` may be called from any
thread.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Callable, TypeVar

from marie.core.dispatch import Dispatcher, InlineDispatcher
from marie.core.event_types import Notice, NoticeLevel

E = TypeVar("E")


class EventBus:
    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        self.dispatcher = dispatcher or InlineDispatcher()
        self._handlers: dict[type, list[Callable[[Any], Any]]] = defaultdict(list)
        self._lock = threading.Lock()

    def on(self, kind: type[E], handler: Callable[[E], Any]) -> Callable[[], None]:
        """Call ``handler(event)`` for every published event of class ``kind`` (or a subclass).

        Returns the unsubscribe function (safe to call twice). Any thread.
        """
        if not isinstance(kind, type):
            raise TypeError(f"subscribe to an event class, not {kind!r}")
        with self._lock:
            self._handlers[kind].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers[kind]:
                    self._handlers[kind].remove(handler)

        return unsubscribe

    def publish(self, event: object) -> None:
        """Deliver ``event`` to the handlers of its class and of its base classes. Any thread."""
        if isinstance(event, type):
            raise TypeError(f"publish an event object, not the class {event.__name__}")
        with self._lock:
            handlers = [h for cls in type(event).__mro__ for h in self._handlers.get(cls, ())]
        for handler in handlers:
            self.dispatcher.post(handler, event)

    def notice(self, message: str, level: NoticeLevel = "info") -> None:
        """Tell the user something (status bar in the GUI, stderr in the CLI). Any thread."""
        self.publish(Notice(message, level))
