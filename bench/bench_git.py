"""Git benchmarks on the standard corpus committed to a repository (``ctx.corpus(git=True)``).

Figures (ratios against the git command line measured in the same run):
- ``status_ratio``: full ``GitService.status_sync()`` / ``git status --porcelain`` (goal <= 1.2), with
  the shipped settings (the walk split over a thread per core); beside it ``single_walk_ratio`` (one
  thread, as before the split) and ``two_thread_ratio`` (two threads), all interleaved with git in
  the same rounds; ``load_before``/``load_after``: the machine's 1-minute load average (the split
  pays most with a spare core; ``git.status_threads_follow_load`` makes it back off on busy cores);
- ``refresh_ratio``: incremental refresh after changing one file / full ``git status`` (goal <= 0.1);
- ``max_gui_stall_ms``: longest gap of a 5 ms QTimer heartbeat on the Qt main thread while status,
  a whole-tree diff and a 300-commit log run through the git worker (goal < 50 ms).
The one file changed for the refresh figure is put back afterwards (the corpus is shared).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path


def _time(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def _time_interleaved(*fns, repeat: int = 5) -> list[float]:
    """Medians of ``fns`` run in turn, round after round, so that load from other processes on a
    shared machine falls on every side alike instead of on whichever ran during a busy moment."""
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, runs):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in runs]


def _git_status(root: Path) -> None:
    subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True, stdout=subprocess.DEVNULL)


def run(ctx) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MARIE_HOME", str(ctx.scratch / "home"))
    from marie.app import App

    root = ctx.corpus(git=True)
    # Warm both sides equally: `git status` first (it also refreshes the index's stat data, which
    # libgit2 then reads too), then one MarieIDE status (opens the repository, starts the helper).
    _git_status(root)
    results: dict = {"files": ctx.files}
    results["load_before"] = round(os.getloadavg()[0], 2)
    with App(root) as app:
        app.git.status_sync()
        # Variants through the repository's setting lookup (not the settings files: writing those
        # would put a file in the shared corpus and an fsync in the timings).
        overrides: dict = {}
        base = app.git._setting
        app.git._repo._setting = lambda key: overrides[key] if key in overrides else base(key)

        def variant(threads: int, follow: bool):
            def run_status() -> None:
                overrides.update({"git.status_threads": threads, "git.status_threads_follow_load": follow})
                app.git.status_sync()
            return run_status

        default = variant(0, bool(base("git.status_threads_follow_load")))  # the shipped settings
        single, split = variant(1, False), variant(2, False)
        for warm in (default, single, split):
            warm()
        git_s, marie_s, single_s, split_s = _time_interleaved(lambda: _git_status(root), default, single, split,
                                                              repeat=int(os.environ.get("BENCH_GIT_REPEAT", 7)))
        results.update(git_status_s=round(git_s, 4), marie_status_s=round(marie_s, 4),
                       status_ratio=round(marie_s / git_s, 3),
                       single_walk_ratio=round(single_s / git_s, 3), two_thread_ratio=round(split_s / git_s, 3))

        target = next(p for p in sorted(root.rglob("*.py")) if ".venv" not in p.parts and "node_modules" not in p.parts)
        original = target.read_bytes()
        try:
            target.write_bytes(original + b"# touched by bench_git\n")
            refresh_s = _time(lambda: app.git.refresh_sync([target]), repeat=5)
            assert target.relative_to(root).as_posix() in app.git.last_status.files
        finally:
            target.write_bytes(original)
            app.git.refresh_sync([target])
        results.update(refresh_s=round(refresh_s, 5), refresh_ratio=round(refresh_s / git_s, 4))

    results.update(_gui_stall(root))
    results["load_after"] = round(os.getloadavg()[0], 2)
    return results


def _gui_stall(root: Path) -> dict:
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher

    qt = QApplication.instance() or QApplication([])
    app = App(root, QtDispatcher())
    clock = QElapsedTimer()
    clock.start()
    state = {"last": 0, "max": 0, "left": 3}

    def beat() -> None:
        now = clock.elapsed()
        state["max"] = max(state["max"], now - state["last"])
        state["last"] = now

    def finished(_result=None) -> None:
        state["left"] -= 1

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(beat)
    timer.start()
    state["last"] = clock.elapsed()
    started = time.perf_counter()
    app.git.status(on_done=finished, on_error=finished)
    app.git.diff(on_done=finished, on_error=finished)
    app.git.log(limit=300, on_done=finished, on_error=finished)
    while state["left"] > 0 and time.perf_counter() - started < 300:
        qt.processEvents()
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    timer.stop()
    app.close()
    return {"max_gui_stall_ms": state["max"], "status_diff_log_s": round(elapsed, 3)}
