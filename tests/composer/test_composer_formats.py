"""Edit formats and matching tiers, with scripted model answers (deterministic)."""

from __future__ import annotations

import pytest

from marie.composer import edits, formats
from marie.composer.changeset import build_changeset
from marie.composer.errors import ParseError

SRC = """import os


def greet(name):
    message = "hello " + name
    print(message)
    return message


class Shop:
    def total(self, items):
        result = 0
        for item in items:
            result += item.price
        return result
"""


def run(answer: str, fmt: str, text: str = SRC, path: str = "a.py"):
    states, errors = edits.apply_edits(formats.parse(answer, fmt), lambda p: text if p == path else None)
    return states, errors


@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_composer_every_format_renders_and_applies_exactly(fmt):
    new = SRC.replace('"hello "', '"hi "').replace("result += item.price", "result += item.price * item.qty")
    answer = formats.render(fmt, "a.py", SRC, new)
    states, errors = run(answer, fmt)
    assert not errors
    assert states["a.py"].text == new
    assert set(states["a.py"].tiers) <= {"exact", "whole"}


def test_composer_search_replace_whitespace_drift():
    answer = ("a.py\n<<<<<<< SEARCH\n    message  =  \"hello \" + name   \n    print(message)\t\n=======\n"
              "    message = \"hey \" + name\n    print(message)\n>>>>>>> REPLACE\n")
    states, errors = run(answer, "search_replace")
    assert not errors
    assert states["a.py"].tiers == ["whitespace"]
    assert '    message = "hey " + name\n    print(message)\n' in states["a.py"].text


def test_composer_search_replace_wrong_indentation_is_reindented():
    answer = ("a.py\n<<<<<<< SEARCH\nfor item in items:\n    result += item.price\n=======\n"
              "for item in items:\n    if item:\n        result += item.price\n>>>>>>> REPLACE\n")
    states, errors = run(answer, "sr")
    assert not errors
    assert states["a.py"].tiers == ["indent"]
    assert "        for item in items:\n            if item:\n                result += item.price\n" in states["a.py"].text


def test_composer_search_replace_fuzzy_tier_and_threshold():
    answer = ("a.py\n<<<<<<< SEARCH\n    def total(self, items):\n        result = 0\n        for it in items:\n"
              "            result += item.price\n        return result\n=======\n    def total(self, items):\n"
              "        return sum(i.price for i in items)\n>>>>>>> REPLACE\n")
    states, errors = run(answer, "sr")
    assert not errors, errors
    assert states["a.py"].tiers == ["fuzzy"]
    assert states["a.py"].text.endswith("    def total(self, items):\n        return sum(i.price for i in items)\n")
    far = answer.replace("for it in items", "while True: pass  # something else entirely different")
    far = far.replace("result = 0", "total_value = compute_everything()")
    _, errors = run(far, "sr")
    assert errors and "could not find" in str(errors[0])


def test_composer_several_matches_is_an_error_unless_a_line_hint_picks_one():
    text = "a = 1\nx = 0\nb = 2\nx = 0\n"
    answer = "f.py\n<<<<<<< SEARCH\nx = 0\n=======\nx = 9\n>>>>>>> REPLACE\n"
    states, errors = run(answer, "sr", text, "f.py")
    assert errors and "occur 2 times" in str(errors[0])
    assert states["f.py"].text == text
    hinted = answer.replace("SEARCH\n", "SEARCH line 4\n")
    states, errors = run(hinted, "sr", text, "f.py")
    assert not errors
    assert states["f.py"].text == "a = 1\nx = 0\nb = 2\nx = 9\n"


def test_composer_fuzzy_ambiguous_is_refused():
    text = "def a():\n    value = compute(1)\n    return value\n\ndef b():\n    value = compute(2)\n    return value\n"
    answer = "f.py\n<<<<<<< SEARCH\n    value = compute(3)\n    return value\n=======\n    return 0\n>>>>>>> REPLACE\n"
    states, errors = run(answer, "sr", text, "f.py")
    assert errors and "equally well" in str(errors[0]) or "occur" in str(errors[0])
    assert states["f.py"].text == text


def test_composer_elided_context_in_search_block():
    answer = ("a.py\n<<<<<<< SEARCH\nclass Shop:\n    ...\n        return result\n=======\nclass Store:\n    ...\n"
              "        return round(result, 2)\n>>>>>>> REPLACE\n")
    states, errors = run(answer, "sr")
    assert not errors, errors
    text = states["a.py"].text
    assert "class Store:\n    def total(self, items):" in text
    assert text.endswith("        return round(result, 2)\n")
    assert states["a.py"].tiers == ["exact+elided"]


