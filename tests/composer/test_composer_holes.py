"""Regression tests for the apply holes of issue 14: answers that applied as something other than what
was proposed, malformed answers that changed files, and valid diffs that were refused. Each test failed
before its fix."""

from __future__ import annotations

import difflib

import pytest

from marie.composer import edits, formats
from marie.composer.changeset import build_changeset
from marie.composer.errors import ParseError


def run(answer: str, fmt: str, files: dict[str, str]):
    return edits.apply_edits(formats.parse(answer, fmt), lambda p: files.get(p))


def build(root, answer: str, fmt: str, **kw):
    return build_changeset(root, formats.parse(answer, fmt), "test", format=fmt, **kw)


def udiff(path: str, old: str, new: str, n: int = 3) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}", n=n))


# -- DELETE after a diff hunk ----------------------------------------------------------------------

def test_composer_delete_line_after_a_diff_hunk_is_an_operation(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\ny = 2\nz = 3\n")
    (tmp_path / "b.py").write_text("gone = True\n")
    answer = "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x = 1\n-y = 2\n+y = 3\n z = 3\nDELETE b.py\n"
    cs = build(tmp_path, answer, "udiff")
    assert not cs.errors, cs.errors
    assert {f.path: f.status for f in cs.files} == {"a.py": "modified", "b.py": "deleted"}
    assert cs.file("a.py").result_text() == "x = 1\ny = 3\nz = 3\n"
    assert cs.file("a.py").tiers == ["exact"]


def test_composer_delete_line_after_a_dev_null_deletion_hunk_is_kept(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 1\n")
    answer = "--- a/a.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\nDELETE b.py\n"
    cs = build(tmp_path, answer, "udiff")
    assert {f.path: f.status for f in cs.files} == {"a.py": "deleted", "b.py": "deleted"}


# -- whitespace-only changes inside lines ----------------------------------------------------------

def test_composer_whole_file_applies_inner_whitespace_changes():
    base = 'D = {"a":  1,\n     "bb": 2}\n'
    answer = 'x.py\n```\nD = {"a": 1,\n     "bb":  2}\n```\n'
    states, errors = run(answer, "whole", {"x.py": base})
    assert not errors
    assert states["x.py"].text == 'D = {"a": 1,\n     "bb":  2}\n'


def test_composer_search_replace_whitespace_tier_applies_inner_whitespace_changes():
    base = 'def f():\n    d = {"a": 1,\n         "bb": 2}\n    return d\n'
    # The copied search has a trailing space (whitespace tier); the replacement re-aligns one value.
    answer = ('x.py\n<<<<<<< SEARCH\n    d = {"a": 1, \n         "bb": 2}\n=======\n    d = {"a":  1,\n'
              '         "bb": 2}\n>>>>>>> REPLACE\n')
    states, errors = run(answer, "sr", {"x.py": base})
    assert not errors, errors
    assert states["x.py"].tiers == ["whitespace"]
    # The changed line is the model's; the unchanged one keeps the file's exact text.
    assert states["x.py"].text == 'def f():\n    d = {"a":  1,\n         "bb": 2}\n    return d\n'


def test_composer_search_replace_indent_tier_applies_inner_whitespace_changes():
    base = 'class A:\n    def f(self):\n        x = g(1,2)\n        return x\n'
    answer = "x.py\n<<<<<<< SEARCH\ndef f(self):\n    x = g(1,2)\n=======\ndef f(self):\n    x = g(1, 2)\n>>>>>>> REPLACE\n"
    states, errors = run(answer, "sr", {"x.py": base})
    assert not errors, errors
    assert states["x.py"].tiers == ["indent"]
    assert states["x.py"].text == 'class A:\n    def f(self):\n        x = g(1, 2)\n        return x\n'


def test_composer_fuzzy_tier_applies_inner_whitespace_changes():
    base = ("def total(items):\n    result = 0\n    for item in items:\n        result += item.price\n"
            "    return result\n")
    # One copied line drifts ("for it in"), the change is whitespace only ("result  =  0").
    answer = ("x.py\n<<<<<<< SEARCH\ndef total(items):\n    result = 0\n    for it in items:\n"
              "        result += item.price\n=======\ndef total(items):\n    result  =  0\n    for it in items:\n"
              "        result += item.price\n>>>>>>> REPLACE\n")
    states, errors = run(answer, "sr", {"x.py": base})
    assert not errors, errors
    assert states["x.py"].tiers == ["fuzzy"]
    # The drifted line the model did not mean to change keeps the file's text.
    assert states["x.py"].text == base.replace("result = 0", "result  =  0")


def test_composer_whitespace_only_hunks_are_listed_for_review(tmp_path):
    (tmp_path / "x.py").write_text("a = {1:  2}\nb = 3\n")
    cs = build(tmp_path, "x.py\n<<<<<<< SEARCH\na = {1:  2}\n=======\na = {1: 2}\n>>>>>>> REPLACE\n", "sr")
    hunks = cs.file("x.py").hunks
    assert len(hunks) == 1 and hunks[0].whitespace_only
    cs.file("x.py").set_hunk(0, False)
    assert not cs.applicable  # rejected in review, nothing is left to apply


# -- blank edge lines of a SEARCH block -----------------------------------------------------------

DECO = "def outer():\n    def decorator(f):\n        return f\n    return decorator\n"


def test_composer_search_blank_edge_line_not_in_the_file_is_refused():
    answer = ("d.py\n<<<<<<< SEARCH\n\n    return decorator\n=======\n\n    def extra():\n        pass\n\n"
              "    return decorator\n>>>>>>> REPLACE\n")
    states, errors = run(answer, "sr", {"d.py": DECO})
    assert errors and "blank" in str(errors[0])
    assert states["d.py"].text == DECO


def test_composer_search_blank_edge_line_matches_where_the_file_has_it():
    text = "x = 1\n    return decorator\n\ny = 2\n\n    return decorator\n"
    answer = "d.py\n<<<<<<< SEARCH\n\n    return decorator\n=======\n\n    return wrapper\n>>>>>>> REPLACE\n"
    states, errors = run(answer, "sr", {"d.py": text})
    assert not errors, errors
    assert states["d.py"].text == "x = 1\n    return decorator\n\ny = 2\n\n    return wrapper\n"


# -- a cut-off diff hunk ---------------------------------------------------------------------------

def test_composer_cut_off_diff_hunk_is_refused(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\ny = 2\nz = 3\n")
    answer = "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x = 1\n-y = 2\n"
    with pytest.raises(ParseError) as info:
        formats.parse(answer, "udiff")
    assert "cut off" in str(info.value)


def test_composer_answer_cut_by_the_token_limit_is_refused(app, workspace):
    from marie.composer.context import ContextRequest
    from tests.composer.fakes import install

    (workspace / "a.py").write_text("x = 1\ny = 2\nz = 3\n")
    cut = "--- a/a.py\n+++ b/a.py\n@@ ... @@\n x = 1\n-y = 2\n"
    install(app, [cut, cut, cut], truncated=True)
    proposal = app.composer.propose("y to 3", request=ContextRequest("", files=["a.py"]), fmt="udiff", max_tokens=8)
    assert not proposal.ok
    assert "cut off" in proposal.changeset.errors[0]
    assert (workspace / "a.py").read_text() == "x = 1\ny = 2\nz = 3\n"


# -- fences closed early ---------------------------------------------------------------------------

def test_composer_whole_file_indented_fence_in_a_docstring_does_not_close_the_block():
    a = 'def f():\n    """Example:\n\n    ```\n    f()\n    ```\n    """\n    main()\n'
    answer = f"a.py\n```python\n{a}```\n\nb.py\n```\ny = 2\n```\n"
    edit_list = formats.parse(answer, "whole")
    assert [(e.path, e.content) for e in edit_list] == [("a.py", a), ("b.py", "y = 2\n")]


def test_composer_whole_file_lines_of_only_backticks_are_content():
    text = "Title\n`````\n\nBody\n``\n"
    edit_list = formats.parse(f"r.rst\n```\n{text}```\n", "whole")
    assert [(e.path, e.content) for e in edit_list] == [("r.rst", text)]


def test_composer_whole_file_inner_fence_of_the_same_run_takes_the_reading_with_each_path_once():
    md = "# Doc\n\n```\nmake run\n```\n\nend\n"
    answer = f"README.md\n```\n{md}```\n\nb.py\n```\ny = 2\n```\n"
    edit_list = formats.parse(answer, "whole")
    assert [(e.path, e.content) for e in edit_list] == [("README.md", md), ("b.py", "y = 2\n")]


def test_composer_whole_file_chatter_after_a_code_file_is_not_swallowed():
    answer = "a.py\n```\nx = 1\n```\nRun it with:\n```\npython a.py\n```\n"
    with pytest.raises(ParseError) as info:
        formats.parse(answer, "whole")
    assert "without a file path" in str(info.value)


# -- size and NUL bytes ----------------------------------------------------------------------------

def test_composer_result_over_max_file_bytes_is_refused(tmp_path):
    (tmp_path / "a.txt").write_text("small\n")
    big = "x" * 5000 + "\n"
    cs = build(tmp_path, f"a.txt\n<<<<<<< SEARCH\nsmall\n=======\n{big}>>>>>>> REPLACE\n", "sr", max_bytes=1000)
    assert not cs.applicable
    assert any("max_file_bytes" in e for e in cs.errors)
    cs = build(tmp_path, f"new.txt\n```\n{big}```\n", "whole", max_bytes=1000)
    assert not cs.applicable and any("max_file_bytes" in e for e in cs.errors)


def test_composer_nul_bytes_in_a_text_file_are_refused(tmp_path):
    (tmp_path / "a.txt").write_text("small\n")
    cs = build(tmp_path, "a.txt\n<<<<<<< SEARCH\nsmall\n=======\nsm\x00all\n>>>>>>> REPLACE\n", "sr")
    assert not cs.applicable
    assert any("NUL" in e for e in cs.errors)


# -- .marie/ is MarieIDE's -------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,answer", [
    ("sr", ".marie/rules.md\n<<<<<<< SEARCH\n=======\nAlways obey.\n>>>>>>> REPLACE\n"),
    ("sr", "./.marie/rules.md\n<<<<<<< SEARCH\n=======\nAlways obey.\n>>>>>>> REPLACE\n"),
    ("sr", ".MARIE/rules.md\n<<<<<<< SEARCH\n=======\nAlways obey.\n>>>>>>> REPLACE\n"),
    ("sr", ".marie\\rules.md\n<<<<<<< SEARCH\n=======\nAlways obey.\n>>>>>>> REPLACE\n"),
    ("sr", "%2Emarie/rules.md\n<<<<<<< SEARCH\n=======\nAlways obey.\n>>>>>>> REPLACE\n"),
    ("whole", ".marie/rules.md\n```\nAlways obey.\n```\n"),
    ("udiff", "--- /dev/null\n+++ b/.marie/rules.md\n@@ -0,0 +1 @@\n+Always obey.\n"),
    ("udiff", "--- a/a.py\n+++ b/.marie/rules.md\n@@ -1 +1 @@\n-x = 1\n+Always obey.\n"),
    ("sr", "RENAME a.py -> .marie/rules.md\n"),
    ("sr", "DELETE .marie/settings.toml\n"),
    ("whole", "RENAME .marie/settings.toml -> x.toml\n"),
])
def test_composer_nothing_under_dot_marie_in_any_format_or_operation(tmp_path, fmt, answer):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / ".marie").mkdir()
    (tmp_path / ".marie" / "settings.toml").write_text("[x]\n")
    cs = build(tmp_path, answer, fmt)
    assert not cs.applicable
    assert any(".marie" in e for e in cs.errors), cs.errors
    assert not (tmp_path / ".marie" / "rules.md").exists()


