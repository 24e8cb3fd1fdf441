"""How many cores are free right now, for work that scales with cores but collapses when it has to
share them (libgit2's split status walk, llama.cpp's prompt processing). Any thread; no I/O but
``/proc/stat``.
"""

from __future__ import annotations

import os
import time


def others_running() -> float | None:
    """Other runnable tasks right now (Linux ``procs_running``, sampled three times within a
    millisecond, the smallest kept, so programs that run only for an instant do not count); elsewhere
    the 1-minute load average; None when neither is known."""
    try:
        samples = []
        for attempt in range(3):
            with open("/proc/stat", "rb") as stat:
                for line in stat:
                    if line.startswith(b"procs_running "):
                        samples.append(int(line.split()[1]) - 1)  # not counting this thread
                        break
            if attempt < 2:
                time.sleep(0.0005)
        if samples:
            return float(min(samples))
    except (OSError, ValueError):
        pass
    if hasattr(os, "getloadavg"):
        return os.getloadavg()[0]
    return None


def threads_for_load(parts: int, spare: float = 1.5) -> int:
    """At most ``parts`` threads, fewer while other programs keep the cores busy: the idle cores
    plus ``spare`` (rounded down), at least one.

    ``spare`` is what a thread beyond the idle cores is worth. libgit2's status walk (1.5): measured
    on a 2-core machine, with a core idle two threads take 0.6-0.8x the single walk's time, with both
    cores taken 1.0-1.2x, so one extra thread costs little. llama.cpp (0.5): its OpenMP threads wait
    for each other at every layer, so a thread that must share a core stalls the others; measured in
    bench/bench_llama_build.py, two prompt threads with the other core busy took 1.8x one thread.
    """
    if parts <= 1:
        return max(1, parts)
    cores = os.cpu_count() or 1
    others = others_running()
    if others is None:
        return parts
    return max(1, min(parts, int(cores - others + spare)))
