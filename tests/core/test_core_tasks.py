import threading
import time
from pathlib import Path

import pytest

from marie.core.dispatch import QueueDispatcher
from marie.core.event_types import FileSaved, Notice
from marie.core.events import EventBus
from marie.core.tasks import Cancelled, TaskRunner


def test_results_arrive_on_the_dispatcher_thread():
    dispatcher = QueueDispatcher()
    runner = TaskRunner(dispatcher)
    seen = {}

    def work(ctx, x):
        seen["worker"] = threading.get_ident()
        return x * 2

    runner.submit(work, 21, on_done=lambda r: seen.update(result=r, thread=threading.get_ident()))
    assert dispatcher.run_until(lambda: "result" in seen, timeout=5)
    assert seen["result"] == 42
    assert seen["thread"] == threading.get_ident() != seen["worker"]
    runner.shutdown()


def test_cancel_stops_a_long_task_and_reports_state():
    runner = TaskRunner()
    started = threading.Event()

    def loop(ctx):
        started.set()
        while True:
            ctx.check()
            time.sleep(0.005)

    task = runner.submit(loop)
    assert started.wait(2)
    task.cancel()
    with pytest.raises(Cancelled):
        task.result(timeout=2)
    assert task.state == "cancelled"
    runner.shutdown()


def test_named_worker_runs_everything_on_one_thread_in_order():
    runner = TaskRunner()
    threads, order = set(), []

    def job(ctx, i):
        threads.add(threading.get_ident())
        order.append(i)

    tasks = [runner.submit(job, i, worker="git") for i in range(20)]
    for t in tasks:
        t.result(timeout=5)
    assert len(threads) == 1 and order == list(range(20))
    runner.shutdown()


def test_errors_reach_on_error_and_progress_is_reported():
    runner = TaskRunner()
    errors, progress = [], []

    def job(ctx):
        for i in range(3):
            ctx.progress(i + 1, 3, "step", force=True)
        raise ValueError("bad input")

    task = runner.submit(job, on_error=errors.append, on_progress=progress.append)
    with pytest.raises(ValueError):
        task.result(timeout=5)
    assert task.state == "failed" and isinstance(errors[0], ValueError)
    assert [p.done for p in progress] == [1, 2, 3] and progress[-1].fraction == 1.0
    runner.shutdown()


def test_cancel_callbacks_run_once():
    from marie.core.tasks import CancelToken

    token, calls = CancelToken(), []
    token.on_cancel(lambda: calls.append(1))
    token.cancel()
    token.cancel()
    token.on_cancel(lambda: calls.append(2))
    assert calls == [1, 2]


def test_event_bus_delivers_through_dispatcher():
    dispatcher = QueueDispatcher()
    bus = EventBus(dispatcher)
    got = []
    unsubscribe = bus.on(FileSaved, lambda event: got.append(event.path))
    bus.publish(FileSaved(Path("a.py")))
    bus.publish(Notice("not a save"))                 # another class: not delivered to this handler
    assert got == []  # not until the owning thread drains
    dispatcher.drain()
    assert got == [Path("a.py")]
    unsubscribe()
    unsubscribe()                                     # twice is harmless
    bus.publish(FileSaved(Path("b.py")))
    dispatcher.drain()
    assert got == [Path("a.py")]


def test_event_bus_delivers_subclasses_to_base_class_handlers():
    from marie.core.event_types import Event

    bus = EventBus()
    seen: list[object] = []
    bus.on(Event, seen.append)
    bus.notice("hello", "warning")
    assert seen == [Notice("hello", "warning")]


def test_event_bus_refuses_strings_and_classes():
    bus = EventBus()
    with pytest.raises(TypeError):
        bus.on("file.saved", print)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bus.publish(FileSaved)
    assert not hasattr(bus, "emit") and not hasattr(bus, "subscribe")  # the string API is gone


def test_submit_after_shutdown_is_a_cancelled_task_not_an_error():
    runner = TaskRunner()
    runner.shutdown()
    ran = []
    task = runner.submit(lambda ctx: ran.append(1), on_done=ran.append)
    assert task.state == "cancelled" and task.token.cancelled and ran == []