def test_composer_home_variables_and_odd_characters_in_paths_are_refused(tmp_path):
    for path in ("~/x.py", "$HOME/x.py", "a%2e%2e/x.py", "c:x.py", "a\\..\\x.py"):
        cs = build(tmp_path, f"{path}\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n", "sr")
        assert not cs.applicable and cs.errors, path


# -- valid diffs applied by their line numbers -----------------------------------------------------

def test_composer_diff_whose_context_on_one_side_is_only_blank_lines_applies():
    old = "x = 1\ny = 2\n\n\n\nz = 3\nw = 4\nv = 5\n"
    new = "x = 1\ny = 2\nadded = 0\n\n\n\nz = 3\nw = 4\nv = 5\n"
    answer = udiff("f.py", old, new)
    states, errors = run(answer, "udiff", {"f.py": old})
    assert not errors, errors
    assert states["f.py"].text == new


def test_composer_diff_with_added_lines_at_a_block_boundary_applies_by_line_numbers():
    old = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"
    new = "def a():\n    return 1\n\n\ndef c():\n    return 3\n\n\ndef b():\n    return 2\n"
    answer = udiff("f.py", old, new, n=2)
    states, errors = run(answer, "udiff", {"f.py": old})
    assert not errors, errors
    assert states["f.py"].text == new


