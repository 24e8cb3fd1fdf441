"""Native crashes of the local model worker: named in words a user can act on, retried once in safe
mode, and never shown as "ready" while the model is down. Real llama.cpp inference on Gemma; the
crash is a real signal delivered to the real worker while it is inside llama.cpp."""

from __future__ import annotations

import os
import signal
import time

import pytest

from marie.ai import errors
from marie.ai.local import LocalProvider, native_frame
from marie.ai.types import ChatRequest, Message

# Long enough that prompt processing reports progress before the first token.
LONG = "def add(a, b):\n    return a + b\n\n" * 20


@pytest.fixture
def local(gemma_path):
    """(provider, states): a real local provider on Gemma and every state it reported."""
    states: list[tuple[str, dict]] = []
    provider = LocalProvider({"n_ctx": 2048, "threads": 1, "n_batch": 64},
                             on_state=lambda state, detail: states.append((state, dict(detail))))
    yield provider, states
    provider.close()


def say_yes(provider: LocalProvider):
    return provider.complete(ChatRequest([Message("user", "Say yes.")], max_tokens=2), "", None, None)


def kill_on_first_prompt_progress(provider: LocalProvider, signum: int, crashes: int):
    """A progress callback that sends ``signum`` to each of the first ``crashes`` workers it sees."""
    killed: set[int] = set()

    def progress(done: int, total: int) -> None:
        worker = provider.worker
        if worker is not None and len(killed) < crashes and worker.pid not in killed:
            killed.add(worker.pid)
            os.kill(worker.pid, signum)

    return progress


@pytest.mark.model
@pytest.mark.timeout(300)  # two model loads and two prompts on a busy 2-core machine
def test_sigsegv_while_processing_the_prompt_is_named_and_retried_in_safe_mode(local):
    provider, states = local
    request = ChatRequest([Message("user", LONG + "Write one word.")], max_tokens=4)
    request.progress = kill_on_first_prompt_progress(provider, signal.SIGSEGV, crashes=1)
    result = provider.complete(request, "", None, None)
    assert result.usage.completion_tokens >= 1
    note = " ".join(result.notes)
    assert "SIGSEGV" in note and "segmentation fault" in note
    assert "while generating" in note and "safe mode" in note
    # faulthandler named the Python frame the signal struck, and the wording follows it.
    assert "called from " in note and "() in " in note
    assert ("CPU backend" in note) == ("llama_cpp/" in note), note
    # Never an unrelated llama.cpp log line as the reason.
    assert "llama_" not in note.replace("llama_cpp/", "") and "Last output" not in note
    names = [s for s, _ in states]
    crashed = names.index("crashed")
    assert "retrying once in safe mode" in states[crashed][1]["message"].lower()
    # After the crash: crashed, loading (the safe-mode worker), ready in safe mode; never a plain
    # "ready" for the crashed worker.
    after = states[crashed + 1:]
    assert [s for s, _ in after if s != "loading"] == ["ready"]
    assert after[-1][1].get("safe") is True
    assert provider.safe_mode and provider.loaded and provider.loaded.get("safe") is True
    # The next request just works, still in safe mode, without another load.
    again = say_yes(provider)
    assert again.usage.completion_tokens >= 1 and not again.notes


@pytest.mark.model
@pytest.mark.timeout(300)  # two model loads and two prompts on a busy 2-core machine
def test_sigill_mid_stream_is_reported_and_the_next_request_works(local):
    provider, states = local
    def on_text(piece: str) -> None:
        os.kill(provider.worker.pid, signal.SIGILL)

    with pytest.raises(errors.NativeCrash) as info:
        provider.complete(ChatRequest([Message("user", "Tell a story.")], max_tokens=32), "", None, on_text)
    crash = info.value
    assert crash.signal == "SIGILL" and crash.phase == "generating"
    assert "illegal CPU instruction" in str(crash) and "next request runs in safe mode" in str(crash)
    assert states[-1][0] == "crashed"
    again = say_yes(provider)
    assert again.usage.completion_tokens >= 1
    assert states[-1][0] == "ready" and states[-1][1].get("safe") is True


@pytest.mark.model
@pytest.mark.timeout(300)  # two model loads and two prompts on a busy 2-core machine
def test_a_crash_in_safe_mode_too_fails_with_advice(local):
    provider, states = local
    request = ChatRequest([Message("user", LONG + "Write one word.")], max_tokens=4)
    # The first try and the safe-mode retry both crash.
    request.progress = kill_on_first_prompt_progress(provider, signal.SIGBUS, crashes=2)
    with pytest.raises(errors.NativeCrash, match="crashed again in safe mode") as info:
        provider.complete(request, "", None, None)
    assert "SIGBUS" in str(info.value) and "choose another model" in str(info.value)
    assert states[-1][0] == "error" and states[-1][1]["message"].startswith("failed: ")
    assert provider.state == "error"


@pytest.mark.model
@pytest.mark.timeout(300)  # two model loads and two prompts on a busy 2-core machine
def test_a_worker_that_dies_while_idle_is_not_left_ready(local):
    provider, states = local
    say_yes(provider)
    assert provider.state == "ready"
    os.kill(provider.worker.pid, signal.SIGSEGV)
    deadline = time.monotonic() + 15
    while provider.state == "ready" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert provider.state == "error"
    assert "SIGSEGV" in states[-1][1]["message"] and states[-1][1]["message"].startswith("failed: ")
    # A new request starts a new worker and answers.
    again = say_yes(provider)
    assert again.usage.completion_tokens >= 1 and provider.state == "ready"


def test_native_frame_reads_faulthandler_reports():
    report = ["Fatal Python error: Segmentation fault", "", "Current thread 0x00007f (most recent call first):",
          '  File "/venv/lib/python3.11/site-packages/llama_cpp/_internals.py", line 321 in decode',
          '  File "/venv/lib/python3.11/site-packages/llama_cpp/llama.py", line 680 in eval']
    assert native_frame(report) == "decode() in llama_cpp/_internals.py:321"
    assert native_frame(["Fatal Python error: Aborted"]) == ""
