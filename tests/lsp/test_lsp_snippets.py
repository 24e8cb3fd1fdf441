"""LSP snippet syntax (marie.lsp.snippets): tab stops, placeholders, nesting, mirrors, choices,
variables, escapes; a Hypothesis round trip from a snippet tree to its syntax and back."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from marie.lsp.snippets import Snippet, Stop, escape, expand, parse


def stops(snippet: Snippet) -> list[tuple[int, str]]:
    return [(s.number, snippet.text[s.start:s.end]) for s in snippet.stops]


def test_tab_stops_placeholders_and_the_final_stop():
    s = parse("greet(${1:name}, $2)$0")
    assert s.text == "greet(name, )" and s.numbers() == [1, 2, 0]
    assert s.stops == (Stop(1, 6, 10), Stop(2, 12, 12), Stop(0, 13, 13))
    assert s.first_selection() == (6, 10) and s.final() == 13
    no_zero = parse("f(${1:x})")
    assert no_zero.numbers() == [1] and no_zero.final() == len("f(x)")   # the end is the final stop


def test_nested_placeholders_and_mirrors():
    s = parse("for ${1:i} in ${2:range(${3:n})}: print($1)")
    assert s.text == "for i in range(n): print(i)"
    assert stops(s) == [(1, "i"), (2, "range(n)"), (3, "n"), (1, "i")]
    assert [(o.start, o.end) for o in s.occurrences(1)] == [(4, 5), (25, 26)]
    # a mirror before its placeholder still copies the default; the default's holder is primary
    early = parse("$1 = ${1:value}")
    assert early.text == "value = value" and early.occurrences(1)[0] == Stop(1, 8, 13)
    empty_first = parse("$1 + ${1:x}")
    assert empty_first.occurrences(1)[0].start == 4    # the one holding the default comes first
    assert parse("${1:a ${1:b}}").text == "a b"        # self-nesting: no endless recursion
    assert parse("${1:x$1}").text == "x"


def test_choices_keep_the_first_option_and_list_all():
    s = parse("${1|one,two,three|} ${2|a\\,b,c\\|d|}")
    assert s.text == "one a,b"
    assert s.stops[0].choices == ("one", "two", "three") and s.stops[1].choices == ("a,b", "c|d")
    assert expand("${1|one,two|} x") == ("one x", 0, 3)


def test_escapes_and_literal_dollars():
    assert parse("a\\$b \\} \\\\ \\n").text == "a$b } \\ \\n"    # only $, } and \ are escapable
    assert parse("cost: $ 5 ${ {}").text == "cost: $ 5 ${ {}"
    assert parse("${1:unclosed").text == "${1:unclosed" and parse("${1:unclosed").stops == ()
    assert parse("${1|no end").text == "${1|no end"
    assert parse("a}b").text == "a}b"                               # a stray brace is text


def test_variables_resolve_default_or_nothing():
    assert parse("$TM_FILENAME:${TM_LINE_NUMBER}", {"TM_FILENAME": "a.py"}).text == "a.py:"
    s = parse("${UNKNOWN:${1:fallback}}!")
    assert s.text == "fallback!" and stops(s) == [(1, "fallback")]
    assert parse("${TM_FILENAME/(.*)\\.py/${1:/upcase}/g}x", {"TM_FILENAME": "m.py"}).text == "m.pyx"


def test_indented_snippets_shift_their_stops():
    s = parse("if ${1:cond}:\n    ${2:pass}\n$0").indented("    ")
    assert s.text == "if cond:\n        pass\n    "
    assert stops(s) == [(1, "cond"), (2, "pass"), (0, "")]
    assert s.final() == len(s.text)


def test_expand_keeps_its_old_contract():
    assert expand("greet(${1:name})$0") == ("greet(name)", 6, 10)
    assert expand("print($0)") == ("print()", 6, 6)
    assert expand("plain") == ("plain", 5, 5)


# -- round trip ----------------------------------------------------------------------------------
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
CHOICE = st.text(alphabet="ab,|$}\\é{", min_size=0, max_size=4)


def tree(depth: int = 3):
    leaf = st.one_of(TEXT.map(lambda t: ("text", t)), st.just(("stop",)),
                     st.lists(CHOICE, min_size=1, max_size=3).map(lambda c: ("choice", c)))
    if depth == 0:
        return st.lists(leaf, max_size=4)
    return st.lists(st.one_of(leaf, tree(depth - 1).map(lambda kids: ("placeholder", kids))), max_size=4)


def serialise(nodes: list, counter: list[int]) -> tuple[str, str, list[tuple[int, int, int, tuple]]]:
    """(snippet syntax, expected text, expected stops) with every stop numbered uniquely."""
    syntax, text, found = [], "", []
    for node in nodes:
        if node[0] == "text":
            syntax.append(escape(node[1]))
            text += node[1]
            continue
        counter[0] += 1
        number, start = counter[0], len(text)
        if node[0] == "stop":
            syntax.append(f"${{{number}}}")
            found.append((number, start, start, ()))
        elif node[0] == "choice":
            options = [o.replace("\\", "\\\\").replace(",", "\\,").replace("|", "\\|").replace("$", "\\$")
                       .replace("}", "\\}") for o in node[1]]
            syntax.append(f"${{{number}|{','.join(options)}|}}")
            text += node[1][0]
            found.append((number, start, len(text), tuple(node[1])))
        else:
            inner_syntax, inner_text, inner = serialise(node[1], counter)
            syntax.append(f"${{{number}:{inner_syntax}}}")
            text += inner_text
            found.append((number, start, len(text), ()))
            found.extend((n, a + start, b + start, c) for n, a, b, c in inner)
    return "".join(syntax), text, found


@settings(max_examples=300, deadline=None)
@given(tree())
def test_round_trip_from_a_snippet_tree(nodes):
    syntax, text, expected = serialise(nodes, [0])
    parsed = parse(syntax)
    assert parsed.text == text
    assert sorted((s.number, s.start, s.end, s.choices) for s in parsed.stops) == sorted(expected)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_text_inserts_itself(text):
    assert parse(escape(text)) == Snippet(text, ())


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="${}:|,\\/0123abé_", max_size=30))
def test_any_input_parses_to_stops_inside_the_text(raw):
    parsed = parse(raw)
    for stop in parsed.stops:
        assert 0 <= stop.start <= stop.end <= len(parsed.text)
    start, end = parsed.first_selection()
    assert 0 <= start <= end <= len(parsed.text)
