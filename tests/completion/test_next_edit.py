"""Next-edit suggestions: the edit history, rename detection, candidate lines, the model's answer
checked (or the rule used instead), with the real Gemma on the completion route."""

from __future__ import annotations

from marie.completion.next_edit import (EditHistory, LineEdit, acceptable, by_rule, candidates, history_prompt,
                                        renamed, suggest)
from marie.completion.service import service_for
from tests.ai.helpers import make_ai_app

BEFORE = """def area(w, height):
    check(w)
    return w * height


print(area(2, 3))
"""


def typed_rename(text: str, old: str, new: str) -> tuple[EditHistory, str]:
    """Rename the first ``old`` to ``new`` a keystroke at a time, as a user types it."""
    history = EditHistory()
    at = text.index(old)
    current = text
    # delete the old name character by character, then type the new one
    for i in range(len(old)):
        nxt = current[:at] + current[at + 1:]
        history.record(nxt, current)
        current = nxt
    for i, ch in enumerate(new):
        nxt = current[:at + i] + ch + current[at + i:]
        history.record(nxt, current)
        current = nxt
    return history, current


def test_keystrokes_on_one_line_are_one_edit_and_a_rename_is_recognised():
    history, after = typed_rename(BEFORE, "w", "width")
    assert len(history.edits) == 1
    edit = history.last()
    assert edit == LineEdit(0, "def area(w, height):", "def area(width, height):")
    assert renamed(edit) == ("w", "width")
    assert renamed(LineEdit(0, "x = 1", "x = 1 + y")) is None        # not a rename
    assert renamed(LineEdit(0, "f(a, b)", "f(c, d)")) is None         # two names changed


def test_candidates_are_the_other_uses_nearest_first():
    history, after = typed_rename(BEFORE, "w", "width")
    found = candidates(after, history.last(), "w")
    assert [line for line, _ in found] == [1, 2]
    assert by_rule(found[1][1], "w", "width") == "    return width * height"
    prompt = history_prompt(history, 1, found[0][1], "w", "width")
    assert "- def area(w, height):\n+ def area(width, height):" in prompt and prompt.endswith("+ ")


def test_model_answers_are_checked():
    original = "    return w * height"
    assert acceptable(" return width * height\nmore", original, "w", "width") == "    return width * height"
    assert acceptable("    return w * height", original, "w", "width") is None      # unchanged
    assert acceptable("    print('hi')", original, "w", "width") is None            # unrelated
    assert acceptable("    return width * 2", original, "w", "width") is None       # rewrote more
    assert acceptable("", original, "w", "width") is None


def test_a_next_edit_is_suggested_with_the_real_model(tmp_path, gemma_path):
    app = make_ai_app(tmp_path / "ne")
    try:
        history, after = typed_rename(BEFORE, "w", "width")
        edit = suggest(service_for(app), history, after, version=7)
        assert edit is not None and edit.version == 7
        assert edit.line == 1 and edit.original == "    check(w)"
        assert "width" in edit.replacement and "(w)" not in edit.replacement
        assert edit.source in ("model", "rule")
    finally:
        app.close()
