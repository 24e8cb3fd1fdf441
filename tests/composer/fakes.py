"""FakeModel: a scripted stand-in for ``app.ai`` (same ``complete()`` contract as AIService), for
deterministic composer tests. The real model is exercised in test_composer_gemma.py."""

from __future__ import annotations

from marie.ai.types import Capabilities, Completion, Usage


class FakeModel:
    def __init__(self, answers: list[str], *, context_length: int = 8192, local: bool = False,
                 grammar: bool = False, truncated: bool = False) -> None:
        self.answers = list(answers)
        self.truncated = truncated  # every answer reports that it stopped at the request's token limit
        self.requests = []
        self.routes = []
        self.caps = Capabilities(context_length, grammar, False, False, local)

    def complete(self, task, request, token=None, on_text=None, route=None):
        self.requests.append(request)
        self.routes.append(route)
        if not self.answers:
            raise AssertionError("FakeModel: no scripted answer left")
        text = self.answers.pop(0)
        if on_text:
            for i in range(0, len(text), 7):
                on_text(text[i:i + 7])
        return Completion(text, Usage(prompt_tokens=sum(len(m.content) for m in request.messages) // 4,
                                      completion_tokens=request.max_tokens if self.truncated else len(text) // 4,
                                      cost_usd=0.001), "fake", "fake-1")

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