def test_composer_udiff_with_missing_context_lines_and_no_numbers():
    answer = ("```diff\n--- a/a.py\n+++ b/a.py\n@@ ... @@\n def greet(name):\n     message = \"hello \" + name\n"
              "-    print(message)\n+    log(message)\n@@ ... @@\n         for item in items:\n"
              "-            result += item.price\n+            result += item.price * 2\n"
              "         return result\n```\n")
    states, errors = run(answer, "udiff")
    assert not errors, errors
    assert "    log(message)\n" in states["a.py"].text
    assert "result += item.price * 2" in states["a.py"].text


def test_composer_udiff_hunk_with_a_dropped_context_line_is_split():
    # The model left out "    print(message)" between two changes of one hunk.
    answer = ("--- a/a.py\n+++ b/a.py\n@@ -4,4 +4,4 @@\n def greet(name):\n-    message = \"hello \" + name\n"
              "+    message = \"hey \" + name\n-    return message\n+    return message.upper()\n")
    states, errors = run(answer, "udiff")
    assert not errors, errors
    assert '    message = "hey " + name\n    print(message)\n    return message.upper()\n' in states["a.py"].text
    assert "split" in states["a.py"].tiers[0] or "fuzzy" in states["a.py"].tiers[0]


def test_composer_crlf_and_non_ascii_keep_their_endings():
    text = "# café ☕\r\nname = 'Zoë'\r\nprint(name)\r\n"
    answer = "m.py\n<<<<<<< SEARCH\nname = 'Zoë'\n=======\nname = 'Zoë Ünal — 日本'\n>>>>>>> REPLACE\n"
    states, errors = run(answer, "sr", text, "m.py")
    assert not errors
    assert states["m.py"].text == "# café ☕\r\nname = 'Zoë Ünal — 日本'\r\nprint(name)\r\n"
    whole = "m.py\n```python\n# café ☕\nname = 'Zoë!'\nprint(name)\n```\n"
    states, errors = run(whole, "whole", text, "m.py")
    assert states["m.py"].text == "# café ☕\r\nname = 'Zoë!'\r\nprint(name)\r\n"


def test_composer_whole_file_keeps_original_lines_with_trailing_whitespace_drift():
    text = "a = 1   \nb = 2\n"
    states, _ = run("x.py\n```\na = 1\nb = 3\n```\n", "whole", text, "x.py")
    assert states["x.py"].text == "a = 1   \nb = 3\n"


def test_composer_create_delete_rename_operations(tmp_path):
    (tmp_path / "old.py").write_text("x = 1\n")
    (tmp_path / "gone.py").write_text("y = 2\n")
    answer = ("new/mod.py\n<<<<<<< SEARCH\n=======\nz = 3\n>>>>>>> REPLACE\n"
              "DELETE gone.py\nRENAME old.py -> pkg/renamed.py\n"
              "pkg/renamed.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 10\n>>>>>>> REPLACE\n")
    cs = build_changeset(tmp_path, formats.parse(answer, "sr"), "ops")
    assert not cs.errors, cs.errors
    status = {f.path: (f.status, f.renamed_from) for f in cs.files}
    assert status == {"new/mod.py": ("created", None), "gone.py": ("deleted", None),
                      "pkg/renamed.py": ("renamed", "old.py")}
    diff = cs.unified_diff()
    assert "rename from old.py" in diff and "+x = 10" in diff and "+++ /dev/null" in diff


def test_composer_udiff_create_and_delete_with_dev_null(tmp_path):
    (tmp_path / "gone.txt").write_text("bye\n")
    answer = ("--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n"
              "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n")
    cs = build_changeset(tmp_path, formats.parse(answer, "udiff"), "x")
    assert not cs.errors
    assert {f.path: f.status for f in cs.files} == {"hello.txt": "created", "gone.txt": "deleted"}
    assert cs.file("hello.txt").result_text() == "hello\nworld\n"


