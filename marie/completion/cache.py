"""Answers remembered by prefix, so some keystrokes need no model at all.

An entry is (document key, text before the caret, text after it on the line, suggestion). A later
caret whose prefix lies between the entry's prefix and the entry's prefix + suggestion is served the
rest of the suggestion: typing through it, backspace-then-retype, and accept-a-word-then-continue
all hit. Small (LRU, ``size`` entries). Any thread (one lock).
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class PrefixCache:
    def __init__(self, size: int = 64) -> None:
        self.size = max(1, size)
        self._entries: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def put(self, doc: str, prefix: str, rest_of_line: str, suggestion: str) -> None:
        if not suggestion:
            return
        key = (doc, prefix, rest_of_line)
        with self._lock:
            self._entries[key] = suggestion
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get(self, doc: str, prefix: str, rest_of_line: str) -> str | None:
        """The suggestion for this caret, or None. An exact entry wins; otherwise the newest entry
        whose answer this prefix continues (its remaining text must not be empty)."""
        with self._lock:
            exact = self._entries.get((doc, prefix, rest_of_line))
            if exact is not None:
                self._entries.move_to_end((doc, prefix, rest_of_line))
                self.hits += 1
                return exact
            n = len(prefix)
            for (d, p, rest), suggestion in reversed(self._entries.items()):
                if d != doc or rest != rest_of_line or not (len(p) < n < len(p) + len(suggestion)):
                    continue
                typed = prefix[len(p):]
                if prefix.startswith(p) and suggestion.startswith(typed):
                    self.hits += 1
                    return suggestion[len(typed):]
            self.misses += 1
            return None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
