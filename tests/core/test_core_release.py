"""marie.core.release: big structures freed in slices on the release thread, and never emptied while
something else still holds them."""

from __future__ import annotations

import threading
import time
import weakref

import pytest

from marie.core import release

# Where the ownership test cannot be trusted (CPython 3.14+), release_later does nothing by design.
pytestmark = pytest.mark.skipif(not release.ENABLED, reason="release thread is off on this interpreter")


class Holder:
    def __init__(self, items: dict | None = None, rows: list | None = None):
        self.items = items if items is not None else {f"path/{i}": object() for i in range(50_000)}
        self.rows = rows if rows is not None else [object() for _ in range(30_000)]


class Inner:
    def __init__(self):
        self.kinds = {f"k{i}": i for i in range(20_000)}


class Outer:
    def __init__(self, inner: Inner):
        self.inner = inner


def _wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_a_handed_over_object_is_freed():
    holder = Holder()
    gone = threading.Event()
    ref = weakref.ref(holder, lambda _r: gone.set())
    release.release_later(holder)
    del holder
    assert gone.wait(10) and ref() is None


def test_containers_referenced_from_outside_are_left_alone():
    holder = Holder()
    items, rows = holder.items, holder.rows   # watched from outside: then they are shared...
    release.release_later(holder)
    del holder
    time.sleep(release._SOLE_WAIT_S + 0.2)
    # ...and so left alone: only what nobody else references is emptied.
    assert len(items) == 50_000 and len(rows) == 30_000


def test_an_object_still_held_elsewhere_is_not_touched():
    holder = Holder()
    release.release_later(holder)             # the caller keeps it: the thread gives up
    time.sleep(release._SOLE_WAIT_S + 0.3)
    assert len(holder.items) == 50_000 and len(holder.rows) == 30_000


def test_a_container_shared_with_another_object_survives():
    shared = {f"k{i}": i for i in range(40_000)}
    first, second = Holder(items=shared, rows=[]), Holder(items=shared, rows=[])
    del shared
    gone = threading.Event()
    ref = weakref.ref(first, lambda _r: gone.set())
    release.release_later(first)
    del first
    assert gone.wait(10) and ref() is None
    assert len(second.items) == 40_000


def test_an_inner_object_shared_with_another_holder_survives():
    inner = Inner()
    kept = Outer(inner)
    released = Outer(inner)
    del inner
    gone = threading.Event()
    ref = weakref.ref(released, lambda _r: gone.set())
    release.release_later(released)
    del released
    assert gone.wait(10) and ref() is None
    assert len(kept.inner.kinds) == 20_000


def test_emptying_lets_other_threads_run():
    # The point of slicing: while a big dict is freed, another thread keeps getting the interpreter.
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    big = {i: [i] for i in range(300_000)}
    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        time.sleep(0.02)
        before = len(ticks)
        release._empty(big)
        during = len(ticks) - before
    finally:
        stop.set()
        thread.join()
    assert big == {}
    assert during >= 2      # in one C call (``big.clear()``) the ticker could not run at all


class Item:
    pass


@pytest.mark.parametrize("handovers", [1, 2])   # 2: e.g. the index and the file tree drop one snapshot
def test_the_items_are_freed_on_the_release_thread_not_the_callers(handovers):
    freed_on: set[str] = set()
    items = {i: Item() for i in range(20_000)}
    refs = [weakref.ref(v, lambda _r: freed_on.add(threading.current_thread().name)) for v in items.values()]
    holder = Holder(items=items, rows=[])
    del items
    for _ in range(handovers):
        release.release_later(holder)
    del holder
    assert _wait(lambda: all(r() is None for r in refs))
    assert freed_on == {"marie-release"}


def test_a_shared_object_does_not_hold_up_the_ones_behind_it(monkeypatch):
    monkeypatch.setattr(release, "_SOLE_WAIT_S", 8.0)   # a long grace: being blocked would show
    kept = Holder(rows=[])
    release.release_later(kept)                # shared: waits out its grace period
    free = Holder(rows=[])
    gone = threading.Event()
    ref = weakref.ref(free, lambda _r: gone.set())
    release.release_later(free)
    del free
    started = time.monotonic()
    assert gone.wait(10) and ref() is None
    assert time.monotonic() - started < 6.0     # not behind kept's 8 s grace period
    assert len(kept.items) == 50_000
