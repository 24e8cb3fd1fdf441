"""Completion-style prompting for base models (no chat template), with a scripted raw-prompt model:
few-shot prompt, prefilled block, the two steps of a search/replace block, the append form for new
functions, retries with the refusal as a note, and the answer budget bounded by the files."""

from __future__ import annotations

from marie.composer import few_shot
from marie.composer.context import ContextRequest
from tests.composer.fakes import FakeBaseModel, install

CALC = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"


def base(app, answers):
    model = FakeBaseModel(answers)
    app.__dict__["ai"] = model
    return model


def test_composer_base_model_gets_completion_style_few_shot_prompts(app, workspace):
    (workspace / "config.py").write_text("TIMEOUT = 30\nRETRIES = 3\n")
    fake = base(app, ["RETRIES = 3\n", "RETRIES = 5\n"])
    streamed = []
    proposal = app.composer.propose("change RETRIES to 5", request=ContextRequest("", files=["config.py"]),
                                    on_text=streamed.append)
    assert proposal.ok, proposal.changeset.errors
    assert proposal.changeset.file("config.py").result_text() == "TIMEOUT = 30\nRETRIES = 5\n"
    (first, first_stop, _), (second, _, _) = fake.prompts
    # A document of worked examples, then the file, the task, and the block's start already written.
    assert first.startswith(few_shot._HEAD) and "Task: change RETRIES to 5\nEdit:\n" in first
    assert first.endswith("config.py\n<<<<<<< SEARCH\n") and "=======" in first_stop
    assert second == first + "RETRIES = 3\n=======\n"
    assert "<start_of_turn>" not in first and not fake.requests  # no chat request at all
    assert "".join(streamed) == proposal.attempts[0].answer == (
        "config.py\n<<<<<<< SEARCH\nRETRIES = 3\n=======\nRETRIES = 5\n>>>>>>> REPLACE\n")
    assert fake.gated == [first, second]  # the gate saw exactly what the model read


def test_composer_base_model_appends_a_new_function_with_its_signature_prefilled(app, workspace):
    (workspace / "calc.py").write_text(CALC)
    fake = base(app, ["    return a - b\n"])
    proposal = app.composer.propose("add a function sub(a, b) that returns a - b",
                                    request=ContextRequest("", files=["calc.py"]))
    assert proposal.ok, proposal.changeset.errors
    assert proposal.changeset.file("calc.py").result_text() == CALC + "\n\ndef sub(a, b):\n    return a - b\n"
    prompt, stops, max_tokens = fake.prompts[0]
    assert prompt.endswith("Appended to calc.py:\n```\ndef sub(a, b):\n") and "```" in stops
    assert max_tokens < 400  # bounded by the size of the file, not the 1024 default


def test_composer_base_model_refusal_is_retried_with_a_note_and_a_clear_error(app, workspace):
    (workspace / "config.py").write_text("TIMEOUT = 30\nRETRIES = 3\n")
    # Wrong line (unrelated to the request), then a copied line that is not in the file, then a no-op.
    fake = base(app, ["RETRIES = 3\n", "RETRIES = 6\n", "TIMEOUT = 31\n", "TIMEOUT = 60\n",
                      "TIMEOUT = 30\n", "TIMEOUT = 30\n"])
    proposal = app.composer.propose("set TIMEOUT to 60", request=ContextRequest("", files=["config.py"]))
    assert not proposal.ok
    assert "does not touch anything the request names" in proposal.attempts[0].error
    assert "Note: a previous edit was refused: config.py: the change does not touch" in fake.prompts[2][0]
    assert [a.format for a in proposal.attempts] == ["search_replace"] * len(proposal.attempts)
    assert all(a.error for a in proposal.attempts)
    assert (workspace / "config.py").read_text() == "TIMEOUT = 30\nRETRIES = 3\n"


def test_composer_chat_models_keep_the_chat_prompt(app, workspace):
    (workspace / "a.py").write_text("x = 1\n")
    fake = install(app, ["a.py\n```\nx = 4\n```\n"], local=True, grammar=True)
    proposal = app.composer.propose("x to 4", request=ContextRequest("", files=["a.py"]))
    assert proposal.ok and fake.requests[0].messages[0].role == "system"


def test_composer_request_without_files_picks_the_likely_one(app, workspace):
    (workspace / "calc.py").write_text(CALC)
    (workspace / "notes.txt").write_text("shopping list\n")
    (workspace / "other.py").write_text("x = 1\n")
    fake = base(app, ["    return a - b\n"])
    proposal = app.composer.propose("add a function sub(a, b) next to add and mul", request=ContextRequest(""))
    assert proposal.ok, proposal.changeset.errors
    assert [f.path for f in proposal.changeset.files] == ["calc.py"]
    assert "File calc.py:" in fake.prompts[0][0] and "shopping list" not in fake.prompts[0][0]
