"""One contract for ``app.ai`` (``marie.services.AiApi``), run against both things that claim it: the
scripted ``FakeModel`` the composer tests use (tests/composer/fakes.py) and the real ``AIService`` of an
``App`` whose settings route "chat" to a real ``llama_cpp.server`` on 127.0.0.1 serving the bundled
Gemma 3 270M model (started once for the module).

Every test is written without knowing which one answers: the fake is scripted through
``backend.script(...)`` (the real model ignores the script and says what it says), so the checks are
properties any answer must have: the text is the streamed pieces joined, ``max_tokens`` and stop strings
end it where greedy decoding of a longer answer says they must, a cancelled token stops the stream at
once, a JSON schema constrains it, an unknown route is ``errors.ModelMissing``. Requests are a few
tokens each so the module stays fast on a loaded 2-core machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from marie.ai import errors
from marie.ai.types import ChatRequest, Completion, Message
from marie.ai.usage import UsageStore
from marie.core.tasks import Cancelled, CancelToken
from marie.services import AiApi
from tests.ai.helpers import llama_server
from tests.ai.helpers import make_ai_app
from tests.composer.fakes import FakeModel
from tests.core.test_service_protocols import _compatible, _members

PROMPT = "Name three colours."
# What the fake says to PROMPT (the real model's answer has the same shape: several words).
ANSWER = "Red, green and blue are three colours of the rainbow."
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


@dataclass
class Backend:
    """One implementation of the contract: ``ai`` answers, ``script`` queues the fake's answers."""

    name: str
    ai: Any
    fake: FakeModel | None = None

    def script(self, *answers: str) -> None:
        if self.fake is not None:
            self.fake.answers.extend(answers)


@pytest.fixture(scope="module")
def server_ai(gemma_path, tmp_path_factory):
    """The real AIService of an App routed (by its settings) to a loopback llama_cpp.server."""
    folder = tmp_path_factory.mktemp("contract")
    with llama_server(gemma_path, folder / "server.log", "gemma", n_ctx=1024) as url:
        app = make_ai_app(folder / "ws", {
            "providers": {"server": {"base_url": url, "model": "gemma", "schema_format": "json_object",
                                     "timeout_s": 60.0}},
            "routing": {"chat": ["server"]}})
        try:
            yield app.ai
        finally:
            app.close()


@pytest.fixture(params=["fake", "server"])
def backend(request) -> Backend:
    if request.param == "fake":
        fake = FakeModel([], json_schema=True)
        return Backend("fake", fake, fake)
    return Backend("server", request.getfixturevalue("server_ai"))


def req(text: str = PROMPT, **kw) -> ChatRequest:
    kw.setdefault("max_tokens", 12)
    return ChatRequest([Message("user", text)], **kw)


def test_it_has_every_member_of_the_protocol(backend):
    ai = backend.ai
    missing = [m for m in _members(AiApi) if not hasattr(ai, m)]
    different = [m for m, declared in _members(AiApi).items()
                 if callable(declared) and callable(getattr(ai, m, None)) and not _compatible(declared, getattr(type(ai), m))]
    assert not missing and not different, (missing, different)
    assert isinstance(ai.usage, UsageStore) and isinstance(ai.model_state, dict)
    name, model = ai.route("chat")[0]
    assert isinstance(name, str) and name and isinstance(model, str)
    assert ai.count_tokens("Name three colours of the rainbow.", "chat") > 0
    assert ai.capabilities("chat").json_schema
    with pytest.raises(ValueError, match="unknown AI task"):
        ai.route("no-such-task")


def test_the_text_is_the_streamed_pieces_joined(backend):
    backend.script(ANSWER, ANSWER)
    pieces: list[str] = []
    done = backend.ai.complete("chat", req(), on_text=pieces.append)
    assert isinstance(done, Completion)
    assert done.text and len(pieces) >= 2 and "".join(pieces) == done.text
    first = backend.ai.route("chat")[0][0]
    assert done.provider == first
    # The same provider named explicitly answers the same (greedy decoding, same request).
    again = backend.ai.complete("chat", req(), route=first)
    assert again.provider == first and again.text == done.text


def test_usage_counts_prompt_and_answer_tokens(backend):
    backend.script(ANSWER)
    done = backend.ai.complete("chat", req(max_tokens=8))
    assert done.usage.prompt_tokens > 0
    assert 0 < done.usage.completion_tokens <= 8
    if backend.name == "server":
        # llama_cpp.server (llama-cpp-python 0.3) ignores stream_options.include_usage, so the
        # OpenAI-compatible provider estimates the counts, and says so.
        assert done.usage.estimated


def test_max_tokens_bounds_the_answer(backend):
    backend.script(ANSWER, ANSWER)
    pieces: list[str] = []
    short = backend.ai.complete("chat", req(max_tokens=3), on_text=pieces.append)
    longer = backend.ai.complete("chat", req(max_tokens=16))
    # Greedy decoding: the bounded answer is where the longer one starts, cut after 3 tokens.
    assert short.text and longer.text.startswith(short.text) and len(short.text) < len(longer.text)
    assert len(pieces) <= 3 and "".join(pieces) == short.text
    assert short.usage.completion_tokens <= 3


def test_a_stop_string_ends_the_answer(backend):
    backend.script(ANSWER, ANSWER)
    free = backend.ai.complete("chat", req(max_tokens=16))
    words = free.text.split()
    assert len(words) >= 3, free.text
    stop = words[2]
    expected = free.text[:free.text.index(stop)]
    pieces: list[str] = []
    cut = backend.ai.complete("chat", req(max_tokens=16, stop=(stop,)), on_text=pieces.append)
    assert cut.text == expected and stop not in cut.text
    assert "".join(pieces) == cut.text


def test_a_cancelled_token_raises_cancelled_promptly(backend):
    backend.script(ANSWER, ANSWER, ANSWER)
    pieces: list[str] = []
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):   # cancelled before it starts: nothing is streamed
        backend.ai.complete("chat", req(), token=token, on_text=pieces.append)
    assert pieces == []

    token = CancelToken()

    def cancel_on_first(piece: str) -> None:
        pieces.append(piece)
        token.cancel()

    with pytest.raises(Cancelled):   # cancelled by the first piece: no second piece arrives
        backend.ai.complete("chat", req(max_tokens=64), token=token, on_text=cancel_on_first)
    assert len(pieces) == 1
    # and the next request is answered as usual
    assert backend.ai.complete("chat", req(max_tokens=4)).text


def test_a_json_schema_constrains_the_answer(backend):
    backend.script('{"ok": true}')
    done = backend.ai.complete("chat", req("Is the sky blue? Answer in JSON.", json_schema=SCHEMA, max_tokens=24))
    jsonschema.validate(json.loads(done.text), SCHEMA)


def test_an_unknown_route_raises_model_missing(backend):
    backend.script(ANSWER)
    pieces: list[str] = []
    with pytest.raises(errors.ModelMissing) as info:
        backend.ai.complete("chat", req(), route="nope:some-model", on_text=pieces.append)
    assert info.value.provider == "nope" and "nope" in info.value.message
    assert pieces == []


def test_the_fake_refuses_a_script_its_schema_forbids():
    # The fake honours json_schema as a constrained model would: an answer outside the schema is a
    # scripting mistake, never returned.
    fake = FakeModel(['{"ok": "maybe"}', "not json"], json_schema=True)
    for _ in range(2):
        with pytest.raises(AssertionError, match="schema"):
            fake.complete("chat", req(json_schema=SCHEMA))
