"""Free cores now (marie/core/cpu_load.py): read from the kernel's runnable count, and the thread
counts that follow from it for libgit2 (one spare thread) and llama.cpp (none)."""

from __future__ import annotations

import sys
import threading

import marie.core.cpu_load as cpu_load


def test_others_running_sees_a_busy_thread():
    if not sys.platform.startswith("linux"):
        assert cpu_load.others_running() is not None
        return
    stop = threading.Event()
    burners = [threading.Thread(target=lambda: [0 for _ in iter(lambda: stop.is_set(), True)], daemon=True)
               for _ in range(2)]
    quiet = cpu_load.others_running()
    for burner in burners:
        burner.start()
    try:
        # Two spinning threads are runnable (they share the GIL, but the kernel counts both as ready).
        busy = max(cpu_load.others_running() for _ in range(20))
    finally:
        stop.set()
        for burner in burners:
            burner.join()
    assert quiet is not None and busy is not None and busy >= 1


def test_thread_counts_follow_the_free_cores(monkeypatch):
    monkeypatch.setattr(cpu_load.os, "cpu_count", lambda: 2)
    for others, git, llama in ((0.0, 3, 2), (1.0, 2, 1), (2.0, 1, 1), (5.0, 1, 1)):
        monkeypatch.setattr(cpu_load, "others_running", lambda others=others: others)
        assert cpu_load.threads_for_load(4) == git
        assert cpu_load.threads_for_load(2, spare=0.5) == llama
    monkeypatch.setattr(cpu_load, "others_running", lambda: None)
    assert cpu_load.threads_for_load(4) == 4
