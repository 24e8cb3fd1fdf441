"""AI benchmark: MarieIDE's local provider vs raw llama-cpp-python on the same model, threads and prompt.

Figures: generation tokens/s and time to first token (ratio and difference vs raw), cancel latency,
second-turn time to first token with a shared ~1k-token prefix vs the first turn, longest GUI stall
while streaming into a Qt label, and raw tokens/s with 1 vs 2 threads with the other core busy (the
measurement behind the ``ai.local.threads`` default).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
import sys
import threading
import time
from pathlib import Path

# The App helper with a small context lives with the tests; make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_CTX = 2048
GEN = 48


def _busy(stop) -> None:
    while not stop.is_set():
        sum(range(10000))


def _raw_run(llm, prompt_text: str, max_tokens: int) -> tuple[float, float, int]:
    """(ttft_s, tokens/s after the first token, tokens) with the same loop shape as the worker."""
    import llama_cpp

    tokens = llm.tokenize(prompt_text.encode(), add_bos=True, special=True)
    llm.set_seed(0)
    started = time.perf_counter()
    first = None
    n = 0
    for tok in llm.generate(tokens, temp=0.0, top_k=1, top_p=0.95, min_p=0.05, repeat_penalty=1.1):
        if first is None:
            first = time.perf_counter()
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, tok):
            break
        llm.detokenize([tok])
        n += 1
        if n >= max_tokens:
            break
    end = time.perf_counter()
    return first - started, (n - 1) / (end - first) if n > 1 else 0.0, n


def _prompt(i: int) -> str:
    from marie.ai.local_worker import format_prompt

    return format_prompt(None, [{"role": "user", "content": f"Note {i}: write a long story about a robot who learns to paint."}], "gemma3")


def run(ctx) -> dict:
    os.environ.setdefault("MARIE_HOME", str(ctx.scratch / "home"))
    from llama_cpp import Llama

    from marie.ai.models import default_model_path
    from marie.ai.types import ChatRequest, Message
    from marie.core.tasks import Cancelled, CancelToken
    from tests.ai.helpers import make_ai_app

    model = str(default_model_path(ensure=True))
    out: dict = {}

    # -- threads under load (raw) ----------------------------------------------------------------
    threads_fig = {}
    for busy in (False, True):
        stop = multiprocessing.Event()
        hog = multiprocessing.Process(target=_busy, args=(stop,)) if busy else None
        if hog:
            hog.start()
            time.sleep(0.5)
        try:
            for n in (1, 2):
                llm = Llama(model_path=model, n_ctx=512, n_threads=n, n_threads_batch=n, swa_full=True, verbose=False)
                _raw_run(llm, _prompt(0), 4)
                _, tps, _ = _raw_run(llm, _prompt(1), 32)
                threads_fig[f"raw_tok_s_{n}thr_{'busy' if busy else 'idle'}"] = round(tps, 1)
                del llm
        finally:
            if hog:
                stop.set()
                hog.join(5)
    out.update(threads_fig)

    threads = 1
    # -- raw vs MarieIDE, same model / threads / prompt ------------------------------------------
    llm = Llama(model_path=model, n_ctx=N_CTX, n_threads=threads, n_threads_batch=threads, swa_full=True, verbose=False)
    _raw_run(llm, _prompt(100), 4)  # warm up
    raw = [_raw_run(llm, _prompt(200 + i), GEN) for i in range(3)]
    del llm

    app = make_ai_app(Path(tempfile.mkdtemp(dir=ctx.scratch)), {"local": {"n_ctx": N_CTX, "threads": threads}})
    try:
        app.ai.complete("chat", ChatRequest([Message("user", "warm up")], max_tokens=4))
        marie = []
        for i in range(3):
            stamps: list[float] = []
            text = f"Note {300 + i}: write a long story about a robot who learns to paint."
            started = time.perf_counter()
            done = app.ai.complete("chat", ChatRequest([Message("user", text)], max_tokens=GEN),
                                   on_text=lambda piece: stamps.append(time.perf_counter()))
            n = done.usage.completion_tokens
            marie.append((stamps[0] - started, (n - 1) / (stamps[-1] - stamps[0]) if n > 1 else 0.0, n))
        raw_tps = statistics.median(r[1] for r in raw)
        raw_ttft = statistics.median(r[0] for r in raw)
        m_tps = statistics.median(r[1] for r in marie)
        m_ttft = statistics.median(r[0] for r in marie)
        out.update(raw_tok_s=round(raw_tps, 1), marie_tok_s=round(m_tps, 1), tok_s_ratio=round(m_tps / raw_tps, 3),
                   raw_ttft_ms=round(raw_ttft * 1000, 1), marie_ttft_ms=round(m_ttft * 1000, 1),
                   ttft_extra_ms=round((m_ttft - raw_ttft) * 1000, 1), threads=threads)

        # -- cancel latency --------------------------------------------------------------------
        lat = []
        for i in range(3):
            token = CancelToken()
            count = [0]
            when = [0.0]

            def on_text(piece: str) -> None:
                count[0] += 1
                if count[0] == 5:
                    when[0] = time.perf_counter()
                    threading.Thread(target=token.cancel).start()

            try:
                app.ai.complete("chat", ChatRequest([Message("user", f"Story {i}: tell a long tale.")], max_tokens=64),
                                token=token, on_text=on_text)
            except Cancelled:
                lat.append(time.perf_counter() - when[0])
        out["cancel_latency_ms_max"] = round(max(lat) * 1000, 1) if lat else None

        # -- second turn with a shared ~1k-token prefix ----------------------------------------
        context = "".join(f"def function_{i}(value):\n    return value * {i} + {i * 7}\n\n" for i in range(90))
        system = Message("system", "You review this Python module.\n" + context)
        out["shared_prefix_tokens"] = app.ai.count_tokens(system.content, "chat")
        ttft = []
        for question in ("What does function_3 return?", "Which function adds 70?"):
            stamps = []
            started = time.perf_counter()
            done = app.ai.complete("chat", ChatRequest([system, Message("user", question)], max_tokens=4),
                                   on_text=lambda piece: stamps.append(time.perf_counter()))
            ttft.append(((stamps[0] if stamps else time.perf_counter()) - started, done.usage.cached_tokens))
        out.update(first_turn_ttft_ms=round(ttft[0][0] * 1000, 1), second_turn_ttft_ms=round(ttft[1][0] * 1000, 1),
                   second_turn_ratio=round(ttft[1][0] / ttft[0][0], 3), second_turn_cached_tokens=ttft[1][1])
    finally:
        app.close()

    # -- GUI stall while streaming -------------------------------------------------------------
    # Two presses of Send: the first with the model not yet loaded (worker process start, GGUF header
    # check, model load, then streaming), the second with it loaded. The headline figure is the worse.
    stalls = _gui_stall()
    out["gui_stall_ms_model_not_loaded"] = stalls[0]
    out["gui_stall_ms_model_loaded"] = stalls[1]
    out["gui_longest_stall_ms"] = max(stalls)
    return out


def _gui_stall() -> tuple[float, float]:
    """Longest gap of a 5 ms QTimer heartbeat on the GUI thread from pressing Send to the last token.

    Everything runs as in the IDE: the request goes to a TaskRunner worker, tokens reach a QLabel
    through the QtDispatcher. Returns (first request with the model not loaded, second with it loaded).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    from marie.ai.types import ChatRequest, Message
    from marie.ui.dispatcher import QtDispatcher
    from tests.ai.helpers import make_ai_app

    from marie.ai import gguf

    # A freshly started IDE has not parsed the model's GGUF header yet; the sections above have.
    gguf._cache.clear()
    qt = QApplication.instance() or QApplication([])
    dispatcher = QtDispatcher()
    app = make_ai_app(Path(tempfile.mkdtemp()), {"local": {"n_ctx": 1024, "threads": 1}}, dispatcher=dispatcher)
    label = QLabel()
    label.show()
    results: list[float] = []
    try:
        for turn in range(2):
            gaps: list[float] = []
            last = [time.perf_counter()]
            finished = [False]

            def tick() -> None:
                now = time.perf_counter()
                gaps.append(now - last[0])
                last[0] = now

            timer = QTimer()
            timer.timeout.connect(tick)
            timer.start(5)
            # Let the heartbeat settle before "pressing Send" (its first gap is discarded below).
            settle = time.perf_counter() + 0.1
            while time.perf_counter() < settle:
                qt.processEvents()
                time.sleep(0.001)

            def work(ctx, turn=turn):
                return app.ai.complete("chat", ChatRequest([Message("user", f"Tell a long story about the sea ({turn}).")],
                                                           max_tokens=64),
                                       token=ctx.token, on_text=lambda piece: dispatcher.post(lambda: label.setText(label.text() + piece)))

            task = app.tasks.submit(work, on_done=lambda _r: finished.__setitem__(0, True),
                                    on_error=lambda _e: finished.__setitem__(0, True))
            deadline = time.monotonic() + 120
            while not finished[0] and time.monotonic() < deadline:
                qt.processEvents()
                time.sleep(0.001)
            timer.stop()
            task.cancel()
            results.append(round(max(gaps[1:] or [0]) * 1000, 1))
    finally:
        app.close()
    return results[0], results[1]
