"""FakeModel: a scripted stand-in for ``app.ai`` that implements ``marie.services.AiApi`` with the
same ``complete()`` contract as AIService (tests/ai/test_ai_contract.py runs one suite against both),
for deterministic composer tests. The real model is exercised in test_composer_gemma.py.

The fake's "tokens" are runs of four characters (``count_tokens``): answers stream one token per
``on_text`` call, stop at ``max_tokens`` tokens and at the first stop string, raise ``Cancelled`` as
soon as the token is cancelled, and a request with a ``json_schema`` must be scripted with JSON that
validates (a constrained model cannot say anything else)."""

from __future__ import annotations

from types import SimpleNamespace

from marie.ai import errors
from marie.ai.provider import Provider, Result
from marie.ai.types import Capabilities, Completion, Usage
from marie.ai.usage import UsageStore
from marie.core import paths
from marie.core.tasks import Cancelled

CHARS_PER_TOKEN = 4
TASKS = ("composer", "commit_message", "chat", "agent")


def _tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


class FakeProvider(Provider):
    """``FakeModel.provider(name)``: answers the model's scripted texts (the provider's side)."""

    def __init__(self, model: "FakeModel", name: str) -> None:
        self.model, self.name, self.local = model, name, model.caps.local

    def capabilities(self, model):
        return self.model.caps

    def count_tokens(self, text, model):
        return self.model.count_tokens(text, "chat")

    def complete(self, request, model, token, on_text):
        fake = self.model
        if token is not None and token.cancelled:
            raise Cancelled()
        if not fake.answers:
            raise AssertionError("FakeModel: no scripted answer left")
        text = fake.answers.pop(0)
        if request.json_schema is not None:
            import jsonschema

            try:
                jsonschema.validate(__import__("json").loads(text), request.json_schema)
            except (ValueError, jsonschema.ValidationError) as exc:   # not JSON, or not of the schema
                raise AssertionError(f"FakeModel: scripted answer is not JSON of the request's schema: {exc}")
        cuts = [text.find(s) for s in request.stop if s and s in text]
        text = text[:min(cuts)] if cuts else text
        text = text[:max(0, request.max_tokens) * CHARS_PER_TOKEN]
        for i in range(0, len(text), CHARS_PER_TOKEN):
            if on_text:
                on_text(text[i:i + CHARS_PER_TOKEN])
            if token is not None and token.cancelled:
                raise Cancelled()
        prompt = max(1, _tokens("".join(m.content for m in request.messages)))
        done = request.max_tokens if fake.truncated else max(1, _tokens(text))
        return Result(text, Usage(prompt_tokens=prompt, completion_tokens=done, cost_usd=0.001), model or "fake-1")


class FakeModel:
    def __init__(self, answers: list[str], *, context_length: int = 8192, local: bool = False,
                 grammar: bool = False, truncated: bool = False, json_schema: bool = False,
                 providers: tuple[str, ...] = ("fake",)) -> None:
        self.answers = list(answers)
        self.truncated = truncated  # every answer reports that it stopped at the request's token limit
        self.requests = []
        self.routes = []
        self.caps = Capabilities(context_length, grammar, json_schema, False, local)
        self.providers = providers  # the provider names a ``route=`` may name; others are ModelMissing
        self.model_state: dict = {"state": "ready", "model": "fake-1"}
        # Its own usage file in this run's data folder (not the real service's, which may be sealed).
        self.usage = UsageStore(paths.data_dir() / "fake-usage.sqlite")

    def provider(self, name):
        if name not in self.providers:
            raise errors.ModelMissing(f"no provider named {name!r} in the settings (ai.providers.{name})",
                                      provider=name)
        return FakeProvider(self, name)

    def route(self, task):
        if task not in TASKS:
            raise ValueError(f"unknown AI task {task!r}; known: {', '.join(TASKS)}")
        return [(self.providers[0], "fake-1")]

    def gate(self, provider, request, task="chat", model="", *, redact=False):
        return SimpleNamespace(request=request, mapping={}, restore=lambda text: text)

    def preload(self):
        return None   # nothing to load

    def complete(self, task, request, token=None, on_text=None, route=None):
        self.requests.append(request)
        self.routes.append(route)
        name, _, model = (route or "").partition(":")
        if not route:
            name, model = self.route(task)[0]
        provider = self.provider(name)
        outcome = self.gate(provider, request, task, model, redact=True)
        sent = request if outcome is None else outcome.request   # FakeBaseModel's gate only records
        result = provider.complete(sent, model or "fake-1", token, on_text)
        self.usage.record(task, name, result.model, result.usage)
        return Completion(result.text, result.usage, name, result.model)

    def capabilities(self, task):
        return self.caps

    def count_tokens(self, text, task):
        return max(1, len(text) // 4)

    def active_model(self, task):
        return "fake:fake-1"


def install(app, answers, **kw) -> FakeModel:
    model = FakeModel(answers, **kw)
    app.__dict__["ai"] = model  # replaces the lazily-built AIService for this app
    return model


class FakeBaseModel(FakeModel):
    """A local base model (no chat template) with the provider's raw-prompt path: ``complete_prompt``
    answers the scripted texts in order and records each prompt and its stop strings. It stands in for
    ``LocalProvider.complete_prompt`` behind ``app.ai`` (the real one runs in test_composer_gemma.py)."""

    base_model = True

    def __init__(self, answers: list[str], **kw) -> None:
        super().__init__(answers, local=True, grammar=True, **kw)
        self.prompts: list[tuple[str, tuple[str, ...], int]] = []
        self.gated: list[str] = []
        self.usage = self

    # app.ai's side
    def provider(self, name):
        return self

    def _model_for(self, provider, model):
        return model or "fake-base"

    def active_model(self, task):
        return "local:fake-base"

    def gate(self, provider, request, task="chat", model="", **kw):
        self.gated.append(request.messages[-1].content)

    def record(self, *args, **kw):
        pass

    # the provider's side
    def complete_prompt(self, prompt, model="", *, max_tokens=48, stop=(), token=None, on_text=None,
                        skip_if_busy=True):
        from marie.ai.provider import Result

        self.prompts.append((prompt, tuple(stop), max_tokens))
        if not self.answers:
            raise AssertionError("FakeBaseModel: no scripted answer left")
        text = self.answers.pop(0)
        if on_text:
            on_text(text)
        return Result(text, Usage(prompt_tokens=len(prompt) // 4, completion_tokens=max(1, len(text) // 4)),
                      "fake-base")
