"""The remote completion backends, one contract for all: ``/v1/completions`` (with and without
``suffix``) against a real ``llama_cpp.server`` on 127.0.0.1 and ``/infill`` against
``FakeInfillServer`` (llama.cpp's own server is not installed here), both with the bundled Gemma."""

from __future__ import annotations

import pytest

from marie.ai import errors
from marie.completion.backends import CompletionsBackend, InfillBackend
from marie.completion.service import service_for
from marie.core.tasks import Cancelled, CancelToken
from tests.ai.helpers import make_ai_app
from tests.ai.test_ai_openai import server  # noqa: F401 (the real llama_cpp.server fixture)
from tests.completion.fake_infill_server import FakeInfillServer

PREFIX = "# SECRET-MARKER\ndef greet(name):\n    return 'Hello, ' + "


@pytest.fixture(scope="module")
def infill(gemma_path):
    fake = FakeInfillServer(gemma_path)
    yield fake
    fake.close()


@pytest.fixture(params=["completions", "completions+suffix", "infill"])
def remote(request, tmp_path, server, infill):  # noqa: F811
    api = request.param
    name = "openai" if api == "infill" else "server"
    app = make_ai_app(tmp_path / api, {
        "providers": {"server": {"base_url": server, "model": "gemma", "timeout_s": 60.0},
                      "openai": {"base_url": infill.url + "/v1", "needs_key": False, "timeout_s": 60.0}},
        "routing": {"completion": [name]}})
    app.settings.set_user("completion.api", {name: api})
    seen: list[str] = []
    app.ai.add_gate(lambda provider, req: seen.append(req.messages[0].content))
    yield app, api, seen
    app.close()


def context(app):
    service = service_for(app)
    text = PREFIX + "\n\nprint(greet('Marie'))\n"
    return service, service.context_at(text, len(PREFIX), "greet.py", "python")


def test_a_suggestion_comes_back_through_the_gate_and_is_recorded(remote):
    app, api, seen = remote
    service, ctx = context(app)
    backend = service.backend()
    assert isinstance(backend, InfillBackend if api == "infill" else CompletionsBackend)
    suggestion = service.complete_at(ctx, use_cache=False)
    assert suggestion.text.strip() and suggestion.provider in ("server", "openai")
    # what left the machine passed the gate first, the prefix included
    assert seen and "SECRET-MARKER" in seen[-1]
    if api != "completions":
        assert "print(greet('Marie'))" in seen[-1]          # the suffix went out too
    else:
        assert "print(greet" not in seen[-1]


def test_a_refusing_gate_stops_the_request_before_it_is_sent(remote):
    app, api, _seen = remote

    def refuse(provider, req):
        if "SECRET-MARKER" in req.messages[0].content:
            raise errors.Refused("a secret marker is in the prompt", provider=provider.name)

    app.ai.add_gate(refuse)
    service, ctx = context(app)
    with pytest.raises(errors.Refused):
        service.complete_at(ctx, use_cache=False)


def test_cancelling_stops_the_stream(remote):
    app, _api, _seen = remote
    service, ctx = context(app)
    token = CancelToken()
    with pytest.raises(Cancelled):
        service.backend().run(ctx, max_tokens=48, token=token, on_text=lambda _piece: token.cancel())


def test_the_infill_body_carries_the_snippets_as_input_extra(tmp_path, infill):
    app = make_ai_app(tmp_path / "extra", {
        "providers": {"openai": {"base_url": infill.url + "/v1", "needs_key": False, "timeout_s": 60.0}},
        "routing": {"completion": ["openai"]}})
    try:
        app.settings.set_user("completion.api", {"openai": "infill"})
        service = service_for(app)
        ctx = service.context_at(PREFIX, len(PREFIX), "greet.py", "python",
                                 others=[("names.py", "def greet_all(names):\n    return [greet(n) for n in names]\n")])
        service.complete_at(ctx, use_cache=False)
        body = infill.requests[-1]
        assert body["input_prefix"].endswith("return 'Hello, ' +")   # the caret's trailing space is held back
        assert body["input_extra"] and body["input_extra"][0]["filename"] == "names.py"
    finally:
        app.close()
