"""Index benchmarks on the standard tree, each figure against its peer measured in the same run.

- cold scan (IndexService.scan) vs ``rg --files`` with the same ignore rules;
- quick open p50/p95 over 24 queries vs frizbee called directly on the same paths;
- watcher: external create/modify/delete -> visible in the snapshot, p95 (and overflow notices);
- project search vs ``rg --json`` on the same query, and the time to the first result;
- longest stall of a Qt GUI thread (offscreen, 5 ms timer) while the scan and a search run;
- memory of the index (RSS growth from the scan, and the snapshot's Python objects).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUERIES = ["wid", "invoice_handler", "srcmodpy", "config.json", "tokrep", "apps/acc", "ledger", "schema",
           "pipeline_merge", "mgrtn", "router.ts", "docs/session", "tenant", "vault_x", "pay", "stream_build",
           "validator_dataset", "brk snap", "cust", "locale_router", "msg", "README", "test_", "plugin.go"]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def run(ctx) -> dict:
    import psutil

    from marie.app import App
    from marie.index.search import SearchOptions, rg_binary

    corpus = ctx.cache / f"corpus-{ctx.files}-git"
    if not (corpus / ".bench-complete").exists():
        corpus = ctx.corpus(git=False)
    out: dict = {"corpus": str(corpus)}
    os.environ.setdefault("MARIE_HOME", str(ctx.scratch / "home"))
    rg = rg_binary()
    excludes = [".git", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".pytest_cache", ".tox"]
    rg_files_cmd = [rg, "--files", "--hidden", "--no-require-git", "--no-ignore-parent", "--no-ignore-global", "--no-config", "--null"] + \
                   [a for g in excludes for a in ("-g", f"!{g}")]

    # -- cold scan ------------------------------------------------------------------------------
    subprocess.run(rg_files_cmd, cwd=corpus, capture_output=True)   # warm the page cache for both
    rg_times = []
    for _ in range(3):
        t = time.perf_counter()
        listed = subprocess.run(rg_files_cmd, cwd=corpus, capture_output=True).stdout.count(b"\0")
        rg_times.append(time.perf_counter() - t)
    process = psutil.Process()
    rss_before = process.memory_info().rss
    from marie.index.snapshot import Snapshot as _Snap
    listing_times, complete_times, walker_times = [], [], []
    app = App(corpus)
    app.settings._merged["index.symbols"] = False
    for _ in range(3):
        # Cold each time: an empty snapshot makes scan() publish the rg listing first.
        app.index._snapshot = _Snap(complete=False)
        t = time.perf_counter()
        snap = app.index.scan(paths_first=True)
        complete_times.append(time.perf_counter() - t)
        listing_times.append(app.index.listing_s)
    for _ in range(2):
        t = time.perf_counter()
        snap = app.index.scan()
        walker_times.append(time.perf_counter() - t)
    rss_after = process.memory_info().rss
    rg_best = min(rg_times)
    out["scan"] = {"files": len(snap.files()), "entries": len(snap), "rg_files_listed": listed,
                   "paths_listed_s": round(min(listing_times), 3),
                   "complete_snapshot_s": round(min(complete_times), 3),
                   "walker_only_rescan_s": round(min(walker_times), 3),
                   "rg_files_s": round(rg_best, 3),
                   "ratio_vs_rg": round(min(listing_times) / rg_best, 2),
                   "complete_ratio_vs_rg": round(min(complete_times) / rg_best, 2),
                   "note": "ratio_vs_rg: time until app.index.snapshot() lists every path (rg listing, "
                           "published at once); complete: sizes, mtimes, symlinks, empty folders too"}
    tracemalloc.start()
    from marie.index.snapshot import Snapshot
    copy = Snapshot(dict(snap.entries), snap.generation)
    copy.files()
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    out["memory"] = {"rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
                     "snapshot_dict_and_file_list_mb": round(traced / 2**20, 1),
                     "note": "entry objects are shared with the live snapshot; rss includes them"}
    del copy

    # -- quick open -----------------------------------------------------------------------------
    import frizbee

    app.index.find("warmup")
    ours, direct = [], []
    hay = frizbee.Haystacks(snap.files())
    for query in QUERIES:
        t = time.perf_counter()
        app.index.find(query)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        frizbee.Matcher(query.replace(" ", ""), max_typos=0, max_items=50).match_list(hay)
        direct.append(time.perf_counter() - t)
    out["quick_open"] = {"queries": len(QUERIES), "p50_ms": _ms(_pct(ours, 0.5)), "p95_ms": _ms(_pct(ours, 0.95)),
                         "frizbee_p50_ms": _ms(_pct(direct, 0.5)), "frizbee_p95_ms": _ms(_pct(direct, 0.95)),
                         "p95_ratio_vs_frizbee": round(_pct(ours, 0.95) / _pct(direct, 0.95), 2)}

    # -- watcher latency --------------------------------------------------------------------------
    watcher = app.index.start_watcher()
    play = corpus / "zz-bench-watch"
    shutil.rmtree(play, ignore_errors=True)
    latencies: list[float] = []
    try:
        play.mkdir()
        deadline_wait = lambda pred: _wait(pred, 5.0)  # noqa: E731
        _wait(lambda: "zz-bench-watch" in app.index.snapshot(), 5.0)
        _wait(lambda: "zz-bench-watch" in watcher.watched(), 5.0)
        for i in range(30):
            rel = f"zz-bench-watch/f{i}.py"
            path = corpus / rel
            t = time.perf_counter()
            path.write_text("x = 1\n")
            if deadline_wait(lambda: rel in app.index.snapshot()):
                latencies.append(time.perf_counter() - t)
            t = time.perf_counter()
            path.write_text("x = 12345\n")
            if deadline_wait(lambda: (e := app.index.snapshot().get(rel)) is not None and e.size == 10):
                latencies.append(time.perf_counter() - t)
            t = time.perf_counter()
            path.unlink()
            if deadline_wait(lambda: rel not in app.index.snapshot()):
                latencies.append(time.perf_counter() - t)
    finally:
        shutil.rmtree(play, ignore_errors=True)
    out["watcher"] = {"events": 90, "seen": len(latencies), "p50_ms": _ms(_pct(latencies, 0.5)) if latencies else None,
                      "p95_ms": _ms(_pct(latencies, 0.95)) if latencies else None,
                      "watches": watcher.watch_count, "overflow_or_limit_notices": len(app.index.notices),
                      "debounce_ms": app.settings.get("index.debounce_ms")}

    # -- search -----------------------------------------------------------------------------------
    manifest = json.loads((corpus / "MANIFEST.json").read_text())
    needle = manifest["needles"][3]["token"]
    common = "session"
    figures = {}
    for label, pattern in (("needle", needle), ("common_word", common)):
        # The peer gets the same flags the index passes (file-size cap, column cap) so both do equal work.
        rg_cmd = [rg, "--max-filesize", str(app.settings.get("index.search_max_filesize")), "--json", "--no-config",
                  "--no-require-git", "--hidden", "--no-messages", "--max-columns", "1000", "--max-columns-preview",
                  "--ignore-case", "--fixed-strings"] + \
                 [a for g in excludes for a in ("-g", f"!{g}")] + ["-e", pattern, "--", "."]
        t = time.perf_counter()
        subprocess.run(rg_cmd, cwd=corpus, capture_output=True)
        rg_s = time.perf_counter() - t
        summary = app.index.search(pattern, SearchOptions(max_results=10**9))
        figures[label] = {"pattern": pattern, "matches": summary.matches, "files": summary.files,
                          "index_s": round(summary.elapsed_s, 3), "rg_s": round(rg_s, 3),
                          "ratio_vs_rg": round(summary.elapsed_s / rg_s, 2),
                          "first_result_ms": _ms(summary.first_result_s or 0)}
    out["search"] = figures
    app.close()

    # -- GUI stall ----------------------------------------------------------------------------------
    out["gui_stall"] = _gui_stall(corpus, ctx)
    return out


def _wait(predicate, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        time.sleep(0.001)
    return False


def _gui_stall(corpus: Path, ctx) -> dict:
    """Longest gap between 5 ms timer ticks on a Qt GUI thread while the index works on workers."""
    code = f"""
