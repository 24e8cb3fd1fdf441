"""Indentation detection (marie.text.indentation): tabs vs spaces and the width, from file text."""

from __future__ import annotations

import textwrap

import pytest

from marie.text.indentation import Indentation, detect


def _python(unit: str) -> str:
    """A small Python module indented with ``unit`` per level."""
    body = textwrap.dedent('''\
        import os


        class Store:
            """Keeps things."""

            def __init__(self, root):
                self.root = root
                if root:
                    for name in os.listdir(root):
                        if name.startswith("."):
                            continue
                        self.add(name)

            def add(self, name):
                try:
                    self.items.append(name)
                except AttributeError:
                    self.items = [name]
        ''')
    return "".join(line.replace("    ", unit) + "\n" for line in body.splitlines())


@pytest.mark.parametrize("width", [2, 4, 8])
def test_spaces_width_is_found(width):
    found = detect(_python(" " * width))
    assert (found.use_tabs, found.indent_size) == (False, width)
    assert found.tab_lines == 0 and found.space_lines > 10


def test_tabs_are_found_and_give_no_width():
    found = detect(_python("\t"))
    assert found.use_tabs is True and found.indent_size is None
    assert found.space_lines == 0 and found.tab_lines > 10


def test_javascript_two_spaces_with_braces_and_callbacks():
    text = textwrap.dedent("""\
        describe("store", function () {
          it("adds", () => {
            const s = new Store({
              root: "/tmp",
            });
            if (s.ok) {
              s.add("x");
            }
          });
        });
        """)
    assert detect(text) == Indentation(False, 2, 0, 8)


def test_one_line_and_flat_files_decide_nothing():
    for text in ("x = 1\n", "x = 1", "", "\n\n\n", "a\nb\nc\n", "   \n\t\n"):
        found = detect(text)
        assert found == Indentation() and not found.known, repr(text)


def test_mixed_file_goes_with_the_majority():
    tabs_mostly = "def f():\n\treturn 1\n\ndef g():\n\tif x:\n\t\treturn 2\n\ndef h():\n    return 3\n"
    found = detect(tabs_mostly)
    assert found.use_tabs is True and (found.tab_lines, found.space_lines) == (3, 1)
    spaces_mostly = _python("  ") + "def stray():\n\treturn 0\n"
    found = detect(spaces_mostly)
    assert (found.use_tabs, found.indent_size) == (False, 2)


def test_a_tie_between_tabs_and_spaces_decides_nothing_about_tabs():
    found = detect("a:\n\tb\nc:\n    d\n")
    assert found.use_tabs is None and found.indent_size == 4


def test_docstrings_do_not_vote():
    # a 2-space file whose docstrings hold an example nested by 4 columns a level
    doc = '  """Example::\n\n      a\n          b\n              c\n                  d\n  """\n'
    text = "def f():\n" + doc + "  return 1\n\n" + "def g():\n" + doc + "  if x:\n    return 2\n"
    assert detect(text).indent_size == 2
    # the same layout outside a string would make it look like 4
    assert detect(text.replace('"""', "#  ")).indent_size != 2


def test_continuation_lines_do_not_vote():
    # 4-space code with PEP 8 hanging indents (8) and arguments aligned with the bracket (odd
    # widths): counted as indentation, the hanging indents alone would outvote 4 with 8
    fn = textwrap.dedent("""\
        def long_function_name{n}(
                var_one, var_two,
                var_three):
            print(var_one)


        def other{n}(a,
                     b,
                     c):
            return call(a,
                        b)

        """)
    text = "".join(fn.format(n=n) for n in range(4)) + textwrap.dedent("""\
        class K:
            values = [
                1, 2,
            ]
            def m(self):
                return 1
        """)
    found = detect(text)
    assert (found.use_tabs, found.indent_size, found.space_lines) == (False, 4, 33)


def test_block_comment_alignment_does_not_vote():
    text = "/**\n * Doc.\n * More.\n */\nint f() {\n    return 1;\n}\nint g() {\n    return 2;\n}\n"
    assert detect(text).indent_size == 4


def test_two_wins_over_occasional_four():
    text = "a:\n  b:\n    c\n  d:\n    e\n  f:\n      g\n"   # 2,2,2 and one 4
    assert detect(text).indent_size == 2


def test_only_the_head_of_a_big_file_is_read():
    head = _python("  ") * 20                       # ~260 lines indented with spaces
    text = head + "".join("\ty\n" for _ in range(20_000))
    assert detect(text, max_lines=200).use_tabs is False
    assert detect(text, max_chars=len(head) + 10).use_tabs is False
    assert detect(text).use_tabs is True            # the first 10,000 lines are mostly tabs
