"""The request engine and the service with the real Gemma in the llama.cpp worker: cancellation on
typing, stale answers dropped, the cache, skipping while another request holds the model, KV reuse,
usage recording and the CLI."""

from __future__ import annotations

import threading
import time

import pytest

from marie.ai.types import ChatRequest, Message
from marie.completion.engine import CompletionEngine, DocState
from marie.completion.service import Skipped, service_for
from marie.core.dispatch import QueueDispatcher
from tests.ai.helpers import make_ai_app

SOURCE = '''import math


def circle_area(radius):
    """The area of a circle."""
    return math.pi * radius * radius


def square_area(side):
    return side * side


def rectangle_area(width, height):
    return '''


@pytest.fixture(scope="module")
def env(tmp_path_factory, gemma_path):
    dispatcher = QueueDispatcher()
    app = make_ai_app(tmp_path_factory.mktemp("compl"), {"local": {"n_ctx": 2048}}, dispatcher=dispatcher)
    yield app, dispatcher
    app.tasks.shutdown(wait=True)
    app.close()


class Sink:
    def __init__(self) -> None:
        self.got: list = []
        self.skips: list[str] = []


def engine_for(app) -> tuple[CompletionEngine, Sink]:
    sink = Sink()
    return CompletionEngine(service_for(app), sink.got.append, sink.skips.append), sink


def state(text: str, version: int) -> DocState:
    return DocState(text, len(text), version, "shapes.py", "python")


def test_a_gemma_suggestion_arrives_trimmed_and_is_cached(env):
    app, dispatcher = env
    engine, sink = engine_for(app)
    engine.request(state(SOURCE, 1))
    assert dispatcher.run_until(lambda: any(s.source == "model" for s in sink.got) or sink.skips, timeout=180)
    assert not sink.skips, sink.skips
    final = [s for s in sink.got if s.source == "model"][-1]
    assert final.text.strip() and "\n\n" not in final.text and final.version == 1
    assert final.provider == "local" and final.model
    # typing the suggestion's first character: the rest comes from the cache, no new request
    requests = engine.requests
    typed = SOURCE + final.text[0]
    engine.request(state(typed, 2))
    assert sink.got[-1].source == "cache" and sink.got[-1].text == final.text[1:]
    # backspace, then the same prefix again: the exact entry
    engine.request(state(SOURCE, 3))
    assert sink.got[-1].source == "cache" and sink.got[-1].text == final.text
    assert engine.requests == requests
    # usage is recorded like other requests, as task "completion"
    assert any(r["task"] == "completion" and r["ok"] for r in app.ai.usage.rows())


def test_the_next_keystroke_cancels_a_pending_request(env):
    app, dispatcher = env
    engine, sink = engine_for(app)
    text = SOURCE.replace("return ", "return wid")
    engine.request(state(text, 1))
    engine.request(state(text + "t", 2))        # within the debounce: the first never runs
    engine.request(state(text + "th", 3))
    assert dispatcher.run_until(lambda: any(s.source == "model" for s in sink.got) or sink.skips, timeout=180)
    assert engine.requests == 1
    assert {s.version for s in sink.got} == {3}


def test_answers_for_an_older_version_are_dropped(env):
    app, dispatcher = env
    engine, sink = engine_for(app)
    text = SOURCE.replace("return ", "return height *")
    engine.request(state(text, 1), immediate=True)
    # let the request finish without delivering anything: its callbacks wait in the dispatcher
    deadline = time.monotonic() + 180
    while engine.in_flight and time.monotonic() < deadline:
        task_done = not any(t.name == "inline completion" for t in app.tasks.tasks.values())
        if task_done:
            break
        time.sleep(0.05)
    engine.request(state(text + " 2", 2))        # the user typed on
    dispatcher.run_until(lambda: engine.dropped > 0, timeout=30)
    dispatcher.drain()
    assert engine.dropped > 0
    assert all(s.version == 2 for s in sink.got)


def test_completion_is_skipped_while_another_request_holds_the_model(env):
    app, dispatcher = env
    local = app.ai.provider("local")
    holding = threading.Event()
    release = threading.Event()

    def chat() -> None:
        def on_text(_piece: str) -> None:
            holding.set()
            release.wait(60)
        app.ai.complete("chat", ChatRequest([Message("user", "Count from one to fifty.")], max_tokens=40),
                        on_text=on_text)

    thread = threading.Thread(target=chat)
    thread.start()
    try:
        assert holding.wait(120)
        service = service_for(app)
        ctx = service.context_at(SOURCE + "side", len(SOURCE) + 4, "shapes.py", "python")
        started = time.monotonic()
        with pytest.raises(Skipped, match="busy"):
            service.complete_at(ctx, use_cache=False)
        assert time.monotonic() - started < 5      # skipped at once, not queued behind the chat
    finally:
        release.set()
        thread.join(120)
    assert local.state in ("ready", "loading")


def test_kv_cache_of_the_unchanged_prefix_is_reused_between_keystrokes(env):
    app, _ = env
    service = service_for(app)
    text = SOURCE + "width"
    first = service.complete_at(service.context_at(text, len(text), "shapes.py", "python"), use_cache=False)
    text += " *"
    second = service.complete_at(service.context_at(text, len(text), "shapes.py", "python"), use_cache=False)
    assert second.prompt_tokens > 0
    assert second.cached_tokens >= second.prompt_tokens - 8, (first, second)


def test_cli_prints_the_suggestion(env, tmp_path, capsys):
    from marie.cli import main

    app, _ = env
    path = tmp_path / "shapes.py"
    path.write_text(SOURCE + "\n", encoding="utf-8")
    line = SOURCE.count("\n") + 1
    code = main(["complete", f"{path}:{line}:{len('    return ') + 1}", "--root", str(tmp_path), "--stats"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.strip() and "local:" in out.err


def test_cli_reports_bad_positions_and_ignored_files(tmp_path, capsys):
    from marie.cli import main

    path = tmp_path / "a.py"
    path.write_text("x = 1\n", encoding="utf-8")
    assert main(["complete", f"{path}:9:1", "--root", str(tmp_path)]) == 1
    assert "outside the file" in capsys.readouterr().err
    assert main(["complete", "no-position", "--root", str(tmp_path)]) == 1
    assert "FILE:LINE:COL" in capsys.readouterr().err
    secret = tmp_path / ".env"
    secret.write_text("TOKEN=", encoding="utf-8")
    assert main(["complete", f"{secret}:1:7", "--root", str(tmp_path)]) == 3
    assert ".marieignore" in capsys.readouterr().err