@pytest.mark.parametrize("fmt,answer,needle", [
    ("sr", "a.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n", "no ======="),
    ("sr", "a.py\n<<<<<<< SEARCH\nx\n=======\ny\n", "cut off"),
    ("sr", "<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "without a file path"),
    ("sr", "just some prose", "no edit blocks"),
    ("sr", "=======\n", "outside"),
    ("whole", "a.py\n```\nunclosed\n", "not closed"),
    ("whole", "nothing here", "no file found"),
    ("udiff", "@@ -1 +1 @@\n-a\n+b\n", "before any ---/+++"),
    ("udiff", "prose only", "no diff found"),
])
def test_composer_malformed_answers_give_clear_errors(fmt, answer, needle):
    with pytest.raises(ParseError) as info:
        formats.parse(answer, fmt)
    assert needle in str(info.value)


def test_composer_grammar_for_every_format_loads_in_llama_cpp():
    from llama_cpp import LlamaGrammar

    from marie.composer.formats.grammar import grammar
    for name in formats.FORMATS:
        assert LlamaGrammar.from_string(grammar(name), verbose=False) is not None


def test_composer_search_replace_with_a_left_out_context_line_keeps_it():
    # The model skipped "    print(message)" in both parts; the file keeps it.
    answer = ("a.py\n<<<<<<< SEARCH\ndef greet(name):\n    message = \"hello \" + name\n    return message\n=======\n"
              "def greet(name):\n    message = \"hello \" + name\n    return message + '!'\n>>>>>>> REPLACE\n")
    states, errors = run(answer, "sr")
    assert not errors, errors
    assert states["a.py"].tiers == ["fuzzy"]
    assert '    message = "hello " + name\n    print(message)\n    return message + \'!\'\n' in states["a.py"].text


def test_composer_left_out_line_between_repeated_lines_is_refused_not_guessed():
    text = "class A:\n    \"\"\"\n    Doc.\n    \"\"\"\n\n    x = 1\n"
    # Which of the two identical quote lines the model deleted is uncertain once "Doc." is missing.
    answer = "f.py\n<<<<<<< SEARCH\nclass A:\n    \"\"\"\n    \"\"\"\n\n    x = 1\n=======\nclass A:\n    \"\"\"\n\n    x = 1\n>>>>>>> REPLACE\n"
    states, errors = run(answer, "sr", text, "f.py")
    assert errors and "resemble" in str(errors[0])
    assert states["f.py"].text == text


def test_composer_udiff_hunk_lines_that_look_like_fences_are_content():
    text = "Title\n~~~~~\n\nbody\n"
    answer = "--- a/r.rst\n+++ b/r.rst\n@@ -1,4 +1,4 @@\n Title\n ~~~~~\n \n-body\n+new body\n"
    states, errors = run(answer, "udiff", text, "r.rst")
    assert not errors and states["r.rst"].text == "Title\n~~~~~\n\nnew body\n"


def test_composer_grammar_can_be_limited_to_the_files_shown():
    from marie.composer.formats.grammar import grammar

    g = grammar("whole", ["src/a.py"])
    assert 'path ::= "src/a.py"' in g and "root ::= file\n" in g


def test_composer_udiff_insertion_with_context_on_one_side_only_is_refused_mid_file():
    text = "a\nb\nc\nd\ne\n"
    answer = "--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,3 @@\n a\n b\n+new\n"
    states, errors = run(answer, "udiff", text, "f.txt")
    assert errors and "no unchanged line after" in str(errors[0])
    assert states["f.txt"].text == text
    at_end = "--- a/f.txt\n+++ b/f.txt\n@@ -4,2 +4,3 @@\n d\n e\n+new\n"
    states, errors = run(at_end, "udiff", text, "f.txt")
    assert not errors and states["f.txt"].text == text + "new\n"


def test_composer_trimmed_hunk_must_agree_with_its_surroundings():
    text = ("block_one = [\n    header_one,\n    include(x),\n]\n\nblock_two = [\n    header_two,\n"
            "    include(x),\n    special,\n]\n")
    # The model dropped "    special," (right where it inserts) from a hunk meant for block_two.
    answer = ("--- a/g.py\n+++ b/g.py\n@@ -6,5 +6,6 @@\n block_two = [\n     header_two,\n     include(x),\n"
              "+    added,\n ]\n")
    states, errors = run(answer, "udiff", text, "g.py")
    assert errors
    assert states["g.py"].text == text


def test_composer_tight_grammar_only_allows_the_files_own_lines():
    from llama_cpp import LlamaGrammar

    from marie.composer.formats.grammar import tight_search_replace

    text = 'def add(a, b):\n    return a + b  # "sum"\\\n\n\ndef mul(a, b):\n\treturn a * b\n'
    g = tight_search_replace({"calc.py": text}, max_edits=2)
    assert LlamaGrammar.from_string(g, verbose=False) is not None
    assert '"calc.py"' in g and "path ::=" not in g  # no new file unless asked
    assert "{0,1}" in g  # at most two blocks
    # Each line is a literal (escaped), chained to the next; a SEARCH run starts on a non-blank line.
    assert 'f0l1 ::= "    return a + b  # \\"sum\\"\\\\\\n" f0l2?' in g
    assert "search0 ::= f0l0 | f0l1 | f0l4 | f0l5" in g
    assert "path ::=" in tight_search_replace({"calc.py": text}, new_file=True)
