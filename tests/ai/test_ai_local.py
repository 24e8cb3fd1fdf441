"""The local provider: real llama.cpp inference on Gemma 3 270M in a worker process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading

import pytest

from marie.ai import errors, models
from marie.ai.local import LocalProvider
from marie.ai.types import ChatRequest, Message
from marie.core.event_types import ModelState
from marie.core.tasks import Cancelled, CancelToken
from tests.ai.helpers import make_ai_app


@pytest.fixture(scope="module")
def ai_app(tmp_path_factory, gemma_path):
    app = make_ai_app(tmp_path_factory.mktemp("ai-local"))
    yield app
    app.close()


def ask(text: str, **kw) -> ChatRequest:
    kw.setdefault("max_tokens", 16)
    return ChatRequest([Message("user", text)], **kw)


def test_default_model_is_prepared_and_described(gemma_path):
    assert gemma_path.exists() and gemma_path.parent == models.models_dir()
    info = models.model_info(models.DEFAULT_MODEL_ID)
    assert info.architecture == "gemma3"
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 32768
    assert 250_000_000 < info.parameters < 300_000_000


def test_streams_real_tokens_and_records_usage(ai_app):
    pieces: list[str] = []
    states: list[str] = []
    ai_app.events.on(ModelState, lambda event: states.append(event.state))
    done = ai_app.ai.complete("chat", ask("Write the word hello."), on_text=pieces.append)
    assert done.provider == "local" and done.model == "gemma3-270m"
    assert len(pieces) >= 2 and "".join(pieces) == done.text and done.text.strip()
    assert 0 < done.usage.completion_tokens <= 16
    assert done.usage.prompt_tokens > 0 and done.usage.latency_s > 0
    assert ai_app.ai.model_state["state"] == "ready"
    assert "ready" in states
    rows = ai_app.ai.usage.summary()
    assert any(r["provider"] == "local" and r["requests"] >= 1 for r in rows)


def test_second_turn_reuses_the_prompt_prefix(ai_app):
    system = Message("system", "You are a careful assistant for a Python project. " * 12)
    first = ai_app.ai.complete("chat", ChatRequest([system, Message("user", "Name a fruit.")], max_tokens=4))
    second = ai_app.ai.complete("chat", ChatRequest([system, Message("user", "Name a colour.")], max_tokens=4))
    # The shared system prompt (well over 100 tokens) is already in the worker's KV cache.
    assert second.usage.cached_tokens >= 100
    assert second.usage.cached_tokens < second.usage.prompt_tokens
    assert first.usage.prompt_tokens > 100


def test_cancel_mid_stream_stops_and_worker_serves_next(ai_app):
    token = CancelToken()
    got: list[str] = []

    def on_text(piece: str) -> None:
        got.append(piece)
        if len(got) == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        ai_app.ai.complete("chat", ask("Count from one to one hundred.", max_tokens=32), token=token, on_text=on_text)
    assert len(got) == 3  # nothing arrives after the cancel
    again = ai_app.ai.complete("chat", ask("Say yes.", max_tokens=4))
    assert again.usage.completion_tokens >= 1


def test_cancel_from_another_thread(ai_app):
    token = CancelToken()
    first = threading.Event()
    timer = threading.Thread(target=lambda: (first.wait(30), token.cancel()))
    timer.start()
    with pytest.raises(Cancelled):
        ai_app.ai.complete("chat", ask("Tell a long story.", max_tokens=32), token=token,
                           on_text=lambda piece: first.set())
    timer.join()


def test_gbnf_grammar_output_always_parses(ai_app):
    grammar = r'''root ::= "{\"answer\": " answer ", \"confidence\": " digit "}"
answer ::= "\"yes\"" | "\"no\""
digit ::= [0-9]'''
    for seed in (0, 1):
        done = ai_app.ai.complete("composer", ask("Is water wet?", grammar=grammar, seed=seed, max_tokens=32,
                                                  temperature=0.8))
        value = json.loads(done.text)
        assert value["answer"] in ("yes", "no") and 0 <= value["confidence"] <= 9


def test_json_schema_output_always_parses(ai_app):
    schema = {"type": "object", "properties": {"language": {"enum": ["python", "rust", "go"]},
                                               "typed": {"type": "boolean"}},
              "required": ["language", "typed"], "additionalProperties": False}
    done = ai_app.ai.complete("composer", ask("Pick a programming language.", json_schema=schema, max_tokens=32))
    value = json.loads(done.text)
    assert value["language"] in ("python", "rust", "go") and isinstance(value["typed"], bool)


def test_stop_strings_cut_the_text(ai_app):
    done = ai_app.ai.complete("chat", ask("List: a, b, c, d, e", max_tokens=24, grammar='root ::= "a, b, c, d, e"',
                                          stop=(", c",)))
    assert done.text == "a, b"


def test_count_tokens_and_capabilities(ai_app):
    assert ai_app.ai.count_tokens("hello world", "chat") == 2
    caps = ai_app.ai.capabilities("chat")
    assert caps.local and caps.grammar and caps.json_schema and caps.context_length == 1024
    assert ai_app.ai.active_model("chat") == "local:gemma3-270m"


def test_context_too_long_is_a_clear_error(ai_app):
    with pytest.raises(errors.ContextTooLong, match="context holds 1024"):
        ai_app.ai.complete("chat", ask("word " * 1500))


def test_worker_crash_mid_stream_is_contained(ai_app):
    provider = ai_app.ai.provider("local")
    token = CancelToken()

    def on_text(piece: str) -> None:
        os.kill(provider.worker.pid, signal.SIGKILL)  # a crash inside llama.cpp looks like this

    with pytest.raises(errors.ServerDown, match="stopped unexpectedly .killed by SIGKILL"):
        ai_app.ai.complete("chat", ask("Tell a story.", max_tokens=32), token=token, on_text=on_text)
    # The app lives on and the next request starts a fresh worker.
    again = ai_app.ai.complete("chat", ask("Say yes.", max_tokens=4))
    assert again.usage.completion_tokens >= 1


def test_truncated_gguf_gives_clear_error_and_parent_lives(tmp_path, gemma_path, ai_app):
    broken = tmp_path / "broken.gguf"
    with gemma_path.open("rb") as src, broken.open("wb") as dst:
        dst.write(src.read(gemma_path.stat().st_size // 3))
    # Checked in the IDE process before any worker starts ...
    provider = LocalProvider({"model": str(broken), "n_ctx": 512, "threads": 1})
    with pytest.raises(errors.ModelLoadError, match="truncated"):
        provider.complete(ask("hi"), "", None, None)
    assert provider.state == "error"
    # ... and, without that check, llama.cpp itself fails inside the worker, not here.
    provider = LocalProvider({"model": str(broken), "n_ctx": 512, "threads": 1}, precheck=False)
    try:
        with pytest.raises(errors.ModelLoadError, match="broken.gguf"):
            provider.complete(ask("hi"), "", None, None)
    finally:
        provider.close()
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a model at all" * 100)
    with pytest.raises(errors.ModelLoadError, match="not a GGUF"):
        models.add_model(garbage)
    assert ai_app.ai.complete("chat", ask("Say yes.", max_tokens=2)).text is not None


def test_model_manager_add_info_remove(tmp_path, gemma_path):
    copy = tmp_path / "My Model.gguf"
    os.link(gemma_path, copy) if os.stat(gemma_path).st_dev == os.stat(tmp_path).st_dev else shutil.copy(gemma_path, copy)
    entry = models.add_model(copy)
    assert entry.id == "my-model"
    assert [e.id for e in models.list_models()][:1] == ["gemma3-270m"]
    assert "my-model" in [e.id for e in models.list_models()]
    assert models.model_info("my-model").quantization == "Q4_K_M"
    assert models.resolve_model("my-model") == copy.resolve()
    models.remove_model("my-model")
    assert "my-model" not in [e.id for e in models.list_models()]
    assert copy.exists()  # removing forgets the model; the user's file stays
    with pytest.raises(ValueError):
        models.remove_model("gemma3-270m")
    with pytest.raises(errors.ModelMissing):
        models.remove_model("nope")


def test_streamed_pieces_are_coalesced_after_the_first(gemma_path):
    # The first piece leaves the worker at once; later ones at most every stream_interval_ms (here
    # longer than the whole answer, so the rest arrives as one piece at the end).
    provider = LocalProvider({"n_ctx": 512, "threads": 1, "stream_interval_ms": 60_000.0})
    pieces: list[str] = []
    try:
        done = provider.complete(ask("Count.", max_tokens=40, grammar='root ::= "one two three four"'),
                                 "", None, pieces.append)
    finally:
        provider.close()
    assert done.text == "one two three four" and done.usage.completion_tokens >= 4
    assert len(pieces) == 2 and "".join(pieces) == done.text
    assert provider.last_stats["own_s_per_token"] >= provider.last_stats["send_s_per_token"] > 0


def test_prompt_reading_progress_reaches_the_request_and_the_bus(ai_app):
    from marie.core.event_types import PromptProgress

    seen_bus: list[tuple[int, int]] = []
    seen_request: list[tuple[int, int]] = []
    off = ai_app.events.on(PromptProgress, lambda e: seen_bus.append((e.done, e.total)))
    try:
        request = ask("def f(x):\n    return x\n" * 60 + "Say yes.", max_tokens=2)
        request.progress = lambda done, total: seen_request.append((done, total))
        done = ai_app.ai.complete("chat", request)
    finally:
        off()
    total = done.usage.prompt_tokens
    assert seen_request and seen_request == seen_bus
    assert all(t == total for _, t in seen_request)
    dones = [d for d, _ in seen_request]
    assert dones == sorted(dones) and dones[-1] == total - 1 and len(dones) >= 2
