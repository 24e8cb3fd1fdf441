"""Inline completion benchmark with the default model (Gemma 3 270M) in the llama.cpp worker.

Figures:
* keystroke -> ghost text visible in a real EditorView (offscreen), typing into a real Python file
  at 10 chars/s: p50/p95 over the keystrokes that showed a suggestion, all of them and those that
  needed the model (not the prefix cache); goals p50 <= 150 ms, p95 <= 300 ms;
* the GUI's longest stall while typing with completion on (a 5 ms timer's largest gap minus 5 ms);
  goal <= 16 ms. Beside it the GUI thread's own CPU time in that gap and the most CPU it used in
  any gap (``time.thread_time``): on a shared 2-core machine the wall gap is mostly other
  processes holding the cores, the CPU figure is what the editor and the ghost text cost. Measured
  on the small file above and on a ~2,600-line one (the standard library's argparse.py), where
  the same typing with completion off is the peer;
* prompt cost per keystroke with KV prefix reuse vs a cold prompt (time to first token in the
  worker, same prompt length): goal <= 0.1x;
* a MarieIDE completion request vs the raw llama-cpp-python call for the same prompt (both warm,
  one extra character per request, interleaved): goal <= 1.1x.

Alone: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_completion.py [--keys 60] [--part typing]``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
# A real Python file of this repository, cut where a function starts; the typing continues it.
SOURCE_FILE = ROOT / "marie" / "completion" / "trim.py"
LARGE_FILE = Path(__import__("argparse").__file__)     # ~2,600 lines, the same on every machine
TYPED = '''def count_words(text: str) -> int:
    words = text.split()
    return len(words)
'''


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000, 1)


def _app(folder: Path, dispatcher=None):
    from tests.ai.helpers import make_ai_app

    return make_ai_app(folder, {"local": {"n_ctx": 2048}}, dispatcher=dispatcher)


def typing_latency(scratch: Path, keys: int, source: Path = SOURCE_FILE, completion: bool = True,
                   name: str = "ws") -> dict:
    """Type ``keys`` characters at 10 chars/s into a real editor (at the end of ``source``); time
    each one until ghost text shows. ``completion`` False: the same typing, inline completion off."""
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication([])
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.editor import ghost_text
    from marie.ui.editor.ghost_text import attach
    from marie.ui.editor.view import EditorView

    # The ghost text's own work on the GUI thread, timed per call: the timer gap below also holds
    # whatever the OS and other processes take from this one on a shared machine.
    own: list[tuple[float, str]] = []

    def timed(fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                own.append((time.perf_counter() - t, fn.__name__))
        return wrapper

    originals = {}
    for method in ("_modified", "_edited", "_on_suggestion", "_caret_moved", "eventFilter"):
        originals[method] = getattr(ghost_text.GhostText, method)
        setattr(ghost_text.GhostText, method, timed(originals[method]))

    root = scratch / name
    root.mkdir()
    path = root / "words.py"
    path.write_text(source.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    app = _app(root, QtDispatcher())
    if not completion:
        app.settings.set_user("completion.enabled", False)
    view = EditorView.open(path, app.settings)
    view.resize(900, 600)
    view.show()
    ghost = attach(view, app)
    view.sci.gotoPos(view.sci.textLength())
    view.setFocus()

    def pump(seconds: float, until=None) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            QCoreApplication.processEvents()
            if until is not None and until():
                return
            time.sleep(0.001)

    # warm-up: load the model and evaluate the file's prompt once (a cold prompt, measured apart)
    started = time.perf_counter()
    ghost.request(immediate=True)
    pump(300, lambda: ghost.text != "" or (ghost.last_skip and not ghost.engine.in_flight))
    warmup_s = time.perf_counter() - started

    gaps: list[float] = []
    cpu: list[float] = []          # the GUI thread's CPU time in each gap
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed(), time.thread_time()]

    def tick() -> None:
        now, used = clock.nsecsElapsed(), time.thread_time()
        gaps.append((now - last[0]) / 1e9)
        cpu.append(used - last[1])
        last[0], last[1] = now, used

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    own.clear()

    shown_model: list[float] = []
    shown_cache: list[float] = []
    no_suggestion = 0
    # the editor's auto-indent supplies the indentation after Return, as when a person types
    typed = "\n".join(line.lstrip() for line in TYPED.split("\n"))
    text = (typed * (keys // len(typed) + 1))[:keys]
    for ch in text:
        t0 = time.perf_counter()
        requests = ghost.engine.requests
        before = ghost.shown_at
        if ch == "\n":
            QTest.keyClick(view.sci, Qt.Key.Key_Return)
        else:
            QTest.keyClicks(view.sci, ch)
        # wait for this keystroke's ghost text (or give up after 2 s), at least until the next key is due
        pump(2.0 if completion else 0.0, lambda: ghost.shown_at is not None and ghost.shown_at != before
             and ghost.text != "")
        if ghost.shown_at is not None and ghost.shown_at != before and ghost.text:
            latency = ghost.shown_at - (ghost.edit_at or t0)
            (shown_model if ghost.engine.requests > requests else shown_cache).append(latency)
        else:
            no_suggestion += 1
        pump(max(0.0, 0.1 - (time.perf_counter() - t0)))
    timer.stop()
    # the first gap includes the typing loop starting; auto-indent on Return is the editor's own work
    stall = max(gaps[1:], default=0.0) - 0.005
    worst = max(range(1, len(gaps)), key=gaps.__getitem__, default=0)
    both = shown_model + shown_cache
    result = {
        "file_lines": path.read_text(encoding="utf-8").count("\n"), "completion": completion,
        "keystrokes": len(text), "with_suggestion": len(both), "from_model": len(shown_model),
        "from_cache": len(shown_cache), "no_suggestion": no_suggestion,
        "p50_ms": _pct(both, 0.5), "p95_ms": _pct(both, 0.95),
        "model_p50_ms": _pct(shown_model, 0.5), "model_p95_ms": _pct(shown_model, 0.95),
        "goal_p50_ms": 150, "goal_p95_ms": 300,
        "gui_longest_stall_ms": round(stall * 1000, 1), "goal_stall_ms": 16,
        "gui_gap_p99_ms": _pct([g - 0.005 for g in gaps[1:]], 0.99),
        "gui_cpu_in_longest_stall_ms": round(cpu[worst] * 1000, 1) if cpu else None,
        "gui_most_cpu_in_a_gap_ms": round(max(cpu[1:], default=0.0) * 1000, 1),
        "gui_cpu_per_keystroke_ms": round(sum(cpu[1:]) / max(1, len(text)) * 1000, 2),
        "ghost_text_longest_gui_call_ms": round(max(own, default=(0.0, ""))[0] * 1000, 2),
        "ghost_text_longest_gui_call": max(own, default=(0.0, ""))[1],
        "ghost_text_gui_call_p99_ms": _pct([d for d, _ in own], 0.99),
        "ghost_text_gui_calls": len(own),
        "warmup_first_suggestion_s": round(warmup_s, 2),
    }
    ghost.close()
    view.close()
    app.tasks.shutdown(wait=True)
    app.close()
    # the widgets go now, not at interpreter exit after a later pass's (which crashes Qt)
    view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for method, fn in originals.items():
        setattr(ghost_text.GhostText, method, fn)
    del qapp
    return result


def kv_reuse_and_raw(scratch: Path, rounds: int = 4) -> dict:
    """Prompt cost with KV reuse vs cold, and a MarieIDE request vs raw llama-cpp-python."""
    from llama_cpp import Llama

    from marie.ai.models import default_model_path
    from marie.completion import prompt as prompts
    from marie.completion.service import service_for

    root = scratch / "kv"
    root.mkdir()
    app = _app(root)
    service = service_for(app)
    base = SOURCE_FILE.read_text(encoding="utf-8") + "\n\n" + TYPED[:40]
    local = service.backend().provider

    def ours(text: str, name: str = "words.py") -> tuple[float, float, int, int]:
        ctx = service.context_at(text, len(text), name, "python")
        t0 = time.perf_counter()
        got = local.complete_prompt(prompts.prefix_prompt(ctx), service.backend().model, max_tokens=8, stop=(),
                                    token=None, on_text=None, skip_if_busy=False)
        wall = time.perf_counter() - t0
        stats = local.last_stats
        return wall, float(stats.get("ttft_s") or 0.0), got.usage.prompt_tokens, got.usage.cached_tokens

    ours(base)                                          # load + first evaluation
    warm_ttft, cold_ttft, cold_tokens = [], [], 0
    text = base
    for i in range(rounds):
        ours(text)                                      # back to this file's prompt (after a cold one)
        text += "x"                                     # one keystroke
        _wall, ttft, _prompt, _cached = ours(text)
        warm_ttft.append(ttft)
        # a cold prompt of the same length: another file name in its first line, so nothing is shared
        _wall_c, ttft_c, cold_tokens, _cached_c = ours(text, f"variant{i}.py")
        cold_ttft.append(ttft_c)
    ours(text)
    # raw llama-cpp-python, same settings and the same prompts, KV reuse by generate() as well
    llm = Llama(model_path=str(default_model_path(ensure=True)), n_ctx=2048, n_threads=1, n_threads_batch=1,
                n_batch=512, swa_full=True, verbose=False)

    def raw(text: str) -> float:
        ctx = service.context_at(text, len(text), "words.py", "python")
        t0 = time.perf_counter()
        tokens = llm.tokenize(prompts.prefix_prompt(ctx).encode(), add_bos=True, special=True)
        n = 0
        for tok in llm.generate(tokens, temp=0.0, top_k=1, top_p=0.95, min_p=0.05, repeat_penalty=1.0):
            llm.detokenize([tok])
            n += 1
            if n >= 8:
                break
        return time.perf_counter() - t0

    raw(base)
    raw_wall, ours_wall2 = [], []
    text = base
    for i in range(rounds):
        text += "y"
        if i % 2:
            raw_wall.append(raw(text))
            ours_wall2.append(ours(text)[0])
        else:
            ours_wall2.append(ours(text)[0])
            raw_wall.append(raw(text))
    del llm
    app.close()
    warm, cold = statistics.median(warm_ttft), statistics.median(cold_ttft)
    return {
        "prompt_tokens": cold_tokens,
        "warm_prompt_ms": round(warm * 1000, 1), "cold_prompt_ms": round(cold * 1000, 1),
        "kv_reuse_ratio": round(warm / cold, 4) if cold else None, "goal_kv_reuse_ratio": 0.1,
        "ours_request_ms": round(statistics.median(ours_wall2) * 1000, 1),
        "raw_request_ms": round(statistics.median(raw_wall) * 1000, 1),
        "vs_raw_ratio": round(statistics.median(ours_wall2) / statistics.median(raw_wall), 3),
        "goal_vs_raw_ratio": 1.1,
    }


def run(ctx) -> dict:
    keys = int(ctx.options.get("keys", 60)) if hasattr(ctx, "options") else 60
    part = ctx.options.get("part", "all") if hasattr(ctx, "options") else "all"
    out: dict = {"model": "gemma3-270m (Q4_K_M), 1 thread", "load_average": os.getloadavg()[0]}
    if part in ("all", "typing"):
        out["typing"] = typing_latency(ctx.scratch, keys)
    if part in ("all", "typing", "large"):
        # the stall on a ~2,600-line file, and the same typing with completion off (the peer)
        on = out["typing_large"] = typing_latency(ctx.scratch, keys, LARGE_FILE, name="large")
        off = out["typing_large_off"] = typing_latency(ctx.scratch, keys, LARGE_FILE, completion=False,
                                                       name="large-off")
        out["stall_on_vs_off"] = (round(on["gui_longest_stall_ms"] / off["gui_longest_stall_ms"], 2)
                                  if off["gui_longest_stall_ms"] > 0 else None)
        out["load_average_end"] = os.getloadavg()[0]
    if part in ("all", "prompt"):
        out["prompt"] = kv_reuse_and_raw(ctx.scratch)
    return out


if __name__ == "__main__":
    import argparse
    from types import SimpleNamespace

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--part", choices=("all", "typing", "large", "prompt"), default="all")
    args = parser.parse_args()
    os.environ.setdefault("MARIE_HOME", tempfile.mkdtemp(prefix="marie-bench-home-"))
    with tempfile.TemporaryDirectory(prefix="marie-bench-completion-") as scratch:
        result = run(SimpleNamespace(scratch=Path(scratch), options={"keys": args.keys, "part": args.part}))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
