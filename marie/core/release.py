"""Freeing big structures a slice at a time, on a background thread (callable from any thread).

When the last reference to a 100,000-entry snapshot goes, CPython frees the whole thing inside one
C call: 15-25 ms during which no other thread can take the interpreter lock, so the GUI thread
stalls wherever that happens (the file tree swapping in a new snapshot, the index replacing its
own). ``release_later(obj)`` takes the reference over instead: a daemon thread waits until it holds
the last reference, then empties the object's big dicts and lists a slice at a time, so the
interpreter can switch threads between slices, and lets go of the rest.

Only what nobody else references is emptied (reference counts are checked on the object and on each
container), so an object still shared elsewhere is simply dropped by the thread like any other
reference. Containers are emptied in place: only hand over objects the caller owns outright.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any

SLICE = 2000              # items freed per slice: well under a millisecond of work
MIN_SIZE = 4 * SLICE      # smaller containers are freed in one go
_SOLE_WAIT_S = 0.5        # how long to wait for the caller to drop its own reference
_POLL_S = 0.005           # how often waiting objects are looked at again

_queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
_lock = threading.Lock()
_thread: threading.Thread | None = None


# The ownership test reads exact reference counts. CPython 3.14 may pass locals as borrowed
# references (counts one lower), so there the helper does nothing and objects are freed as usual.
ENABLED = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def release_later(obj: Any) -> None:
    """Hand ``obj`` to the release thread; the caller should drop its own references right after."""
    global _thread
    if obj is None or not ENABLED:
        return
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="marie-release", daemon=True)
            _thread.start()
    _queue.put(obj)


def _run() -> None:
    """The release thread. Objects wait in ``pending`` until the thread holds the last reference
    (then they are emptied and freed) or their grace period ends (then the thread just lets go);
    a shared object never holds up the ones behind it."""
    pending: list[list[Any]] = []                 # [obj, deadline]
    while True:
        try:
            obj = _queue.get(timeout=_POLL_S) if pending else _queue.get()
            # Handed over twice (the index and the file tree drop the same snapshot): one slot, or
            # the two would count as each other's other holder and neither would ever be sole.
            if not any(slot and slot[0] is obj for slot in pending):
                pending.append([obj, time.monotonic() + _SOLE_WAIT_S])
            obj = None
        except queue.Empty:
            pass
        now = time.monotonic()
        waiting: list[list[Any]] = []
        for slot in pending:
            if sys.getrefcount(slot[0]) <= 2:    # the slot and getrefcount's argument: ours alone
                obj = slot.pop(0)
                try:
                    _release(obj)
                except Exception:   # freeing must never kill the thread (and nobody to tell)
                    pass
                obj = None
            elif now > slot[1]:
                slot.clear()        # still shared: whoever holds it frees it later, as usual
            else:
                waiting.append(slot)
        pending = waiting


def _sole(value: Any, ours: int) -> bool:
    """True when nothing but one holder and ``ours`` references of this thread point at ``value``."""
    return sys.getrefcount(value) - 1 - ours <= 1   # -1: getrefcount's own argument


def _release(obj: Any) -> None:
    """Release thread, as the sole owner of ``obj``: empty its big containers (those it holds
    directly, and those of attribute objects only it holds), smallest first."""
    if isinstance(obj, (dict, list)):
        _empty(obj)
        return
    attrs = getattr(obj, "__dict__", None) or {}
    found: list[dict | list] = []
    for name in list(attrs):
        value = attrs[name]
        if isinstance(value, (dict, list)):
            found.append(value)
        elif hasattr(value, "__dict__") and not isinstance(value, type) and _sole(value, 1):
            inner_attrs = vars(value)
            for inner_name in list(inner_attrs):
                inner = inner_attrs[inner_name]
                if isinstance(inner, (dict, list)) and _sole(inner, 1):
                    found.append(inner)
                inner = None
        value = None
    # Indexes over the entries (tuples of shared items) go before the entries themselves.
    found.sort(key=len, reverse=True)
    while found:
        container = found.pop()
        if len(container) >= MIN_SIZE and _sole(container, 1):
            _empty(container)
        container = None


def _empty(container: dict | list) -> None:
    """Free the items a slice at a time. A dict's keys and values are moved into lists first (a
    quick C pass that frees nothing), so each slice is one C-level ``del`` rather than a Python
    loop of ``popitem`` calls: the same total work as a plain free, cut into pieces."""
    if isinstance(container, dict):
        parts = [list(container), list(container.values())]
        container.clear()
    else:
        parts = [container]
    for part in parts:
        while part:
            del part[-SLICE:]
            time.sleep(0)   # let a waiting thread (the GUI) take the interpreter
