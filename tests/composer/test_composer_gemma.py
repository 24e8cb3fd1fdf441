"""End to end with the real local model (Gemma 3 270M, a base model, on llama.cpp): the completion-style
prompt, the answer parses, the edit applies through the write path, and undo puts the file back. Kept
short (small context, few tokens)."""

from __future__ import annotations

import pytest

from marie.composer.context import ContextRequest
from tests.ai.helpers import make_ai_app


@pytest.fixture
def gemma_app(tmp_path, gemma_path):
    app = make_ai_app(tmp_path / "ws", {"local": {"n_ctx": 2048}})
    yield app
    app.close()


def test_composer_gemma_base_model_adds_sub_next_to_add_and_mul(gemma_app):
    """The issue's case: the bundled base model, completion-style prompt, the append form. Greedy
    decoding makes the answer the same on every run of this llama.cpp build."""
    root = gemma_app.root
    calc = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
    (root / "calc.py").write_text(calc)
    proposal = gemma_app.composer.propose("add a function sub(a, b) that returns a - b", request=ContextRequest(""))
    assert proposal.model.startswith("local:")
    assert gemma_app.composer.prompt_style(None, gemma_app.composer._capabilities(None)) == "completion"
    if not proposal.ok:  # a refusal must explain itself; it must never be garbage shown as valid
        assert proposal.changeset.errors and all(len(e) > 15 for e in proposal.changeset.errors)
        return
    assert [f.path for f in proposal.changeset.files] == ["calc.py"]
    result = gemma_app.composer.apply(proposal.changeset)
    namespace: dict = {}
    exec((root / "calc.py").read_text(), namespace)
    assert namespace["sub"](5, 3) == 2 and namespace["add"](2, 3) == 5 and namespace["mul"](2, 3) == 6
    gemma_app.composer.undo(result)
    assert (root / "calc.py").read_text() == calc


def test_composer_cli_model_option_uses_the_named_local_provider(gemma_app):
    from marie.ai.types import Capabilities

    caps = gemma_app.composer._capabilities("local")
    assert isinstance(caps, Capabilities) and caps.local and caps.grammar
    root = gemma_app.root
    (root / "n.txt").write_text("one\n")
    proposal = gemma_app.composer.propose("Write two instead of one in n.txt", model="local",
                                          request=ContextRequest("", files=["n.txt"]), max_tokens=48)
    assert proposal.model.startswith("local:")
    assert all(not a.error.startswith("not valid") for a in proposal.attempts)
    assert (root / "n.txt").read_text() == "one\n"  # proposing never writes
