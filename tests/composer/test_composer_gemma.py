"""End to end with the real local model (Gemma 3 270M on llama.cpp), grammar-constrained: the answer
parses, the edit applies through the write path, and undo puts the file back. Kept short (small context,
few tokens)."""

from __future__ import annotations

import pytest

from marie.composer.context import ContextRequest
from tests.ai.helpers import make_ai_app


@pytest.fixture
def gemma_app(tmp_path, gemma_path):
    app = make_ai_app(tmp_path / "ws", {"local": {"n_ctx": 2048}})
    yield app
    app.close()


def test_composer_gemma_grammar_constrained_edit_applies_and_undoes(gemma_app):
    root = gemma_app.root
    (root / "greeting.txt").write_text("hello world\n")
    proposal = gemma_app.composer.propose(
        "Rewrite greeting.txt so that it says: goodbye world",
        request=ContextRequest("", files=["greeting.txt"]), max_tokens=128)
    assert proposal.model.startswith("local:")
    first = proposal.attempts[0]
    assert first.format == "whole"
    # The grammar kept the model inside the format: no attempt failed to parse.
    assert all(not a.error.startswith("not valid") for a in proposal.attempts), [a.error for a in proposal.attempts]
    assert proposal.ok, [a.answer for a in proposal.attempts]
    assert [f.path for f in proposal.changeset.files] == ["greeting.txt"]
    new_text = proposal.changeset.file("greeting.txt").result_text()
    result = gemma_app.composer.apply(proposal.changeset)
    assert (root / "greeting.txt").read_text() == new_text != "hello world\n"
    gemma_app.composer.undo(result)
    assert (root / "greeting.txt").read_text() == "hello world\n"


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