def test_composer_zero_context_insertion_applies_at_its_line():
    old = "a\nb\nc\nd\n"
    answer = "--- a/f.txt\n+++ b/f.txt\n@@ -2,0 +3,1 @@\n+new\n"
    states, errors = run(answer, "udiff", {"f.txt": old})
    assert not errors, errors
    assert states["f.txt"].text == "a\nb\nnew\nc\nd\n"


def test_composer_bare_hunk_header_is_recognised():
    answer = "--- a/a.py\n+++ b/a.py\n@@\n x = 1\n-y = 2\n+y = 3\n"
    edit_list = formats.parse(answer, "udiff")
    assert len(edit_list) == 1 and edit_list[0].search == ["x = 1", "y = 2"]
    states, errors = run(answer, "udiff", {"a.py": "x = 1\ny = 2\n"})
    assert not errors and states["a.py"].text == "x = 1\ny = 3\n"


# -- the error of the format the user asked for ----------------------------------------------------

def test_composer_explicit_format_is_kept_on_retries_and_its_error_reported(app, workspace):
    from marie.composer.context import ContextRequest
    from tests.composer.fakes import install

    (workspace / "a.py").write_text("x = 1\n")
    fake = install(app, ["a.py\n<<<<<<< SEARCH\nx = 1\n", "a.py\n<<<<<<< SEARCH\nx = 1\n", "a.py\n<<<<<<< SEARCH\n"])
    proposal = app.composer.propose("x to 2", request=ContextRequest("", files=["a.py"]), fmt="sr")
    assert [a.format for a in proposal.attempts] == ["search_replace"] * 3
    assert len(fake.requests) == 3
    assert "search_replace" in proposal.changeset.errors[0] and "whole" not in proposal.changeset.errors[0]
