"""FIM detection per token family (real GGUF files), prompt building, context windows, trimming and
the prefix cache: the pure parts of inline completion."""

from __future__ import annotations

import pytest

from marie.ai.gguf import GGUFError
from marie.completion import context, fim, prompt
from marie.completion.cache import PrefixCache
from marie.completion.trim import is_final, tail_allows_completion, trim
from tests.completion.gguf_files import write_model

EXPECTED = {
    "qwen": "<|fim_prefix|>def f():\n    <|fim_suffix|>\nprint(f())<|fim_middle|>",
    "starcoder": "<fim_prefix>def f():\n    <fim_suffix>\nprint(f())<fim_middle>",
    "deepseek": "<｜fim▁begin｜>def f():\n    <｜fim▁hole｜>\nprint(f())<｜fim▁end｜>",
    "codellama": "▁<PRE> def f():\n     ▁<SUF>\nprint(f()) ▁<MID>",
    "mistral": "[SUFFIX]\nprint(f())[PREFIX]def f():\n    [MIDDLE]",
}


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_fim_prompt_per_token_family_from_a_real_gguf(tmp_path, family):
    fmt = fim.detect(write_model(tmp_path / f"{family}.gguf", family))
    assert fmt is not None and fmt.family == family
    assert fmt.build("def f():\n    ", "\nprint(f())") == EXPECTED[family]
    assert fmt.stops, "each family has end markers that stop the answer"


def test_a_vocabulary_without_fim_tokens_gets_plain_prefix(tmp_path):
    # "fim" and "▁fim" are ordinary tokens there (as in Gemma's vocabulary): not FIM markers
    assert fim.detect(write_model(tmp_path / "plain.gguf", "none")) is None


def test_the_bundled_gemma_has_no_fim_tokens(gemma_path):
    assert fim.detect(gemma_path) is None


def test_a_file_that_is_not_gguf_is_refused_clearly(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(GGUFError, match="not a GGUF"):
        fim.detect(bad)
    assert fim.detect_quietly(bad) is None and fim.detect_quietly(tmp_path / "missing.gguf") is None


def _ctx(text: str, caret: int, **kw) -> context.CompletionContext:
    return context.build(text, caret, "src/app.py", "python", context.Budget(**kw.pop("budget", {})),
                         with_suffix=kw.pop("with_suffix", False), **kw)


def test_prefix_prompt_has_path_and_snippets_as_comments():
    others = [("lib/geometry.py", "def area(width, height):\n    return width * height\n")]
    text = "from lib.geometry import area\n\ndef total(width, height):\n    return area(width, "
    ctx = _ctx(text, len(text), others=others)
    built = prompt.prefix_prompt(ctx)
    assert built.startswith("# Compare this snippet from lib/geometry.py:\n# def area(width, height):\n")
    assert "# Path: src/app.py\n" in built and built.endswith("return area(width,")   # trailing space held back


def test_window_start_moves_in_steps_so_keystrokes_share_the_prompt_head():
    text = "".join(f"line_{i} = {i}\n" for i in range(2000))
    starts = set()
    heads = set()
    caret = len(text)
    for typed in "value = compute(":
        text += typed
        caret += 1
        ctx = _ctx(text, caret, budget={"tokens": 256})
        starts.add(len(ctx.full_prefix) - len(ctx.prefix))
        heads.add(ctx.prefix[:40])
    assert len(starts) == 1 and len(heads) == 1
    assert len(ctx.prefix) <= 256 * context.CHARS_PER_TOKEN


def test_snippets_stay_the_same_while_typing_in_one_region():
    others = [("a.py", "def alpha(x):\n    return x\n"), ("b.py", "def beta(y):\n    return y\n")]
    memo: dict = {}
    text = "def use():\n    alpha("
    first = _ctx(text, len(text), others=others, memo=memo).snippets
    text += "1) + beta("
    assert _ctx(text, len(text), others=others, memo=memo).snippets == first


def test_suffix_only_with_fim_and_within_its_share():
    text = "a = 1\n" + "x" * 5000
    ctx = _ctx(text, 6, with_suffix=True, budget={"tokens": 100})
    assert 0 < len(ctx.suffix) <= int(100 * context.CHARS_PER_TOKEN * 0.25) + 1
    assert _ctx(text, 6).suffix == ""


@pytest.mark.parametrize("answer, before, rest, following, shown", [
    ("x + 1\n    print(x)\n", "    return ", "", "", "x + 1"),                       # statement done
    ("(a, b):\n    return a + b\n\nclass Foo:", "def add", "", "", "(a, b):\n    return a + b"),  # blank line
    ("{\n  a: 1,\n}\nfoo()", "const x = ", "", "", "{\n  a: 1,\n}"),                    # balanced block
    ("\n    a,\n    b,\n)\nzzz", "x = foo(", "", "", "\n    a,\n    b,\n)"),
    ("b, c)", "foo(a, ", ")", "", "b, c"),                                          # never repeat ")"
    ("b, c):\n    pass", "def f(a, ", "):", "", "b, c"),
    ("   \n  ", "x = ", "", "", ""),                                               # whitespace only
    ("return 1", "    ", "", "    return 1\n", ""),                                  # copy of the next line
    ("if x:\n        y()\n    z()\nw()", "    ", "", "", "if x:\n        y()"),          # dedent ends the block
])
def test_trimming(answer, before, rest, following, shown):
    assert trim(answer, before, rest, following) == shown


def test_trim_keeps_at_most_max_lines():
    answer = "(x):\n" + "".join(f"    a{i} = {i}\n" for i in range(20))
    assert trim(answer, "def f", "", "", max_lines=4).count("\n") == 3


def test_generation_may_stop_once_the_answer_is_settled():
    assert is_final("x + 1\n", "    return ", "")
    assert not is_final("x + 1", "    return ", "")
    assert not is_final("(a):\n    return 1\n", "def f", "")
    assert is_final("(a):\n    return 1\nfoo\n", "def f", "")


def test_mid_line_completion_only_before_closers():
    assert tail_allows_completion("") and tail_allows_completion("):") and tail_allows_completion('")')
    assert not tail_allows_completion(" + y)")


def test_cache_serves_typing_through_backspace_retype_and_partial_accept():
    cache = PrefixCache(size=4)
    cache.put("a.py", "x = foo(", "", "1, 2)")
    assert cache.get("a.py", "x = foo(", "") == "1, 2)"
    assert cache.get("a.py", "x = foo(1", "") == ", 2)"           # typed through / accepted a word
    assert cache.get("a.py", "x = foo(1, 2)", "") is None          # nothing left
    assert cache.get("a.py", "x = foo(9", "") is None              # typed something else
    assert cache.get("b.py", "x = foo(", "") is None               # another document
    assert cache.get("a.py", "x = foo(", ")") is None              # other text after the caret
    for i in range(5):
        cache.put("a.py", f"p{i}", "", "s")
    assert cache.get("a.py", "x = foo(", "") is None               # evicted (LRU of 4)


def test_trailing_spaces_are_held_back_from_the_prompt_and_taken_off_the_answer():
    text = "x = compute(a, "
    ctx = _ctx(text, len(text))
    assert prompt.held_whitespace(ctx) == " " and prompt.prefix_prompt(ctx).endswith("compute(a,")
    assert prompt.heal(" b)", " ") == "b)" and prompt.heal("b)", " ") == "b)"
    assert prompt.heal("\n    y", " ") == "\n    y"