import os, sys, time, json
sys.path.insert(0, {str(ROOT)!r})
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
qt = QApplication([])
from marie.app import App
from marie.ui.dispatcher import QtDispatcher
from marie.index.search import SearchOptions
from marie.ui.panels.files import FileTreeModel
app = App({str(corpus)!r}, QtDispatcher())
app.settings._merged["index.symbols"] = False
app.settings._merged["index.watch"] = False
model = FileTreeModel(app.index.snapshot())   # builds the service (imports) before timing starts
gaps = {{"scan": 0.0, "search": 0.0}}
phase = ["scan"]
last = [time.perf_counter()]
def tick():
    now = time.perf_counter()
    gaps[phase[0]] = max(gaps[phase[0]], now - last[0] - 0.005)
    last[0] = now
timer = QTimer(); timer.setInterval(5); timer.timeout.connect(tick); timer.start()
def on_changed(snapshot, changes):
    # what the files panel does: warm the folder index on a worker, then swap the model
    app.tasks.submit(lambda ctx: snapshot.children("") and snapshot, worker="filetree",
                     on_done=model.set_snapshot)
app.events.subscribe("index.changed", on_changed)
task = app.index.start()
while not task.future.done() or model.snapshot.generation == 0:
    qt.processEvents(); time.sleep(0.001)
phase[0] = "search"
stask = app.tasks.submit(lambda ctx: app.index.search("session", SearchOptions(max_results=10**9)), worker="search")
while not stask.future.done():
    qt.processEvents(); time.sleep(0.001)
qt.processEvents()
print(json.dumps({{k: round(v * 1000, 1) for k, v in gaps.items()}}))
app.close()
"""
    env = {**os.environ, "MARIE_HOME": str(ctx.scratch / "home-gui")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    try:
        gaps = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": result.stderr[-2000:]}
    return {"longest_stall_during_scan_ms": gaps["scan"], "longest_stall_during_search_ms": gaps["search"]}
