"""Checkpoint benchmarks on the standard tree: first checkpoint, no-op and incremental checkpoints
(1 and 100 changed files; goal <= 50 ms at 100k files) both without an index (a full stat walk, as
the CLI does) and with a live index whose watcher feeds the dirty set (as the GUI does), restore of 100 files against writing the same
100 files directly with ``marie.core.atomic`` (goal <= 2x), and the store size.

Peers measured in the same run: a bare ``os.walk`` + ``lstat`` of the tree (the least any stat-based
change check can cost) and direct atomic writes. The corpus is hard-link copied into the scratch
folder and changed only through atomic writes (new inodes), so the shared cached corpus stays intact.
``store_vs_corpus``: objects are zlib-compressed where that pays (setting ``checkpoints.compress``).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - started, value


def _walk_lstat(root: Path) -> int:
    n = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            os.lstat(os.path.join(folder, name))
            n += 1
    return n


def run(ctx) -> dict:
    os.environ["MARIE_HOME"] = str(ctx.scratch / "home")
    from marie.app import App
    from marie.core import atomic

    corpus = ctx.corpus(git=False)
    root = ctx.scratch / "ws"
    subprocess.run(["cp", "-al", str(corpus), str(root)], check=True)
    all_files = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    corpus_bytes = sum(p.stat().st_size for p in all_files)
    out: dict = {"files_on_disk": len(all_files), "corpus_bytes": corpus_bytes}

    # The stat cache ignores files modified in the last 2 s ("racy"): age the copy's mtimes first.
    old = time.time_ns() - 60_000_000_000
    app = App(root)
    cps = app.checkpoints
    # The first checkpoint ends in one syncfs(2), which also flushes whatever else is dirty on the
    # filesystem (a fresh venv install just before made it take 18-24 s instead of ~5 s): start clean.
    os.sync()
    out["first_checkpoint_s"], first = _timed(cps.create, label="first")
    items = cps.items(first)
    files = [root / rel for rel, item in sorted(items.items()) if item.kind == "f"]
    out["checkpointed_files"] = len(items)
    out["store_bytes"] = cps.store_size()
    out["store_vs_corpus"] = round(out["store_bytes"] / max(1, corpus_bytes), 3)
    # Without a live index, in a process that walked before (the memo of unchanged files and
    # unchanged ignore rules applies), interleaved with the bare walk: medians of three each.
    walks, bare = [], []
    for n in range(3):
        walks.append(_timed(cps.create, label=f"unchanged {n}")[0])
        bare.append(_timed(_walk_lstat, root)[0])
    out["noop_checkpoint_walk_s"] = sorted(walks)[1]
    walk_s = out["peer_walk_lstat_s"] = sorted(bare)[1]
    out["noop_walk_vs_bare_walk"] = round(out["noop_checkpoint_walk_s"] / walk_s, 2)
    # A fresh process (the CLI): stat cache from disk, every ignore rule decided, trees rebuilt.
    cli = App(root)
    out["cli_noop_checkpoint_s"], _ = _timed(cli.checkpoints.create, label="unchanged (cli)")
    cli.close()

    def change(n: int, tag: str) -> list[Path]:
        chosen = files[:: max(1, len(files) // n)][:n]
        for p in chosen:
            atomic.write_bytes(p, p.read_bytes() + f"\n# {tag}\n".encode())
            os.utime(p, ns=(old, old + hash(tag) % 1000))
        return chosen

    # Without a live index (the CLI): every checkpoint is a full stat walk.
    change(1, "one")
    out["walk_incremental_1_file_s"], _ = _timed(cps.create, label="one file (walk)")

    # With a live index (the GUI): its watcher feeds the dirty set, a checkpoint re-stats only that.
    started = time.perf_counter()
    app.index.start()
    time.sleep(0.5)
    app.index.wait_idle(600)
    out["index_start_s"] = time.perf_counter() - started

    def settle() -> None:
        time.sleep(0.3)                # the kernel's events reach the watcher, then its debounce
        app.index.wait_idle(60)

    out["live_baseline_s"], _ = _timed(cps.create, label="baseline (live)")
    out["noop_checkpoint_live_s"], _ = _timed(cps.create, label="unchanged (live)")
    out["noop_mode"] = cps.last_mode
    change(1, "one-live")
    settle()
    out["incremental_1_file_s"], _ = _timed(cps.create, label="one file")
    out["incremental_1_mode"] = cps.last_mode
    touched = change(100, "hundred")
    settle()
    base = cps.create(label="hundred files")
    change(100, "hundred-2")
    settle()
    out["incremental_100_files_s"], _ = _timed(cps.create, label="hundred again")
    out["incremental_100_mode"] = cps.last_mode
    out["incremental_vs_walk"] = round(out["incremental_1_file_s"] / walk_s, 3)

    # The figures above are taken while the index's symbol indexer (started after its scan, not
    # covered by wait_idle) parses the tree on another thread: every syscall of a checkpoint gives
    # up the GIL and waits to get it back. The same steps once that thread is stopped ("quiet"):
    symbols = getattr(app.index, "_symbols", None)
    task = getattr(symbols, "_task", None)
    out["symbols_running_during_live"] = bool(task is not None and not task.future.done())
    if task is not None:
        task.cancel()
        try:
            task.future.result(timeout=60)
        except BaseException:
            pass
    change(100, "quiet-1")
    settle()
    cps.create(label="quiet warm-up")
    change(100, "quiet-2")
    settle()
    out["quiet_incremental_100_files_s"], _ = _timed(cps.create, label="hundred (quiet)")
    cps._fed = False   # as right after the index started: the next checkpoint is a full one
    out["quiet_live_baseline_s"], _ = _timed(cps.create, label="baseline (live, quiet)")
    out["quiet_live_baseline_mode"] = cps.last_mode

    # Restore 100 files (the "hundred files" state) vs writing those 100 contents directly.
    settle()
    items = cps.items(base)
    wanted = {p: cps.store.get(items[p.relative_to(root).as_posix()].ref) for p in touched}
    out["restore_100_files_s"], result = _timed(cps.restore, base)
    out["restore_written"] = len(result.written)
    out["restore_safety_mode"] = cps.last_mode
    out["restore_store_bytes_after"] = cps.store_size()
    change(100, "hundred-3")
    direct_s, _ = _timed(lambda: [atomic.write_bytes(p, data) for p, data in wanted.items()])
    out["peer_direct_write_100_s"] = direct_s
    out["restore_vs_direct"] = round(out["restore_100_files_s"] / direct_s, 2)
    out["verify_s"], problems = _timed(cps.verify)
    out["verify_problems"] = len(problems)
    out["gc_s"], _ = _timed(cps.gc)
    app.close()
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}
