"""The sanity gate: garbage that parses and applies is refused with a reason, and the model is retried
with that reason (scripted FakeModel answers, real files)."""

from __future__ import annotations

import pytest

from marie.composer import formats, sanity
from marie.composer.changeset import build_changeset
from marie.composer.context import ContextRequest
from tests.composer.fakes import install

CALC = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
SUB = "calc.py\n<<<<<<< SEARCH\n    return a * b\n=======\n    return a * b\n\n\ndef sub(a, b):\n    return a - b\n>>>>>>> REPLACE\n"


def sr(path, old, new):
    return f"{path}\n<<<<<<< SEARCH\n{old}=======\n{new}>>>>>>> REPLACE\n"


def gate(root, answer, fmt, instruction):
    edits = formats.parse(answer, fmt)
    cs = build_changeset(root, edits, instruction, format=fmt)
    assert not cs.errors, cs.errors
    return sanity.check(cs, edits, instruction)


@pytest.fixture
def calc(tmp_path):
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "ui.js").write_text("function f(a) {\n  return a;\n}\n")
    return tmp_path


def test_composer_sanity_accepts_a_good_edit(calc):
    assert gate(calc, SUB, "sr", "add a function sub(a, b) that returns a - b") == []


def test_composer_sanity_refuses_duplicate_edits(calc):
    twice = sr("calc.py", "    return a + b\n", "    return a + b  # one\n") + \
        sr("calc.py", "    return a + b\n", "    return a + b  # two\n")
    edits = formats.parse(twice, "sr")
    reasons = sanity.duplicate_edits(edits)
    assert reasons and "the same lines" in reasons[0]
    whole = "calc.py\n```\nx = 1\n```\ncalc.py\n```\nx = 2\n```\n"
    assert "rewrites the same file" in sanity.duplicate_edits(formats.parse(whole, "whole"))[0]


def test_composer_sanity_refuses_files_the_instruction_did_not_ask_for(calc):
    answer = SUB + "You\n<<<<<<< SEARCH\n=======\nhello\n>>>>>>> REPLACE\n"
    reasons = gate(calc, answer, "sr", "add a function sub(a, b) that returns a - b @file:calc.py")
    assert any("You: the answer creates this file" in r for r in reasons)
    assert gate(calc, answer, "sr", "add sub, and create a new file named You") == []


def test_composer_sanity_refuses_deleting_most_of_a_file_for_an_addition(calc):
    answer = "calc.py\n```\ndef sub(a, b):\n    return a - b\n```\n"
    reasons = gate(calc, answer, "whole", "add a function sub(a, b) that returns a - b")
    assert any("removes most of the file" in r for r in reasons)
    assert not any("removes most" in r for r in gate(calc, answer, "whole", "replace everything with sub"))
    reasons = gate(calc, "DELETE calc.py\n", "sr", "add a function sub")
    assert any("deletes this file" in r for r in reasons)


@pytest.mark.parametrize("path,answer", [
    ("calc.py", sr("calc.py", "    return a + b\n", "    return a +\n")),
    ("ui.js", sr("ui.js", "  return a;\n", "  return a;;{\n")),
])
def test_composer_sanity_refuses_results_that_no_longer_parse(calc, path, answer):
    reasons = gate(calc, answer, "sr", "change the return")
    assert any(f"{path}: the result no longer parses" in r for r in reasons), reasons


def test_composer_sanity_file_that_did_not_parse_before_is_not_blamed(calc):
    (calc / "broken.py").write_text("def f(:\n    pass\n")
    assert gate(calc, sr("broken.py", "    pass\n", "    return 1\n"), "sr", "return 1") == []


def test_composer_sanity_no_change_is_refused(calc):
    reasons = gate(calc, sr("calc.py", "    return a + b\n", "    return a + b\n"), "sr", "change it")
    assert reasons == ["the edits change nothing"]


def test_composer_sanity_refusal_is_retried_with_the_reason_shown(app, workspace):
    (workspace / "calc.py").write_text(CALC)
    dropped = sr("calc.py", CALC, "def sub(a, b):\n    return a - b\n")
    fake = install(app, [dropped, SUB])
    proposal = app.composer.propose("add a function sub(a, b) that returns a - b",
                                    request=ContextRequest("", files=["calc.py"]), fmt="sr")
    assert "removes most of the file" in proposal.attempts[0].error
    assert "removes most of the file" in fake.requests[1].messages[-1].content
    assert proposal.ok and len(proposal.attempts) == 2
    assert proposal.changeset.file("calc.py").result_text() == CALC + "\n\ndef sub(a, b):\n    return a - b\n"


def test_composer_sanity_refuses_removed_functions_and_new_undefined_names(calc):
    renamed = sr("calc.py", "def add(a, b):\n", "def mul(a, b):\n")
    reasons = gate(calc, renamed, "sr", "add a docstring to mul")
    assert any("removes add" in r for r in reasons) and any("defines mul twice" in r for r in reasons)
    assert not any("removes add" in r for r in gate(calc, renamed.replace("mul(a", "plus(a"), "sr",
                                                     "rename add to plus"))
    root = sr("calc.py", "    return a * b\n", "    return a * b\n\n\ndef root(x):\n    return math.sqrt(x)\n")
    assert any("uses math" in r for r in gate(calc, root, "sr", "add a function root(x)"))


def test_composer_sanity_strict_refuses_approximate_and_unrelated_changes(tmp_path):
    (tmp_path / "config.py").write_text("TIMEOUT = 30\nRETRIES = 3\n")
    wrong_line = sr("config.py", "RETRIES = 3\n", "RETRIES = 6\n")
    edits = formats.parse(wrong_line, "sr")
    cs = build_changeset(tmp_path, edits, "set TIMEOUT to 60", format="sr")
    assert any("does not touch anything the request names" in r
               for r in sanity.check(cs, edits, "set TIMEOUT to 60", strict=True))
    assert sanity.check(cs, edits, "set TIMEOUT to 60") == []  # chat models are not held to it
    (tmp_path / "calc.py").write_text(CALC)
    drifted = sr("calc.py", "def add(a, b):\n    return a - b\n", "def mul(a, b):\n    return a * b\n")
    edits = formats.parse(drifted, "sr")
    cs = build_changeset(tmp_path, edits, "add sub", format="sr")
    assert any("only resemble" in r for r in sanity.check(cs, edits, "add sub", strict=True))
